"""``generalize``: coarsen a quasi-identifier instead of removing it (HIPAA Safe Harbor style).

Four kinds, each a pure function usable on a whole cell or on a span of free text:

``zip``
    keep the first ``keep`` digits of a US ZIP code and star the rest (``02139`` -> ``021**``);
    with ``keep: 3`` the three-digit prefixes of the areas Safe Harbor names as holding 20,000
    people or fewer become ``000**``.
``year``
    a date (text in any format :mod:`deid.transform.dates` reads, or a date/datetime) -> its year.
``age``
    ages at or above ``top`` (90) become ``90+``; younger ages are kept.
``band``
    a number -> the band of ``width`` holding it (``37`` with width 10 -> ``30-39``).

Each function returns ``None`` when the value is not of its kind (a ZIP column holding ``n/a``);
callers turn that into a reject (columns) or a ``<TYPE>`` placeholder (free text).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

# 45 CFR 164.514(b)(2)(i)(B): three-digit ZIP prefixes whose areas hold 20,000 people or fewer
# (2000 Census, as listed by HHS); their ZIP codes must be generalised to 000.
RESTRICTED_ZIP3 = frozenset(
    {
        "036",
        "059",
        "063",
        "102",
        "203",
        "556",
        "692",
        "790",
        "821",
        "823",
        "830",
        "831",
        "878",
        "879",
        "884",
        "890",
        "893",
    }
)
KINDS = ("zip", "year", "age", "band")

_ZIP = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")
_YEAR4 = re.compile(r"(?<!\d)(1[89]\d{2}|2[01]\d{2})(?!\d)")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def generalize_zip(value: Any, keep: int = 3) -> str | None:
    """``02139`` -> ``021**`` (``000**`` for a restricted prefix when ``keep`` is 3); ``None`` if not a ZIP."""
    match = None
    if isinstance(value, str):
        match = _ZIP.match(value)
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99999:
        match = _ZIP.match(f"{value:05d}")  # an integer column lost the leading zeros
    if match is None:
        return None
    digits = match.group(1)
    prefix = digits[:keep]
    if keep == 3 and prefix in RESTRICTED_ZIP3:
        prefix = "000"
    return prefix + "*" * (5 - keep)


def generalize_year(value: Any) -> int | None:
    """The year of a date (``date``/``datetime`` or text); ``None`` when no year can be read."""
    if isinstance(value, dt.date):  # datetime is a date too
        return value.year
    if not isinstance(value, str):
        return None
    match = _YEAR4.search(value)
    if match:
        return int(match.group(1))
    from deid.transform.dates import shift_date_text

    # Two-digit years ("05-17-76", "'84"): shifting by 0 days validates the date; read its year back.
    if shift_date_text(value, 0) is None:
        return None
    short = re.search(r"(?:^|[-/.'\u2019\s])(\d{2})\s*$", value.strip())
    if short is None:
        return None
    two = int(short.group(1))
    return 2000 + two if two < 50 else 1900 + two


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if isinstance(value, str):
        match = _NUMBER.search(value)
        return float(match.group(0)) if match else None
    return None


def generalize_age(value: Any, top: int = 90) -> str | None:
    """Ages at or above ``top`` -> ``"90+"``; younger ages unchanged (as text); ``None`` if no number.

    In free text only the number changes: ``93 year old`` -> ``90+ year old``.
    """
    if isinstance(value, str):
        match = _NUMBER.search(value)
        if match is None:
            return None
        age = float(match.group(0))
        if age < 0:
            return None
        if age < top:
            return value
        return value[: match.start()] + f"{top}+" + value[match.end() :]
    age = _as_number(value)
    if age is None or age < 0:
        return None
    if age >= top:
        return f"{top}+"
    return str(int(age)) if age == int(age) else str(age)


def generalize_band(value: Any, width: float = 10) -> str | None:
    """The band of ``width`` holding the number: ``37`` -> ``30-39`` (integers), ``3.7`` -> ``[0, 5)``."""
    number = _as_number(value)
    if number is None:
        return None
    low = math.floor(number / width) * width
    if float(width).is_integer() and number.is_integer():
        return f"{int(low)}-{int(low + width - 1)}"
    return f"[{low:g}, {low + width:g})"


def generalize_value(value: Any, kind: str, *, keep: int = 3, top: int = 90, width: float = 10) -> Any:
    """Apply one kind of generalisation; ``None`` when ``value`` is not of that kind."""
    if kind == "zip":
        return generalize_zip(value, keep)
    if kind == "year":
        return generalize_year(value)
    if kind == "age":
        return generalize_age(value, top)
    if kind == "band":
        return generalize_band(value, width)
    raise ValueError(f"unknown generalize kind '{kind}' (expected one of {', '.join(KINDS)})")


def default_kind(entity_type: str | None) -> str:
    """The kind used when the policy names none: by entity type, ZIP codes otherwise."""
    if entity_type in ("DATE_TIME", "DATE"):
        return "year"
    if entity_type == "AGE":
        return "age"
    return "zip"


class GeneralizeOperator(Operator):
    """Presidio operator: generalise a span; values not of the kind become ``<ENTITY_TYPE>``."""

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """params: ``kind`` (or ``None``: from the entity type), ``keep``, ``top``, ``width``, ``entity_type``."""
        entity_type = params.get("entity_type", "")
        kind = params.get("kind") or default_kind(entity_type)
        out = generalize_value(
            text,
            kind,
            keep=int(params.get("keep", 3)),
            top=int(params.get("top", 90)),
            width=float(params.get("width", 10)),
        )
        return f"<{entity_type}>" if out is None else str(out)

    def validate(self, params: dict[str, Any]) -> None:
        """Known kind, 1-5 ZIP digits kept, positive band width."""
        kind = params.get("kind")
        if kind is not None and kind not in KINDS:
            raise InvalidParamError(f"generalize kind must be one of {', '.join(KINDS)}")
        if not 0 <= int(params.get("keep", 3)) <= 5:
            raise InvalidParamError("generalize keep must be between 0 and 5")
        if float(params.get("width", 10)) <= 0:
            raise InvalidParamError("generalize width must be positive")

    def operator_name(self) -> str:
        """Registered name."""
        return "deid_generalize"

    def operator_type(self) -> OperatorType:
        """An anonymizer."""
        return OperatorType.Anonymize
