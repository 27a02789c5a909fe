"""``deid mlm adapt``: continued masked-language-model pretraining of the base encoder."""

from __future__ import annotations

from pathlib import Path

import click

from deid.classify._cli_common import set_threads, threads_option
from deid.cli._common import domain_errors


@click.command(
    "adapt",
    epilog="Example: deid mlm adapt corpus.parquet --text-column note --out models/minilm-notes --max-steps 1000",
)
@click.argument("corpus", type=click.Path(path_type=Path))
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Encoder directory to write."
)
@click.option("--text-column", default="text", show_default=True)
@click.option("--base", default=None, help="Encoder to start from (default: the pinned all-MiniLM-L6-v2).")
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Cap on full-model steps.")
@click.option("--lr", type=float, default=5e-5, show_default=True)
@click.option(
    "--head-warmup-steps",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Steps training only the new MLM head first.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option(
    "--max-length", type=click.IntRange(min=8), default=128, show_default=True, help="Tokens per chunk."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out directory.")
@threads_option
@domain_errors
def adapt(
    corpus: Path,
    out_dir: Path,
    text_column: str,
    base: str | None,
    epochs: float,
    max_steps: int | None,
    lr: float,
    head_warmup_steps: int,
    batch_size: int,
    max_length: int,
    seed: int,
    overwrite: bool,
    threads: int | None,
) -> None:
    """Adapt the base encoder to CORPUS's text column; the result loads with AutoModel* and SentenceTransformer."""
    from deid._offline import ensure_offline

    ensure_offline()
    import json

    from deid.classify.data import read_texts
    from deid.errors import OutputError
    from deid.mlm.adapt import adapt_encoder

    set_threads(threads)
    if out_dir.exists() and not overwrite:
        raise OutputError(f"{out_dir}: already exists (use --overwrite)")
    texts = read_texts(corpus, text_column)
    path = adapt_encoder(
        texts,
        out_dir,
        base=base,
        epochs=epochs,
        max_steps=max_steps,
        lr=lr,
        head_warmup_steps=head_warmup_steps,
        batch_size=batch_size,
        max_length=max_length,
        seed=seed,
        overwrite=overwrite,
    )
    info = json.loads((path / "mlm_adapt.json").read_text())
    click.echo(
        f"adapted on {info['n_texts']} texts ({info['steps']} steps, {info['seconds']:.0f}s); held-out MLM loss "
        f"{info['eval_loss_after_warmup']} -> {info['eval_loss_final']} -> {path}"
    )
