"""The secret key: loading, validation, derivation of per-purpose sub-keys, fingerprint.

The key comes from an environment variable (``DEID_KEY`` by default) or a key file, never from
the command line, and never appears in any output: manifests carry :attr:`SecretKey.fingerprint`,
an HMAC of a fixed label, from which the key cannot be recovered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from deid.config import KeyConfig
from deid.errors import KeyError_

MIN_KEY_CHARS = 32
MIN_DISTINCT_CHARS = 8


class SecretKey:
    """A validated secret key. ``repr`` and ``str`` never show it."""

    __slots__ = ("_material",)

    def __init__(self, material: str) -> None:
        material = material.strip()
        if len(material) < MIN_KEY_CHARS:
            raise KeyError_(
                f"the key is too short: at least {MIN_KEY_CHARS} characters are required (use 'deid keygen')"
            )
        if len(set(material)) < MIN_DISTINCT_CHARS:
            raise KeyError_("the key has too little variety to be secret (use 'deid keygen')")
        self._material = material.encode("utf-8")

    def derive(self, purpose: str, length: int = 32) -> bytes:
        """A sub-key for one purpose (``"pseudonymize"``, ``"hash"``, ``"encrypt"``, ``"date_shift"``)."""
        out = b""
        counter = 0
        while len(out) < length:
            out += hmac.new(self._material, f"deid/{purpose}/{counter}".encode(), hashlib.sha256).digest()
            counter += 1
        return out[:length]

    @property
    def fingerprint(self) -> str:
        """A short public identifier of the key (safe to record; does not reveal the key)."""
        return "hmac-sha256:" + hmac.new(self._material, b"deid/fingerprint", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"SecretKey({self.fingerprint})"

    __str__ = __repr__


def load_key(config: KeyConfig, *, required: bool) -> SecretKey | None:
    """Read the key from the configured environment variable, else the key file.

    Args:
        config: where to look.
        required: raise when no key is found (a policy with keyed operators needs one).

    Raises:
        KeyError_: no key although required, unreadable or world-readable key file, weak key.
    """
    value = os.environ.get(config.env)
    if value:
        return SecretKey(value)
    key_file = os.environ.get(config.file_env) or config.file
    if key_file:
        path = Path(key_file).expanduser()
        if not path.is_file():
            raise KeyError_(f"key file {path} not found")
        if path.stat().st_mode & 0o077:
            raise KeyError_(f"key file {path} is readable by others: run 'chmod 600 {path}'")
        try:
            return SecretKey(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise KeyError_(f"key file {path} is not text (use 'deid keygen')") from None
    if required:
        where = f"environment variable {config.env} (or {config.file_env} to a key file)" + (
            f" or the key file {config.file}" if config.file else ""
        )
        raise KeyError_(
            f"the policy uses keyed operators (hash, encrypt, pseudonymize, date_shift) but no key is set: "
            f"set the {where} (create one with 'deid keygen')"
        )
    return None


def generate_key() -> str:
    """A new random key: 32 random bytes, base64url (43 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
