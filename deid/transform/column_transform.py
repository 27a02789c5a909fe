"""Apply column policies (:mod:`deid.transform.columns`) to the cells of a table.

A whole-cell column needs no detection: each non-empty cell is one span of the column's entity
type, transformed by the same operator, with the same sub-key, as that type in free text
(:class:`deid.transform.policy.TextTransformer` does both). Types are kept where the operator
allows it:

* ``date_shift`` on a date or timestamp column returns dates/timestamps of the same Arrow type;
  on a string column, text in the cell's own format.
* ``generalize`` ``year`` returns integers; ``zip``, ``age`` and ``band`` return text (``021**``,
  ``90+``, ``30-39`` are not numbers).
* ``keep`` keeps the column as it is; ``drop`` removes it.
* ``hash``, ``encrypt``, ``pseudonymize``, ``mask``, ``replace`` return text: a hash or an AES-SIV
  token of an integer id is a string so that it equals the token the same value gets in free text
  (joins between a column and a note keep working); ``redact`` empties the cell (null).

A cell that is not a value of the declared entity (an e-mail column holding ``n/a``, a date column
holding ``unknown``) is invalid: its row is rejected with the reason, or the job stops, as the
column's ``on_invalid`` says. Reasons never hold the cell's content.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from deid.detect.spans import Span
from deid.errors import KeyError_
from deid.transform.columns import ColumnPolicy
from deid.transform.keys import SecretKey
from deid.transform.operators.generalize import default_kind, generalize_value

_DATE_TYPES = frozenset({"DATE_TIME", "DATE"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_SSN = re.compile(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$")
_PHONE_CHARS = re.compile(r"^[\d\s().+\-/x#ext]+$", re.IGNORECASE)
_URL = re.compile(r"^(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:[/?#]\S*)?$", re.IGNORECASE)


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    from deid.transform.dates import shift_date_text

    return shift_date_text(value, 0) is not None


# entity type -> does a whole cell (stripped, non-empty) hold a value of that type?
CELL_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "EMAIL_ADDRESS": lambda v: bool(_EMAIL.match(v)),
    "US_SSN": lambda v: bool(_SSN.match(v)),
    "PHONE_NUMBER": lambda v: bool(_PHONE_CHARS.match(v)) and 7 <= _digits(v) <= 15,
    "CREDIT_CARD": lambda v: bool(re.fullmatch(r"[\d\s-]+", v)) and 12 <= _digits(v) <= 19,
    "IP_ADDRESS": _is_ip,
    "URL": lambda v: bool(_URL.match(v)),
    "IBAN_CODE": lambda v: bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9 ]{8,32}", v.upper())),
    "DATE_TIME": _is_date,
    "DATE": _is_date,
    "AGE": lambda v: bool(re.fullmatch(r"\d{1,3}(?:\.\d+)?\+?", v)),
}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dt.datetime):
        return "a timestamp"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _is_date_type(arrow_type: pa.DataType | None) -> bool:
    return arrow_type is not None and (pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type))


def _is_number_type(arrow_type: pa.DataType | None) -> bool:
    return arrow_type is not None and (pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type))


def _is_text_type(arrow_type: pa.DataType | None) -> bool:
    return arrow_type is None or pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def generalize_kind(policy: ColumnPolicy, arrow_type: pa.DataType | None) -> str:
    """The generalisation kind of a column: ``kind``, else implied by a parameter given (``keep``: zip,
    ``top``: age, ``width``: band), else from the entity type, else the column type (dates: year,
    numbers: band), else zip."""
    kind = getattr(policy.spec, "kind", None)
    if kind:
        return str(kind)
    # A parameter given says which kind is meant ({operator: generalize, keep: 3} is a ZIP code).
    given = policy.spec.model_fields_set if policy.spec is not None else set()
    for parameter, implied in (("keep", "zip"), ("top", "age"), ("width", "band")):
        if parameter in given:
            return implied
    if policy.entity is not None:
        return default_kind(policy.entity)
    if _is_date_type(arrow_type):
        return "year"
    if _is_number_type(arrow_type):
        return "band"
    return "zip"


def check_column_type(name: str, policy: ColumnPolicy, arrow_type: pa.DataType | None) -> str | None:
    """Why ``policy`` cannot apply to a column of ``arrow_type`` (``None`` when it can).

    ``arrow_type`` is ``None`` when the format has no schema (JSONL): cells are then checked one by one.
    """
    operator = policy.operator
    if operator is None or operator in ("drop", "keep") or arrow_type is None:
        return None
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_nested(arrow_type) or pa.types.is_binary(arrow_type):
        return f"columns.{name}: {operator} cannot apply to a {arrow_type} column"
    if operator == "generalize":
        kind = generalize_kind(policy, arrow_type)
        allowed = {
            "zip": _is_text_type(arrow_type) or pa.types.is_integer(arrow_type),
            "year": _is_text_type(arrow_type) or _is_date_type(arrow_type),
            "age": _is_text_type(arrow_type) or _is_number_type(arrow_type),
            "band": _is_text_type(arrow_type) or _is_number_type(arrow_type),
        }[kind]
        if not allowed:
            return f"columns.{name}: generalize ({kind}) cannot apply to a {arrow_type} column"
        return None
    is_date_shift = operator == "date_shift" or (
        operator == "pseudonymize" and policy.entity_for(name) in _DATE_TYPES
    )
    if is_date_shift and not (_is_text_type(arrow_type) or _is_date_type(arrow_type)):
        return f"columns.{name}: date_shift cannot apply to a {arrow_type} column (expected dates, timestamps or text)"
    if pa.types.is_boolean(arrow_type):
        return f"columns.{name}: {operator} cannot apply to a bool column"
    return None


class ColumnTransformer:
    """Transforms whole-cell columns by their policies, with the same key as the free text.

    Args:
        policies: column name -> policy (free-text entries are ignored here).
        key: the secret key; required when a policy uses a keyed operator.

    Nothing is built in the constructor (it is pickled to worker processes).
    """

    def __init__(self, policies: dict[str, ColumnPolicy], key: SecretKey | None) -> None:
        self.policies = {name: p for name, p in policies.items() if not p.text}
        self._key = key
        if key is None and any(p.needs_key() for p in self.policies.values()):
            raise KeyError_("the column policies use keyed operators but no key was given")
        self._texts: dict[str, Any] = {}
        self._date_key: bytes | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"policies": self.policies, "_key": self._key, "_texts": {}, "_date_key": None}

    def _text_transformer(self, name: str, policy: ColumnPolicy) -> Any:
        if name not in self._texts:
            from deid.config import PolicyConfig
            from deid.transform.policy import TextTransformer

            self._texts[name] = TextTransformer(PolicyConfig(default=policy.spec), self._key)
        return self._texts[name]

    def _offset(self, policy: ColumnPolicy, subject: str | None) -> int:
        from deid.transform.operators import subject_offset_days

        if self._key is None:
            raise KeyError_("date_shift needs a key but none was given")
        if self._date_key is None:
            self._date_key = self._key.derive("date_shift")
        max_days = int(getattr(policy.spec, "max_days", 365))
        return subject_offset_days(self._date_key, subject, max_days)

    def transform_column(
        self,
        name: str,
        values: Sequence[Any],
        arrow_type: pa.DataType | None,
        subjects: Sequence[str | None],
    ) -> tuple[list[Any], pa.DataType | None, dict[int, str]]:
        """Transform one column's cells.

        Args:
            name: the column.
            values: its cells as Python objects (``None`` for nulls).
            arrow_type: the column's Arrow type, or ``None`` (JSONL records).
            subjects: the subject of each row (date shifting), ``None`` where there is none.

        Returns:
            (new values, Arrow type of the new column or ``None`` to infer, invalid cells:
            position -> reason without the cell's content).
        """
        policy = self.policies[name]
        operator = policy.operator
        entity = policy.entity_for(name)
        invalid: dict[int, str] = {}
        out: list[Any] = []
        if operator == "keep":
            return list(values), arrow_type, invalid
        if operator == "generalize":
            spec = policy.spec
            kind = generalize_kind(policy, arrow_type)
            for position, value in enumerate(values):
                if value is None or (isinstance(value, str) and not value.strip()):
                    out.append(value)
                    continue
                new = None
                if not isinstance(value, bool | list | dict):
                    new = generalize_value(value, kind, keep=spec.keep, top=spec.top, width=spec.width)
                if new is None:
                    invalid[position] = (
                        f"column '{name}': {_kind_of(value)} that is not a {_KIND_NAMES[kind]}"
                    )
                out.append(new)
            return out, pa.int64() if kind == "year" else pa.string(), invalid
        if operator == "date_shift" or (operator == "pseudonymize" and entity in _DATE_TYPES):
            from deid.transform.dates import shift_date_text

            for position, (value, subject) in enumerate(zip(values, subjects, strict=True)):
                if value is None or (isinstance(value, str) and not value.strip()):
                    out.append(value)
                    continue
                days = self._offset(policy, subject)
                new: Any = None
                if isinstance(value, dt.date):
                    new = value + dt.timedelta(days=days)
                elif isinstance(value, str):
                    new = shift_date_text(value, days)
                if new is None:
                    invalid[position] = f"column '{name}': {_kind_of(value)} that is not a date"
                out.append(new)
            return out, arrow_type if _is_date_type(arrow_type) else None, invalid
        transformer = self._text_transformer(name, policy)
        validator = CELL_VALIDATORS.get(entity)
        for position, (value, subject) in enumerate(zip(values, subjects, strict=True)):
            if value is None:
                out.append(None)
                continue
            if isinstance(value, bool | list | dict):
                invalid[position] = f"column '{name}': {_kind_of(value)}, expected a {entity} value"
                out.append(None)
                continue
            text = value.isoformat() if isinstance(value, dt.date) else str(value)
            stripped = text.strip()
            if not stripped:
                out.append(value)
                continue
            if validator is not None and not validator(stripped):
                invalid[position] = f"column '{name}': cell is not a valid {entity} value"
                out.append(None)
                continue
            if operator == "redact":
                out.append(None)
                continue
            start = len(text) - len(text.lstrip())
            span = Span(start, start + len(stripped), entity, 1.0, "column")
            out.append(transformer.transform(text, [span], subject))
        return out, pa.string(), invalid


_KIND_NAMES = {"zip": "ZIP code", "year": "date", "age": "number (age)", "band": "number"}


def replace_columns(
    shard: Any, updates: dict[str, tuple[list[Any], pa.DataType | None]], drop: set[str]
) -> Any:
    """A copy of ``shard`` with columns replaced (keeping the given Arrow types) and ``drop`` removed."""
    from deid.io.shard import Shard

    if shard.table is not None:
        table = shard.table
        for name, (values, arrow_type) in updates.items():
            position = table.column_names.index(name)
            table = table.set_column(position, name, pa.array(values, type=arrow_type))
        keep = [c for c in table.column_names if c not in drop]
        if len(keep) != len(table.column_names):
            table = table.select(keep)
        return Shard(shard.index, table=table, row_numbers=shard.row_numbers, rejects=shard.rejects)
    records = []
    for position, record in enumerate(shard.records or []):
        new = {k: v for k, v in record.items() if k not in drop}
        for name, (values, _) in updates.items():
            if name in new:
                new[name] = values[position]
        records.append(new)
    return Shard(shard.index, records=records, row_numbers=shard.row_numbers, rejects=shard.rejects)
