"""``deid ner evaluate``: score a model or the detection pipeline against gold spans."""

from __future__ import annotations

import click

from deid.cli._common import domain_errors


@click.command(
    "evaluate",
    epilog=(
        "Example: deid ner evaluate models/deid-ner-minilm ../shared/data/physionet_deid/physionet_dev.jsonl "
        "--out runs/eval/model.json"
    ),
)
@click.argument("model_or_pipeline")
@click.argument("data", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write the scores as JSON here.")
@click.option(
    "--label-map",
    default="auto",
    show_default=True,
    help="Gold label map: auto (wnut for CoNLL, physionet for JSONL), physionet, wnut or identity.",
)
@click.option(
    "--threshold", type=float, help="Model only: decode with P(O) < THRESHOLD instead of the stored one."
)
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "bf16", "int8"]),
    help="Model arithmetic (alone: default fp32; pipeline: default the config's, auto).",
)
@click.option("--max-docs", type=int, help="Evaluate the first N documents only.")
@click.option(
    "--predictions-out",
    type=click.Path(dir_okay=False),
    help="Also write the predicted spans as spans JSONL (offsets and labels only).",
)
@click.option("--overwrite", is_flag=True, help="Replace existing --out / --predictions-out files.")
@domain_errors
def evaluate(
    model_or_pipeline: str,
    data: str,
    out_path: str | None,
    label_map: str,
    threshold: float | None,
    precision: str | None,
    max_docs: int | None,
    predictions_out: str | None,
    overwrite: bool,
) -> None:
    """Score MODEL_OR_PIPELINE against the gold spans in DATA (spans JSONL or CoNLL).

    MODEL_OR_PIPELINE is a model directory, 'pipeline' (the default detection config),
    'pipeline:CONFIG.yaml' or a .yaml config, 'presidio-spacy' (baseline), 'spacy', or a predictions
    .jsonl file. Prints entity-level P/R/F1/F2 (overlap and exact) per type, the leak rate (share of
    gold PII characters no prediction covers), char-level precision and the documents that leak.
    """
    import json
    from pathlib import Path

    from deid.errors import OutputError
    from deid.ner.evaluate import evaluate_predictor, load_gold, resolve_predictor
    from deid.ner.metrics import format_table

    for target in (out_path, predictions_out):
        if target and Path(target).exists() and not overwrite:
            raise OutputError(f"{target} exists; pass --overwrite to replace it")

    def write_atomically(target: str, text: str) -> None:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".deid-tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    docs = load_gold(data, label_map=label_map, max_docs=max_docs)
    predictor = resolve_predictor(model_or_pipeline, o_threshold=threshold, precision=precision)
    result = evaluate_predictor(predictor, docs, data_name=data)
    click.echo(
        format_table(
            result.scores,
            title=f"{result.predictor} on {data} ({len(docs)} documents, {result.seconds:.1f}s)",
        )
    )
    if out_path:
        write_atomically(out_path, json.dumps(result.as_dict(), indent=2) + "\n")
        click.echo(f"wrote {out_path}")
    if predictions_out:
        lines = [
            json.dumps({"id": doc.id, "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]})
            for doc, spans in zip(docs, result.predictions, strict=True)
        ]
        write_atomically(predictions_out, "".join(line + "\n" for line in lines))
        click.echo(f"wrote {predictions_out}")
