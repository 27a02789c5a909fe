"""``encrypt``: deterministic, reversible AES-SIV encryption of the value.

AES-SIV needs no random IV, so one value encrypts alike everywhere under one key (joins still work)
and ``deid decrypt`` restores the exact original text. The entity type is authenticated as
associated data. Tokens look like ``<ENC:PERSON:base64url>``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from deid.transform.operators.base import KeyedOperator

TOKEN_RE = re.compile(r"<ENC:([A-Z][A-Z0-9_]*):([A-Za-z0-9_-]+)>")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt_value(key: bytes, entity_type: str, value: str) -> str:
    """The token for ``value``."""
    cipher = AESSIV(key)
    return f"<ENC:{entity_type}:{_b64(cipher.encrypt(value.encode('utf-8'), [entity_type.encode()]))}>"


def decrypt_text(key: bytes, text: str) -> tuple[str, int, int]:
    """Replace every valid token in ``text`` by its plaintext.

    Returns:
        (text, tokens decrypted, tokens that failed authentication: wrong key or tampered).
    """
    cipher = AESSIV(key)
    done = failed = 0

    def _one(match: re.Match[str]) -> str:
        nonlocal done, failed
        try:
            plain = cipher.decrypt(_unb64(match.group(2)), [match.group(1).encode()]).decode("utf-8")
        except (InvalidTag, ValueError):
            failed += 1
            return match.group(0)
        done += 1
        return plain

    return TOKEN_RE.sub(_one, text), done, failed


class EncryptOperator(KeyedOperator):
    """Replace the value by its AES-SIV token."""

    def validate(self, params: dict[str, Any]) -> None:
        """AES-SIV takes 32, 48 or 64-byte keys."""
        super().validate(params)
        if len(params["key"]) not in (32, 48, 64):
            from presidio_anonymizer.entities import InvalidParamError

            raise InvalidParamError("encrypt needs a 32, 48 or 64-byte key")

    def operate(self, text: str, params: dict[str, Any]) -> str:
        """Encrypt ``text``; params: ``key``, ``entity_type``."""
        return encrypt_value(params["key"], params["entity_type"], text)

    def operator_name(self) -> str:
        """Registered name."""
        return "deid_encrypt"
