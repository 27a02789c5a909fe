"""Entry point for ``spark-submit``: ``deid redact`` with the Spark backend.

Usage (README, section Spark: the command ``tests/run/test_spark_cluster.py`` runs)::

    deid spark pack --config configs/pseudonymize.yaml      # deid-env.tar.gz, deid-models.tar.gz
    spark-submit --master spark://spark-master:7077 --deploy-mode client \
      --archives deid-env.tar.gz#env,deid-models.tar.gz#models \
      --conf spark.pyspark.python=./env/bin/python --conf spark.pyspark.driver.python=python \
      deid/run/spark_submit.py INPUT OUTPUT --text-column note --id-column id --config configs/pseudonymize.yaml
    python -m deid.run.spark_submit INPUT OUTPUT --text-column note --spark-master 'local[4]'

It takes the options of ``deid redact`` (``--workers`` is the number of executor cores to keep busy)
and writes the same OUTPUT directory. The key comes from ``$DEID_KEY`` or ``$DEID_KEY_FILE`` on the
driver, never from the command line.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    # spark-submit runs this file as a script, which puts deid/run/ first on sys.path; its modules
    # (job, task, spark...) must not shadow top-level ones.
    sys.path.pop(0)

import click  # noqa: E402

from deid.cli._common import domain_errors  # noqa: E402
from deid.cli._job_options import input_options, io_arguments, redact_options, run_from_options  # noqa: E402


@click.command(
    epilog=(
        "Example: spark-submit --master 'local[4]' deid/run/spark_submit.py samples/notes.parquet out/notes "
        "--text-column note --text-column comment --id-column id"
    )
)
@io_arguments("OUTPUT")
@input_options
@redact_options
@click.option(
    "--spark-master",
    default=None,
    help="Spark master URL (default: spark-submit's --master, else local[*]).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@domain_errors
def main(
    inputs: tuple[str, ...], output: str, spark_master: str | None, verbose: int, **options: Any
) -> None:
    """Redact INPUT's text columns into OUTPUT with Spark executors doing the detection and transformation.

    The driver reads INPUT, commits the part files and writes _manifest.json and _report.json: the
    result is identical to 'deid redact' with the local backend, and --resume works across both.
    """
    from deid.cli import configure_logging

    configure_logging(verbose, quiet=False)
    logging.getLogger("py4j").setLevel(logging.WARNING)  # one INFO line per Py4J connection otherwise
    report = run_from_options("redact", inputs, output, backend="spark", spark_master=spark_master, **options)
    found = sum(n for counts in report.entities.values() for n in counts.values())
    click.echo(
        f"{report.rows_out} rows written to {output} ({report.rows_rejected} rejected, {found} entities transformed, "
        f"{report.rows_per_s:.1f} rows/s, {report.workers} Spark cores)"
    )


if __name__ == "__main__":
    main()
