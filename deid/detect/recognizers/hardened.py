"""Presidio's e-mail and URL recognizers with patterns that stay linear on hostile input.

Presidio's "Non schema URL" pattern may start a match at every character of a long run of dots
(``......``, ``1.1.1.1...``: about 2 ms per character, and a 1 MB cell hits Presidio's 60 s regex
timeout, silently dropping URL detection for that text). Its e-mail pattern has an unbounded local
part, quadratic on ``a.a.a.a...@``. Here the non-schema URL patterns may only start where no URL
character precedes, and the local part is bounded to 64 characters (RFC 5321). Matches on real text
are unchanged; Presidio's validation (top-level domains) is kept by reusing its classes.
"""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import EmailRecognizer, UrlRecognizer

BASE_URL_REGEX = UrlRecognizer.BASE_URL_REGEX

_URL_START = r"(?<![a-z0-9.\-])"
_LOCAL = r"[!#$%&'*+\-/=?^_`{|}~\w]"
_LOCAL_INNER = r"[!#$%&'*+\-/=?^_`{|}~\.\w]"

URL_PATTERNS = [
    Pattern("Standard Url", "(?i)(?:https?://)" + BASE_URL_REGEX, 0.6),
    Pattern("Non schema URL", "(?i)" + _URL_START + BASE_URL_REGEX, 0.5),
    Pattern("Quoted URL", r'(?i)["\'](https?://' + BASE_URL_REGEX + r')["\']', 0.6),
    Pattern("Quoted Non-schema URL", r'(?i)["\'](' + _URL_START + BASE_URL_REGEX + r')["\']', 0.5),
]
EMAIL_PATTERNS = [
    Pattern(
        "Email (Medium)",
        rf"\b(({_LOCAL})|({_LOCAL}{_LOCAL_INNER}{{0,62}}{_LOCAL}))[@]\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+\b",
        0.5,
    )
]


def hardened_email_recognizer(supported_language: str = "en") -> EmailRecognizer:
    """Presidio's EmailRecognizer with a bounded local part."""
    return EmailRecognizer(patterns=EMAIL_PATTERNS, supported_language=supported_language)


class HardenedUrlRecognizer(UrlRecognizer):
    """Presidio's UrlRecognizer with linear patterns; a host with an empty label (``PEEP...TV``) is no URL."""

    def validate_result(self, pattern_text: str) -> bool | None:
        """Reject hosts with consecutive dots (``PEEP...TV``) and bare one- or two-letter names (``A.fi``)."""
        has_scheme = "://" in pattern_text
        host = pattern_text.split("://", 1)[-1].split("/", 1)[0]
        if ".." in host:
            return False
        name = host.rsplit(".", 1)[0]
        if not has_scheme and not host.lower().startswith("www") and len(name) < 3:
            return False
        return None


def hardened_url_recognizer(supported_language: str = "en") -> UrlRecognizer:
    """Presidio's UrlRecognizer whose non-schema patterns cannot start inside a run of URL characters."""
    return HardenedUrlRecognizer(patterns=URL_PATTERNS, supported_language=supported_language)
