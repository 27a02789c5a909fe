"""Build the shipped sample corpus in samples/ (deterministic for a seed).

Writes samples/notes.parquet, samples/notes.csv (the same rows), samples/notes.gold.jsonl (gold spans
for every non-empty text cell) and samples/README.md, and prints label counts. All PII is synthetic
(Faker). The output is byte-identical for the same seed and Faker version.

Usage: python scripts/make_sample.py [--rows 300] [--patients 60] [--seed 20240501] [--out samples]
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import json
import os
import random
from pathlib import Path
from typing import Any

import faker
import pyarrow as pa
import pyarrow.parquet as pq

from deid.ner.synth import SyntheticGenerator

# Note styles in the corpus and the departments that write them.
STYLE_WEIGHTS = {"clinical_note": 4, "nursing_note": 2, "email": 3, "ticket": 2, "form": 2, "chat": 1}
DEPARTMENTS = {
    "clinical_note": ("Cardiology", "Internal Medicine", "Oncology", "Emergency"),
    "nursing_note": ("ICU", "CCU", "Nursing"),
    "email": ("Patient Relations", "Internal Medicine", "Billing"),
    "ticket": ("IT Support", "Billing"),
    "form": ("Registration", "Billing"),
    "chat": ("Nursing", "ICU"),
}
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("patient_id", pa.string()),
        ("created_at", pa.timestamp("s")),
        ("department", pa.string()),
        ("priority", pa.int64()),
        ("note", pa.string()),
        ("comment", pa.string()),
        # Structured identifiers of the note's patient (the same person the note names), for deid scan
        # and column policies; drawn from the patient record, so the notes and gold spans are unchanged.
        ("patient_name", pa.string()),
        ("dob", pa.date32()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("mrn", pa.int64()),
        ("zip", pa.string()),
    ]
)

README = """# Sample corpus

