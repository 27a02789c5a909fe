"""Domain errors. The CLI turns them into one-line messages and a non-zero exit."""

from __future__ import annotations


class DeidError(Exception):
    """Base class of every error deid raises on purpose. Its message never holds a detected value."""


class ConfigError(DeidError):
    """A configuration file or option is invalid."""


class KeyError_(DeidError):
    """A key is missing, too short or unreadable."""


class InputError(DeidError):
    """The input cannot be read as asked.

    Args:
        path: the input file.
        message: what is wrong (never the cell's content).
        row: 1-based data row number, if known.
        column: column name, if known.
    """

    def __init__(self, path: object, message: str, *, row: int | None = None, column: str | None = None):
        self.path = str(path)
        self.row = row
        self.column = column
        self.reason = message
        where = self.path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


class OutputError(DeidError):
    """The output cannot be written (exists, not writable, disk full...)."""
