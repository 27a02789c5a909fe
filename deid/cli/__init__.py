"""The ``deid`` command line.

Commands are registered by name here and imported only when they run, so that ``deid --help``
answers without importing Presidio, spaCy or torch. Each command lives in its own module under
``deid/cli/`` and is a thin wrapper over one library function.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from deid import __version__

# name -> "module:attribute" for top-level commands; groups map to a dict of their subcommands.
COMMANDS: dict[str, str | dict[str, str]] = {
    "redact": "deid.cli.redact:redact",
    "detect": "deid.cli.detect:detect",
    "scan": "deid.cli.scan:scan",
    "route": "deid.cli.route:route",
    "report": "deid.cli.report:report",
    "verify": "deid.cli.verify:verify",
    "recognizers": "deid.cli.recognizers:recognizers",
    "decrypt": "deid.cli.decrypt:decrypt",
    "keygen": "deid.cli.keygen:keygen",
    "config": {
        "show": "deid.cli.config_show:show",
    },
    "ner": {
        "synth": "deid.cli.ner_synth:synth",
        "train": "deid.cli.ner_train:train",
        "evaluate": "deid.cli.ner_evaluate:evaluate",
    },
    "mlm": {
        "adapt": "deid.cli.mlm:adapt",
    },
    "classify": {
        "train": "deid.cli.classify_train:train",
        "evaluate": "deid.cli.classify_evaluate:evaluate",
        "compare": "deid.cli.classify_compare:compare",
        "calibrate": "deid.cli.classify_calibrate:calibrate",
    },
    "spark": {
        "pack": "deid.cli.spark_pack:pack",
    },
}

# One-line help for the listing, so that listing commands does not import them.
SHORT_HELP: dict[str, str] = {
    "redact": "Detect and transform PII in text columns of a Parquet/CSV/JSONL file.",
    "detect": "Detect PII and write spans JSONL (no transformation).",
    "scan": "Profile a table's columns (free text, identifiers, no PII); suggest a config.",
    "route": "Classify documents by sensitivity tier and partition them (no redaction).",
    "report": "Write the audit report (self-contained HTML + JSON) of a redact output.",
    "verify": "Re-detect PII in a redacted output, measure gold leaks; exit 1 above --max-leak.",
    "recognizers": "List the active recognizers, their entity types and sources.",
    "decrypt": "Reverse the 'encrypt' operator on a redacted file (needs the key).",
    "keygen": "Write a new random key file with 0600 permissions.",
    "config": "Inspect configurations: profiles layered over the default.",
    "config show": "Print the effective configuration (after layering) with each value's source.",
    "ner": "Train, evaluate and generate data for token-classification (NER) models.",
    "ner synth": "Generate synthetic PII documents as spans JSONL.",
    "ner train": "Fine-tune a token classifier from a YAML config.",
    "ner evaluate": "Score a model or the whole detection pipeline against gold spans.",
    "mlm": "Continued masked-language-model pretraining of the base encoder.",
    "mlm adapt": "Adapt the base encoder to an unlabelled corpus (MLM).",
    "classify": "Train, evaluate and compare document sensitivity classifiers.",
    "classify train": "Train a sensitivity classifier (supervised, setfit, mlm-*).",
    "classify evaluate": "Evaluate a sensitivity classifier on labelled documents.",
    "classify compare": "Train and evaluate several methods on one split; print a table.",
    "classify calibrate": "Calibrate a saved classifier on held-out labels and set its fail-safe threshold.",
    "spark": "Run deid on a Spark cluster (see also deid/run/spark_submit.py).",
    "spark pack": "Pack the environment and the config's models for spark-submit --archives.",
}


def _load(target: str) -> click.Command:
    module_name, attr = target.split(":")
    module = importlib.import_module(module_name)
    command: click.Command = getattr(module, attr)
    return command


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def __init__(
        self, *args: object, lazy: dict[str, str | dict[str, str]], prefix: str = "", **kwargs: object
    ):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy
        self._prefix = prefix

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._lazy)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy.get(cmd_name)
        if target is None:
            return None
        full = f"{self._prefix}{cmd_name}"
        if isinstance(target, dict):
            return LazyGroup(name=cmd_name, lazy=target, prefix=f"{full} ", help=SHORT_HELP.get(full, ""))
        return _load(target)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(f"{self._prefix}{name}", "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def configure_logging(verbose: int, quiet: bool) -> None:
    """Configure the root logger for CLI use (library code never does this)."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose >= 2 else logging.INFO)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # Third-party loggers are noisy at INFO and some print inputs at DEBUG; keep them at WARNING.
    # Presidio warns about every recognizer of other languages it skips; keep it to errors.
    for name in ("presidio-analyzer", "presidio-anonymizer", "transformers", "urllib3", "filelock", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR if verbose < 3 else logging.INFO)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Example: deid redact samples/notes.parquet out/notes --text-column note --id-column id",
)
@click.version_option(__version__, prog_name="deid")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def cli(verbose: int, quiet: bool) -> None:
    """deid: find and remove personal data in Parquet, CSV and JSONL corpora."""
    configure_logging(verbose, quiet)


def main() -> None:
    """Console-script entry point."""
    cli()
