"""``deid spark pack``: the environment and model archives of ``spark-submit --archives``."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli._common import domain_errors


@click.command(
    epilog=(
        "Example: deid spark pack --config configs/pseudonymize.yaml && spark-submit ... "
        "--archives deid-env.tar.gz#env,deid-models.tar.gz#models --conf spark.pyspark.python=./env/bin/python ..."
    )
)
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write deid-env.tar.gz and deid-models.tar.gz.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The config the Spark job runs (default: configs/default.yaml); its models are packed.",
)
@click.option(
    "--venv",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The virtual environment to pack (default: the one deid runs in).",
)
@click.option(
    "--python-prefix",
    default=None,
    help="Prefix of the base Python on the nodes, if not the same path as here (e.g. /usr).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Leave out files matching GLOB, relative to the venv (repeatable).",
)
@click.option(
    "--compress-level",
    type=click.IntRange(0, 9),
    default=1,
    show_default=True,
    help="gzip level of the archives.",
)
@click.option("--overwrite", is_flag=True, help="Replace existing archives.")
@domain_errors
def pack(
    output_dir: Path,
    config_path: Path | None,
    venv: Path | None,
    python_prefix: str | None,
    exclude: tuple[str, ...],
    compress_level: int,
    overwrite: bool,
) -> None:
    """Pack this virtual environment (deid, its dependencies; not pyspark) and the config's models for
    spark-submit --archives. Executors unpack them as ./env and ./models; the venv's python links to the
    base Python, which must exist at the same path on every node (or at --python-prefix)."""
    from deid.config import load_config
    from deid.run.spark_pack import pack_for_spark

    result = pack_for_spark(
        output_dir,
        load_config(config_path),
        prefix=venv,
        python_prefix=python_prefix,
        exclude=exclude,
        compress_level=compress_level,
        overwrite=overwrite,
    )
    mib = 1 << 20
    click.echo(f"environment: {result.env} ({result.env.stat().st_size / mib:.0f} MiB)")
    if result.models is not None:
        click.echo(
            f"models: {result.models} ({result.models.stat().st_size / mib:.0f} MiB; "
            f"{', '.join(result.packed_models)})"
        )
    for path in result.node_models:
        click.echo(f"not packed (absolute path; it must exist on every node): {path}")
    click.echo(f"spark-submit --archives {result.archives} --conf spark.pyspark.python=./env/bin/python ...")
