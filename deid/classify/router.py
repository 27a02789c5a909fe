"""Training data for the default sensitivity router (``models/deid-router-minilm``).

The default router is a demonstration trained on data we can ship: synthetic documents per tier
(:mod:`deid.classify.synth_tiers`) plus real public text (20 Newsgroups post bodies, headers
stripped) as extra ``public`` examples. Teams should train their own router on their own labels.

Recipe (what built ``models/deid-router-minilm``)::

    python -m deid.classify.router --newsgroups ../shared/data/20newsgroups --out runs/router
    deid classify train --config configs/classify/router.yaml --data runs/router/train.jsonl \
        --dev runs/router/dev.jsonl --out models/deid-router-minilm
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import click

from deid.classify.data import LabelledTexts
from deid.classify.synth_tiers import generate_tier_documents


def newsgroup_bodies(path: Path, n: int, *, seed: int = 0, max_chars: int = 1200) -> list[str]:
    """``n`` 20 Newsgroups post bodies (header block removed, at least 200 characters), seeded."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rng = random.Random(seed)
    rng.shuffle(rows)
    bodies: list[str] = []
    for row in rows:
        body = row["text"].split("\n\n", 1)[-1].strip()
        if len(body) >= 200:
            bodies.append(body[:max_chars])
        if len(bodies) == n:
            break
    return bodies


def build_router_data(
    n_per_tier: int, *, seed: int, newsgroups_file: Path | None = None, n_public_extra: int = 0
) -> LabelledTexts:
    """Synthetic tier documents plus ``n_public_extra`` newsgroup bodies labelled ``public``."""
    synthetic = generate_tier_documents(n_per_tier, seed=seed)
    texts, labels = list(synthetic.texts), list(synthetic.labels)
    if newsgroups_file is not None and n_public_extra:
        extra = newsgroup_bodies(newsgroups_file, n_public_extra, seed=seed)
        texts += extra
        labels += ["public"] * len(extra)
    return LabelledTexts(texts, labels)


def _write_jsonl(data: LabelledTexts, path: Path) -> None:
    with path.open("w") as fh:
        for text, label in zip(data.texts, data.labels, strict=True):
            fh.write(json.dumps({"text": text, "label": label}) + "\n")


@click.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option(
    "--newsgroups",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with 20ng_bydate_{train,test}.jsonl.",
)
@click.option("--per-tier", type=int, default=150, show_default=True)
@click.option("--public-extra", type=int, default=100, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def main(out_dir: Path, newsgroups: Path | None, per_tier: int, public_extra: int, seed: int) -> None:
    """Write train.jsonl and dev.jsonl for the default router (dev: other seeds, newsgroup test split)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    train_ng = newsgroups / "20ng_bydate_train.jsonl" if newsgroups else None
    dev_ng = newsgroups / "20ng_bydate_test.jsonl" if newsgroups else None
    train = build_router_data(per_tier, seed=seed, newsgroups_file=train_ng, n_public_extra=public_extra)
    dev = build_router_data(
        max(per_tier // 3, 1), seed=seed + 1000, newsgroups_file=dev_ng, n_public_extra=public_extra // 3
    )
    _write_jsonl(train, out_dir / "train.jsonl")
    _write_jsonl(dev, out_dir / "dev.jsonl")
    click.echo(f"train: {len(train)} documents, dev: {len(dev)} documents -> {out_dir}")


if __name__ == "__main__":
    main()