A small, fully synthetic corpus for demos, tests and benchmarks. **All personal data in it is fake**,
made with [Faker](https://faker.readthedocs.io) by deid's synthetic generator (`deid/ner/synth.py`);
any resemblance to a real person, card or account is chance.

| file | content |
| --- | --- |
| `notes.parquet` | {rows} rows, the table below (`created_at` is a timestamp) |
| `notes.csv` | the same rows (`created_at` and `dob` as ISO-8601 strings, a null `comment` as an empty cell) |
| `notes.gold.jsonl` | gold PII spans: one line per row and non-empty text cell ({cells} lines) |

## Columns
| column | type | content |
| --- | --- | --- |
| `id` | string | row id, `N0001`... |
| `patient_id` | string | subject id; {patients} patients, so several notes share a subject |
| `created_at` | timestamp[s] | when the note was written (2023) |
| `department` | string | department that wrote it |
| `priority` | int64 | 1 to 5 |
| `note` | string | long free text: clinical note, upper-case nursing note, e-mail, support ticket, form or chat |
| `comment` | string | short free text, often empty, sometimes with PII |
| `patient_name` | string | the patient's name, as the notes write it (`Heather Nielsen`) |
| `dob` | date32 | the patient's date of birth |
| `email` | string | the patient's e-mail address |
| `phone` | string | the patient's phone number, in one of several written forms |
| `mrn` | int64 | the patient's medical record number |
| `zip` | string | the patient's 5-digit ZIP code |

The structured columns are not in the gold file: each cell is wholly one identifier
(`deid scan` finds them; a column policy transforms them).

Gold lines look like
`{{"id": "N0001", "column": "note", "text": "...", "spans": [{{"start": 0, "end": 5, "label": "PERSON"}}]}}`;
offsets are Python string indices into `text`, end exclusive. Labels are Presidio entity names plus
`ID` (MRN, account, member and ticket numbers). Only the identifying value is labelled: titles
("Dr.", "Mrs") and context words ("age", "MRN") are outside the spans. Drug names, eponymous diseases
("Parkinson's disease"), vitals, lab values, ventilator settings, durations and clock times appear
unlabelled on purpose. Pager extensions such as `x4321` are labelled PHONE_NUMBER although no
pattern recognizer is expected to find them.

## How it was made
```
python scripts/make_sample.py --rows {rows} --patients {patients} --seed {seed}
```
with Faker {faker}. The same seed and Faker version give byte-identical CSV, gold and README files
(a test checks this).

## Gold label counts
| label | spans |
| --- | --- |
{counts}
"""


def build_rows(rows: int, patients: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the table rows and the gold records (one per row and non-empty text column)."""
    rng = random.Random(seed)
    gen = SyntheticGenerator(seed=seed)
    people = [gen.new_person() for _ in range(patients)]
    patient_ids = [f"P{rng.randint(100000, 999999)}" for _ in range(patients)]
    styles = [s for s, w in STYLE_WEIGHTS.items() for _ in range(w)]
    start = dt.datetime(2023, 1, 1)
    table: list[dict[str, Any]] = []
    gold: list[dict[str, Any]] = []
    for i in range(rows):
        row_id = f"N{i + 1:04d}"
        # Every patient gets at least one note; the rest are spread at random.
        p = i if i < patients else rng.randrange(patients)
        style = rng.choice(styles)
        note = gen.document(style, patient=people[p])
        comment = gen.comment(patient=people[p]) if rng.random() < 0.75 else None
        created = start + dt.timedelta(seconds=rng.randrange(365 * 24 * 3600))
        table.append(
            {
                "id": row_id,
                "patient_id": patient_ids[p],
                "created_at": created,
                "department": rng.choice(DEPARTMENTS[style]),
                "priority": rng.randint(1, 5),
                "note": note["text"],
                "comment": comment["text"] if comment else None,
                "patient_name": f"{people[p].first} {people[p].last}",
                "dob": people[p].dob,
                "email": people[p].email,
                "phone": people[p].phone,
                "mrn": int(people[p].mrn),
                "zip": people[p].zipcode,
            }
        )
        gold.append({"id": row_id, "column": "note", "text": note["text"], "spans": note["spans"]})
        if comment:
            gold.append(
                {"id": row_id, "column": "comment", "text": comment["text"], "spans": comment["spans"]}
            )
    table.sort(key=lambda r: r["id"])
    return table, gold


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_sample(out: Path, rows: int, patients: int, seed: int) -> collections.Counter[str]:
    """Write the sample files into ``out``; return the label counts of the gold spans."""
    out.mkdir(parents=True, exist_ok=True)
    table, gold = build_rows(rows, patients, seed)

    arrow = pa.Table.from_pylist(table, schema=SCHEMA)
    _atomic_write(out / "notes.parquet", lambda p: pq.write_table(arrow, p, compression="zstd"))

    def write_csv(p: Path) -> None:
        with open(p, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(SCHEMA.names)
            for r in table:
                w.writerow(
                    [
                        r["id"],
                        r["patient_id"],
                        r["created_at"].isoformat(),
                        r["department"],
                        r["priority"],
                        r["note"],
                        r["comment"] or "",
                        r["patient_name"],
                        r["dob"].isoformat(),
                        r["email"],
                        r["phone"],
                        r["mrn"],
                        r["zip"],
                    ]
                )

    _atomic_write(out / "notes.csv", write_csv)

    def write_gold(p: Path) -> None:
        with open(p, "w", encoding="utf-8", newline="\n") as fh:
            for g in gold:
                fh.write(json.dumps(g, ensure_ascii=False) + "\n")

    _atomic_write(out / "notes.gold.jsonl", write_gold)
    counts = collections.Counter(s["label"] for g in gold for s in g["spans"])
    readme = README.format(
        rows=rows,
        patients=patients,
        seed=seed,
        faker=faker.VERSION,
        cells=len(gold),
        counts="\n".join(
            f"| {label} | {n} |" for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
    )
    _atomic_write(out / "README.md", lambda p: p.write_text(readme, encoding="utf-8"))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "samples")
    args = parser.parse_args()
    counts = write_sample(args.out, args.rows, args.patients, args.seed)
    for label, count in counts.most_common():
        print(f"{label:20s} {count}")
    total = sum((args.out / f).stat().st_size for f in ("notes.parquet", "notes.csv", "notes.gold.jsonl"))
    print(f"total size {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
