"""Shared pieces of deid's Presidio operators."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from deid.transform.normalize import normalize_value


class KeyedOperator(Operator):
    """An anonymizing operator that needs a derived key in ``params["key"]`` (bytes)."""

    def validate(self, params: dict[str, Any]) -> None:
        """Presidio calls this before each ``operate``."""
        key = params.get("key")
        if not isinstance(key, bytes) or len(key) < 16:
            raise InvalidParamError(f"{self.operator_name()} needs a derived key of at least 16 bytes")

    def operator_type(self) -> OperatorType:
        """An anonymizer (``decrypt`` is the only deanonymizer)."""
        return OperatorType.Anonymize


def keyed_digest(key: bytes, entity_type: str, value: str, *, typed: bool = True) -> bytes:
    """HMAC-SHA256 of the normalised value (and, when ``typed``, its entity type)."""
    normalized = normalize_value(entity_type, value)
    message = f"{entity_type}\x00{normalized}" if typed else normalized
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
