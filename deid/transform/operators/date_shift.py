"""``date_shift``: move dates by a keyed offset per subject, keeping format and intervals.

The offset is derived from HMAC(key, subject), so all dates of one patient move by the same number
of days (intervals within a subject are kept) while subjects move independently. Without a
subject column every row shares one offset.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from deid.transform.dates import shift_date_text
from deid.transform.operators.base import KeyedOperator


def subject_offset_days(key: bytes, subject: str | None, max_days: int) -> int:
    """The shift for ``subject``: in [-max_days, max_days], never 0."""
    digest = hmac.new(key, (subject or "").encode("utf-8"), hashlib.sha256).digest()
    # 2 * max_days values: -max_days..-1 and 1..max_days (a shift of 0 would keep the true date).
    offset = int.from_bytes(digest[:8], "big") % (2 * max_days) - max_days
    return offset if offset < 0 else offset + 1


class DateShiftOperator(KeyedOperator):
    """Shift a date by ``params["offset_days"]``; unparseable values get ``fallback``."""

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """params: ``offset_days`` (int), ``fallback`` ("replace" or "keep"), ``entity_type``."""
        shifted = shift_date_text(text, int(params["offset_days"]))
        if shifted is not None:
            return shifted
        return text if params.get("fallback") == "keep" else f"<{params['entity_type']}>"

    def validate(self, params: dict[str, Any]) -> None:
        """Needs an integer offset."""
        if not isinstance(params.get("offset_days"), int):
            from presidio_anonymizer.entities import InvalidParamError

            raise InvalidParamError("date_shift needs an integer offset_days")

    def operator_name(self) -> str:
        """Registered name."""
        return "deid_date_shift"
