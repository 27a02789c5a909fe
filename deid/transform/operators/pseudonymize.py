"""``pseudonymize``: replace a value by a realistic surrogate chosen by HMAC(key, type, value)."""

from __future__ import annotations

from typing import Any

from deid.transform.operators.base import KeyedOperator, keyed_digest
from deid.transform.surrogates import surrogate


class PseudonymizeOperator(KeyedOperator):
    """Consistent surrogates: one value, one surrogate, for a given key."""

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """params: ``key``, ``entity_type``, ``locale``."""
        entity_type = params["entity_type"]
        seed = int.from_bytes(keyed_digest(params["key"], entity_type, text)[:8], "big")
        return surrogate(entity_type, text, seed, params.get("locale", "en_US"))

    def operator_name(self) -> str:
        """Registered name."""
        return "deid_pseudonymize"
