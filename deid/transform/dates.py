"""Shift dates written in free text by a number of days, keeping how they were written.

``3/14/2021`` shifted by 10 days is ``3/24/2021``; ``14 Mar 2021`` becomes ``24 Mar 2021``;
``7/22`` (month/day, no year) becomes ``8/1``; ``2021-03-14T08:00`` keeps its time; a bare
year ``1992`` or ``'92`` moves by whole years, at least one, in the direction of the shift
(:func:`year_shift`): a shift of days would keep most bare years, and a kept year identifies. Zero padding,
separators, month-name style and letter case are kept. Anything else returns ``None`` and the
caller falls back to another operator.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_MONTHS_FULL = [m for m in calendar.month_name if m]
_MONTHS_ABBR = [m for m in calendar.month_abbr if m]
_MONTH_LOOKUP = {m.lower(): i + 1 for i, m in enumerate(_MONTHS_FULL)}
_MONTH_LOOKUP.update({m.lower(): i + 1 for i, m in enumerate(_MONTHS_ABBR)})
_MONTH_LOOKUP["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTH_LOOKUP, key=len, reverse=True))

_NUMERIC = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})(?:\2(\d{4}|\d{2}))?$")
_ISO = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(.*)$")
_DAY_MONTH = re.compile(
    rf"^(\d{{1,2}})(st|nd|rd|th)?(\s+)({_MONTH_RE})(\.?)(,?\s+(\d{{4}}|'?\d{{2}}))?$", re.I
)
_MONTH_DAY = re.compile(
    rf"^({_MONTH_RE})(\.?)(\s+)(\d{{1,2}})(st|nd|rd|th)?(,?\s+(\d{{4}}|'?\d{{2}}))?$", re.I
)
_MONTH_YEAR = re.compile(rf"^({_MONTH_RE})(\.?)(,?\s+)(\d{{4}})$", re.I)
_YEAR = re.compile(r"^(\d{4})$")
_SHORT_YEAR = re.compile(r"^(['\u2019])(\d{2})$")
_LEAP = 2000  # stands in for a missing year so that Feb 29 parses


def _year4(text: str) -> int:
    value = int(text.lstrip("'"))
    if len(text.lstrip("'")) == 2:
        return 2000 + value if value < 50 else 1900 + value
    return value


def _fmt_num(value: int, like: str) -> str:
    return str(value).zfill(len(like)) if like.startswith("0") else str(value)


def _fmt_year(value: int, like: str) -> str:
    body = like.lstrip("'")
    prefix = like[: len(like) - len(body)]
    return prefix + (str(value)[-2:] if len(body) == 2 else str(value))


def _fmt_month(month: int, like: str) -> str:
    abbreviated = like.lower() not in {m.lower() for m in _MONTHS_FULL}
    name = _MONTHS_ABBR[month - 1] if abbreviated else _MONTHS_FULL[month - 1]
    if like.isupper():
        return name.upper()
    if like.islower():
        return name.lower()
    return name


def _shift(year: int, month: int, day: int, days: int) -> dt.date | None:
    try:
        return dt.date(year, month, day) + dt.timedelta(days=days)
    except ValueError:
        return None


def shift_date_text(value: str, days: int) -> str | None:
    """``value`` moved by ``days`` days in its own format, or ``None`` when it is not a date we can parse."""
    text = value.strip()
    lead, trail = value[: len(value) - len(value.lstrip())], value[len(value.rstrip()) :]

    m = _ISO.match(text)
    if m:
        new = _shift(int(m.group(1)), int(m.group(3)), int(m.group(4)), days)
        if new is None:
            return None
        sep = m.group(2)
        # ISO 8601 pads month and day to two digits: 2021-04-14 shifted to the 4th is 2021-04-04.
        month = f"{new.month:02d}" if len(m.group(3)) == 2 else str(new.month)
        day = f"{new.day:02d}" if len(m.group(4)) == 2 else str(new.day)
        out = f"{new.year}{sep}{month}{sep}{day}{m.group(5)}"
        return lead + out + trail

    m = _NUMERIC.match(text)
    if m:
        first, sep, second, year_text = m.group(1), m.group(2), m.group(3), m.group(4)
        month_first = int(first) <= 12
        month_text, day_text = (first, second) if month_first else (second, first)
        year = _year4(year_text) if year_text else _LEAP
        new = _shift(year, int(month_text), int(day_text), days)
        if new is None:
            return None
        # One zero-padded part ("03/14/2021") means the writer pads both.
        if first.startswith("0") or second.startswith("0"):
            new_month, new_day = f"{new.month:02d}", f"{new.day:02d}"
        else:
            new_month, new_day = _fmt_num(new.month, month_text), _fmt_num(new.day, day_text)
        parts = [new_month, new_day] if month_first else [new_day, new_month]
        if year_text:
            parts.append(_fmt_year(new.year, year_text))
        return lead + sep.join(parts) + trail

    m = _DAY_MONTH.match(text)
    if m:
        year_text = m.group(7)
        year = _year4(year_text) if year_text else _LEAP
        new = _shift(year, _MONTH_LOOKUP[m.group(4).lower()], int(m.group(1)), days)
        if new is None:
            return None
        out = f"{_fmt_num(new.day, m.group(1))}{_suffix(new.day, m.group(2))}{m.group(3)}"
        out += f"{_fmt_month(new.month, m.group(4))}{m.group(5)}"
        if year_text:
            out += m.group(6)[: len(m.group(6)) - len(year_text)] + _fmt_year(new.year, year_text)
        return lead + out + trail

    m = _MONTH_DAY.match(text)
    if m:
        year_text = m.group(7)
        year = _year4(year_text) if year_text else _LEAP
        new = _shift(year, _MONTH_LOOKUP[m.group(1).lower()], int(m.group(4)), days)
        if new is None:
            return None
        out = f"{_fmt_month(new.month, m.group(1))}{m.group(2)}{m.group(3)}{_fmt_num(new.day, m.group(4))}"
        out += _suffix(new.day, m.group(5))
        if year_text:
            out += m.group(6)[: len(m.group(6)) - len(year_text)] + _fmt_year(new.year, year_text)
        return lead + out + trail

    m = _MONTH_YEAR.match(text)
    if m:
        new = _shift(int(m.group(4)), _MONTH_LOOKUP[m.group(1).lower()], 15, days)
        if new is None:
            return None
        return lead + f"{_fmt_month(new.month, m.group(1))}{m.group(2)}{m.group(3)}{new.year}" + trail

    m = _YEAR.match(text)
    if m and 1800 <= int(m.group(1)) <= 2200:
        return lead + str(int(m.group(1)) + year_shift(days)) + trail

    m = _SHORT_YEAR.match(text)
    if m:
        return lead + m.group(1) + str(_year4(m.group(2)) + year_shift(days))[-2:] + trail
    return None


def year_shift(days: int) -> int:
    """Whole years by which a bare year moves for a shift of ``days``: never 0 for a non-zero shift.

    One subject's bare years all move by the same number of years, so intervals between them are
    kept; a full date of the same subject moves by its days and may stay in its year.
    """
    if days == 0:
        return 0
    years = max(1, round(abs(days) / 365.25))
    return years if days > 0 else -years


def _suffix(day: int, like: str | None) -> str:
    if not like:
        return ""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return suffix.upper() if like.isupper() else suffix
