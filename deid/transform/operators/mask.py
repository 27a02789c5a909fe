"""``mask``: overwrite characters, optionally leaving the last few visible (``************1111``)."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType


class MaskOperator(Operator):
    """Mask every character but the last ``keep_last`` (whitespace and separators are masked too)."""

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """Mask ``text``; params: ``masking_char``, ``keep_last``."""
        keep = min(int(params.get("keep_last", 0)), len(text) // 2)
        char = params.get("masking_char", "*")
        return char * (len(text) - keep) + (text[len(text) - keep :] if keep else "")

    def validate(self, params: dict[str, Any]) -> None:
        """One masking character, a non-negative count."""
        if len(str(params.get("masking_char", "*"))) != 1:
            raise InvalidParamError("masking_char must be one character")
        if int(params.get("keep_last", 0)) < 0:
            raise InvalidParamError("keep_last must be >= 0")

    def operator_name(self) -> str:
        """Registered name."""
        return "deid_mask"

    def operator_type(self) -> OperatorType:
        """An anonymizer."""
        return OperatorType.Anonymize
