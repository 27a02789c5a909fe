"""``pseudonymize``: replace a value by a realistic surrogate chosen by HMAC(key, type, value)."""

from __future__ import annotations

from typing import Any

from deid.transform.operators.base import KeyedOperator, keyed_digest
from deid.transform.surrogates import email_from_name, email_name, surrogate


class PseudonymizeOperator(KeyedOperator):
    """Consistent surrogates: one value, one surrogate, for a given key."""

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """params: ``key``, ``entity_type``, ``locale``."""
        entity_type = params["entity_type"]
        locale = params.get("locale", "en_US")
        seed = _seed(params["key"], entity_type, text)
        name = email_name(text) if entity_type == "EMAIL_ADDRESS" else None
        if name is not None:
            # john.smith@ gets the local part of the surrogate of "john smith", so that a display
            # name and its address agree after pseudonymization.
            person = f"{name[0]} {name[2]}"
            return email_from_name(
                text, surrogate("PERSON", person, _seed(params["key"], "PERSON", person), locale), seed
            )
        return surrogate(entity_type, text, seed, locale)

    def operator_name(self) -> str:
        """Registered name."""
        return "deid_pseudonymize"


def _seed(key: bytes, entity_type: str, value: str) -> int:
    return int.from_bytes(keyed_digest(key, entity_type, value)[:8], "big")
