"""``deid ner synth``: write synthetic PII documents as spans JSONL."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli._common import domain_errors

# Kept in step with deid.ner.synth.STYLES (a test checks); importing it here would slow `deid --help`.
_STYLES = (
    "clinical_note",
    "nursing_note",
    "email",
    "chat",
    "ticket",
    "form",
    "referral_letter",
    "hr_letter",
    "insurance_letter",
    "news",
    "social",
    "signature_email",
    "loan_agreement",
    "bio",
    "support_chat",
)


def write_synthetic_jsonl(out: Path, *, n: int, seed: int, styles: list[str] | None, overwrite: bool) -> int:
    """Write ``n`` synthetic documents to ``out`` as spans JSONL, atomically.

    Args:
        out: the JSONL file to write.
        n: number of documents.
        seed: generator seed.
        styles: subset of styles, or None for all.
        overwrite: replace an existing ``out``.

    Returns:
        The number of documents written.

    Raises:
        OutputError: ``out`` exists and ``overwrite`` is false, or it cannot be written.
        ConfigError: bad ``n`` or style.
    """
    import json
    import os
    import tempfile

    from deid.errors import OutputError
    from deid.ner.synth import generate_documents

    if out.exists() and not overwrite:
        raise OutputError(f"{out} exists; pass --overwrite to replace it")
    if out.is_dir():
        raise OutputError(f"{out} is a directory")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"directory {parent} does not exist")
    docs = generate_documents(n, seed=seed, styles=styles)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for doc in docs:
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
                count += 1
        os.replace(tmp_name, out)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise OutputError(f"cannot write {out}: {exc.strerror}") from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return count


@click.command(
    "synth",
    epilog="Example: deid ner synth --n 2000 --seed 7 --style email --out synth.jsonl",
)
@click.option(
    "--n", "n", type=click.IntRange(min=0), default=1000, show_default=True, help="Number of documents."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed; the same seed gives the same file."
)
@click.option(
    "--style",
    "styles",
    multiple=True,
    type=click.Choice(_STYLES),
    help="Document style (repeatable); default: all styles in turn.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output spans JSONL file.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@domain_errors
def synth(n: int, seed: int, styles: tuple[str, ...], out: Path, overwrite: bool) -> None:
    """Generate synthetic PII documents (Faker) with exact gold spans as spans JSONL.

    Each line is {"id", "text", "spans": [{"start", "end", "label"}], "style"}; labels are
    Presidio entity names plus ID. All values are synthetic.
    """
    count = write_synthetic_jsonl(out, n=n, seed=seed, styles=list(styles) or None, overwrite=overwrite)
    click.echo(f"wrote {count} documents to {out}", err=True)
