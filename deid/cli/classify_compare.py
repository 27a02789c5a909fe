"""``deid classify compare``: train several methods on one split at several label budgets."""

from __future__ import annotations

from pathlib import Path

import click

from deid.classify._cli_common import parse_params, set_threads, threads_option, write_json
from deid.cli._common import domain_errors


@click.command(
    "compare",
    epilog="Example: deid classify compare --data train.jsonl --test test.jsonl --text-column text "
    "--label-column label --shots 8,16,all --methods supervised,setfit,mlm-supervised,mlm-setfit --out compare.json",
)
@click.option(
    "--data", "data_path", required=True, type=click.Path(path_type=Path), help="Labelled training pool."
)
@click.option(
    "--test",
    "test_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Held-out documents (default: split --test-fraction off --data).",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(0.05, 0.9),
    default=0.2,
    show_default=True,
    help="Stratified test share when --test is not given.",
)
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True)
@click.option(
    "--labels",
    "keep_labels",
    default=None,
    help="Comma-separated labels to keep (others are dropped), e.g. 4 of the 20 newsgroups.",
)
@click.option(
    "--label-map",
    default=None,
    metavar="LABEL=CLASS,...",
    help="Rename labels after --labels selects them (e.g. sci.med=restricted), as `classify train` does.",
)
@click.option(
    "--shots",
    "shots_spec",
    default="8,16,all",
    show_default=True,
    help="Examples per class; 'all' = every label up to --max-train.",
)
@click.option(
    "--methods",
    default="tfidf,zero-shot,frozen,pii-aware,setfit,supervised,mlm-setfit,mlm-supervised",
    show_default=True,
    help="Comma-separated methods (registered names).",
)
@click.option(
    "--calibration",
    type=click.Choice(["auto", "cv", "none"]),
    default="auto",
    show_default=True,
    help="Cross-validated calibration after each fit when the labels are tiers (its time counts as training time).",
)
@click.option(
    "--tiers",
    "tiers_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Tiers YAML; when every label is a tier, rows add scores after the fail-safe.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--max-train",
    type=click.IntRange(min=2),
    default=2000,
    show_default=True,
    help="Cap on the 'all' training set (stratified), to keep CPU runs in minutes.",
)
@click.option(
    "--max-test",
    type=click.IntRange(min=2),
    default=2000,
    show_default=True,
    help="Cap on the test set (stratified).",
)
@click.option(
    "--unlabelled",
    "unlabelled_path",
    type=click.Path(path_type=Path),
    default=None,
    help="MLM corpus (default: the training pool's texts).",
)
@click.option(
    "--max-unlabelled",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Cap on the MLM corpus.",
)
@click.option(
    "--mlm-max-steps",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="MLM adaptation steps (after the head warm-up).",
)
@click.option(
    "--mlm-head-warmup-steps",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Steps that train only the new MLM head before the encoder.",
)
@click.option(
    "--mlm-lr", type=float, default=2e-5, show_default=True, help="MLM learning rate of the encoder."
)
@click.option(
    "--max-length",
    type=click.IntRange(min=8),
    default=None,
    help="Tokens per document for every method (default: each method's own, 128 supervised, 256 SetFit).",
)
@click.option(
    "--param",
    "extra",
    multiple=True,
    metavar="METHOD.KEY=VALUE",
    help="Override a method parameter (repeatable), e.g. setfit.max_steps=500.",
)
@click.option("--base", default=None, help="Base encoder directory (default: the pinned all-MiniLM-L6-v2).")
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write rows and metrics as JSON.",
)
@threads_option
@domain_errors
def compare(
    data_path: Path,
    test_path: Path | None,
    test_fraction: float,
    text_column: str,
    label_column: str,
    keep_labels: str | None,
    label_map: str | None,
    shots_spec: str,
    methods: str,
    calibration: str,
    tiers_path: Path | None,
    seed: int,
    max_train: int,
    max_test: int,
    unlabelled_path: Path | None,
    max_unlabelled: int,
    mlm_max_steps: int,
    mlm_head_warmup_steps: int,
    mlm_lr: float,
    max_length: int | None,
    extra: tuple[str, ...],
    base: str | None,
    out_path: Path | None,
    threads: int | None,
) -> None:
    """Train each method at each label budget on the same samples, evaluate on one test set, print a table.

    Columns: method, shots, training examples, macro-F1, accuracy, training seconds (fit plus
    calibration), optimisation steps of the fine-tuned methods, and for mlm-* the seconds of the
    (shared, once per run) MLM adaptation. Under the table, the caps the run applied for CPU ('all'
    = at most --max-train labels, the test set, steps per method). When every
    label is a tier, also macro-F1 and the goal tier's recall after each method's calibrated
    fail-safe, and the number of test documents it escalated.
    """
    from deid._offline import ensure_offline

    ensure_offline()
    from deid._quiet import quiet_libraries
    from deid.classify.compare import compare_methods as run_compare
    from deid.classify.compare import describe_caps, format_table, parse_shots
    from deid.classify.data import read_labelled, read_texts, stratified_split
    from deid.classify.registry import get_method
    from deid.classify.tiers import load_tiers
    from deid.errors import ConfigError

    set_threads(threads)
    method_list = [m.strip() for m in methods.split(",") if m.strip()]
    for method in method_list:
        get_method(method)
    try:
        shots = parse_shots(shots_spec)
    except ValueError as exc:
        raise ConfigError(f"--shots: {exc}") from None
    params: dict[str, dict[str, object]] = {}
    for key, value in parse_params(extra).items():
        method, sep, name = key.partition(".")
        if not sep:
            raise ConfigError(f"--param expects METHOD.KEY=VALUE, got {key!r}")
        params.setdefault(method, {})[name] = value
    if max_length is not None:
        for method in method_list:
            params.setdefault(method, {}).setdefault("max_length", max_length)

    data = read_labelled(data_path, text_column, label_column)
    if test_path is not None:
        test = read_labelled(test_path, text_column, label_column)
    else:
        train_idx, test_idx = stratified_split(data.labels, test_fraction, seed)
        data, test = data.subset(train_idx), data.subset(test_idx)
    if keep_labels:
        wanted = {x.strip() for x in keep_labels.split(",") if x.strip()}
        missing = wanted - set(data.labels)
        if missing:
            raise ConfigError(f"--labels: not in the data: {', '.join(sorted(missing))}")
        data = data.subset([i for i, y in enumerate(data.labels) if y in wanted])
        test = test.subset([i for i, y in enumerate(test.labels) if y in wanted])
    if label_map:
        from deid.classify.train import apply_label_map, parse_label_map

        mapping = parse_label_map(label_map)
        data = apply_label_map(data, mapping)
        test = apply_label_map(test, {k: v for k, v in mapping.items() if k in set(test.labels)})
    unlabelled = read_texts(unlabelled_path, text_column) if unlabelled_path else None
    tier_names = load_tiers(tiers_path).names
    with quiet_libraries():
        rows = run_compare(
            data,
            test,
            methods=method_list,
            shots=shots,
            seed=seed,
            max_train=max_train,
            max_test=max_test,
            unlabelled=unlabelled,
            max_unlabelled=max_unlabelled,
            mlm_params={
                "max_steps": mlm_max_steps,
                "head_warmup_steps": mlm_head_warmup_steps,
                "lr": mlm_lr,
                **({"max_length": max_length} if max_length else {}),
            },
            params=params,
            base=base,
            tier_names=tier_names,
            calibration=calibration,
        )
    caps = describe_caps(
        method_list,
        n_pool=len(data),
        n_test=len(test),
        max_train=max_train,
        max_test=max_test,
        params=params,
        max_unlabelled=max_unlabelled,
        mlm_params={"max_steps": mlm_max_steps, "head_warmup_steps": mlm_head_warmup_steps},
    )
    click.echo(f"train pool: {len(data)} documents, test: {min(len(test), max_test)} documents, seed {seed}")
    click.echo(format_table(rows))
    click.echo("caps for CPU:")
    for line in caps:
        click.echo(f"  {line}")
    if out_path is not None:
        write_json(
            out_path,
            {
                "data": str(data_path),
                "test": str(test_path) if test_path else f"{test_fraction:.0%} of data",
                "labels": sorted(set(data.labels)),
                "seed": seed,
                "max_train": max_train,
                "max_test": max_test,
                "caps": caps,
                "rows": rows,
            },
        )
