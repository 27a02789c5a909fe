"""PhysioNet dev: deid (model alone, and the whole pipeline) against Presidio + spaCy, in one run.

Prints, per predictor, the leak rate (share of gold PII characters no predicted span covers,
label-agnostic), char-level precision, documents leaking, and entity-level overlap F1; then checks
the issue's target: the pipeline leaves < 5% of gold PII characters uncovered with char precision
>= 0.85 and beats Presidio + spaCy on both.

Usage:
    python eval/physionet_vs_presidio.py [--model models/deid-ner-minilm] [--config configs/ner/pipeline-clinical.yaml]
        [--dev $DEID_DATA_DIR/physionet_deid/physionet_dev.jsonl] [--out runs/eval/physionet_vs_presidio.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deid._offline import ensure_offline  # noqa: E402
from deid.ner.config import resolve_data_dir  # noqa: E402

ensure_offline()

from deid.ner.evaluate import (  # noqa: E402
    evaluate_predictor,
    load_gold,
    model_predictor,
    pipeline_predictor,
    presidio_spacy_predictor,
)
from deid.ner.metrics import ANY, format_table  # noqa: E402

DEV = str(resolve_data_dir(base=Path(__file__)) / "physionet_deid/physionet_dev.jsonl")
TARGET_LEAK, TARGET_PRECISION = 0.05, 0.85


def main() -> int:
    """Run the comparison; exit 0 when the pipeline meets the target and beats the baseline."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="models/deid-ner-minilm")
    parser.add_argument(
        "--config", default=None, help="deid config for the pipeline (default: the checkout's)"
    )
    parser.add_argument("--dev", default=DEV)
    parser.add_argument("--out", default="runs/eval/physionet_vs_presidio.json")
    parser.add_argument("--tables", action="store_true", help="also print the per-type tables")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(2)

    docs = load_gold(args.dev, label_map="physionet")
    predictors = [
        ("presidio+spacy (as shipped)", lambda: presidio_spacy_predictor(score_threshold=0.0)),
        ("presidio+spacy (score>=0.4)", lambda: presidio_spacy_predictor(score_threshold=0.4)),
        ("deid model alone", lambda: model_predictor(args.model)),
        (
            "deid pipeline (patterns+model)",
            lambda: pipeline_predictor(args.config, transformer_model=args.model),
        ),
    ]
    rows, results = [], {}
    for label, build in predictors:
        try:
            result = evaluate_predictor(build(), docs, data_name=args.dev)
        except Exception as exc:  # report what could not run, keep the others
            print(f"{label}: could not run ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        s = result.scores
        results[label] = result.as_dict()
        rows.append(
            (
                label,
                s.leak_rate,
                s.char_precision,
                s.docs_leaking,
                s.docs_with_gold,
                s.entity["overlap"][ANY].f_beta(1),
                result.seconds,
            )
        )
        if args.tables:
            print(format_table(s, title=f"\n{label}"))
    print(f"\nPhysioNet dev ({len(docs)} notes)")
    print(f"{'predictor':<34}{'leak rate':>10}{'char P':>9}{'docs leaking':>14}{'ent F1':>8}{'seconds':>9}")
    for label, leak, prec, leaking, with_gold, f1, secs in rows:
        print(f"{label:<34}{leak:>10.4f}{prec:>9.4f}{f'{leaking}/{with_gold}':>14}{f1:>8.3f}{secs:>9.1f}")
    ok = True
    pipeline = results.get("deid pipeline (patterns+model)")
    baselines = [v for k, v in results.items() if k.startswith("presidio")]
    if pipeline and baselines:
        leak, prec = pipeline["char"]["leak_rate"], pipeline["char"]["char_precision"]
        beats = all(leak < b["char"]["leak_rate"] and prec > b["char"]["char_precision"] for b in baselines)
        ok = leak < TARGET_LEAK and prec >= TARGET_PRECISION and beats
        print(
            f"\ntarget (pipeline leak < {TARGET_LEAK}, char precision >= {TARGET_PRECISION}, beats Presidio+spaCy "
            f"on both): {'MET' if ok else 'NOT MET'}"
        )
    else:
        ok = False
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
