"""``hash``: keyed HMAC-SHA256 of the normalised value.

Unlike Presidio's ``hash`` operator (random salt per entity unless one is given) the digest is a
function of the key and the value only, so one value hashes alike in every row, worker and run,
and without the key the digest cannot be recomputed from a guessed value.
"""

from __future__ import annotations

from typing import Any

from deid.transform.operators.base import KeyedOperator, keyed_digest


class KeyedHashOperator(KeyedOperator):
    """Replace the value by a template holding its keyed digest, e.g. ``<PERSON:3f9a0c1d2b4e5f60>``."""

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """Hash ``text``; params: ``key``, ``entity_type``, ``length``, ``template``."""
        digest = keyed_digest(params["key"], params["entity_type"], text, typed=False).hex()
        return str(params.get("template", "<{entity_type}:{digest}>")).format(
            entity_type=params["entity_type"], digest=digest[: int(params.get("length", 16))]
        )

    def operator_name(self) -> str:
        """Registered name."""
        return "deid_hash"
