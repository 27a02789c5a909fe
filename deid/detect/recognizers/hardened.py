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

# Presidio's TLD list lacks "biz": "www.love-vargas.biz/share/x" matched as "www.love-vargas.bi"
# and left "z/share/x" in clear text.
# (A test of "www.love-vargas.biz/..." fails if a Presidio release changes the list's form.)
BASE_URL_REGEX = UrlRecognizer.BASE_URL_REGEX
if "(?:biz)" not in BASE_URL_REGEX:
    BASE_URL_REGEX = BASE_URL_REGEX.replace("(?:com)|", "(?:com)|(?:biz)|", 1)

_URL_START = r"(?<![a-z0-9.\-])"
_URL_END = r"(?![a-z0-9])"  # a bare host does not end inside a word ("hosp.chapl" is not "hosp.ch")
_LOCAL = r"[!#$%&'*+\-/=?^_`{|}~\w]"
_LOCAL_INNER = r"[!#$%&'*+\-/=?^_`{|}~\.\w]"

URL_PATTERNS = [
    Pattern("Standard Url", "(?i)(?:https?://)" + BASE_URL_REGEX, 0.6),
    Pattern("Non schema URL", "(?i)" + _URL_START + BASE_URL_REGEX + _URL_END, 0.5),
    Pattern("Quoted URL", r'(?i)["\'](https?://' + BASE_URL_REGEX + r')["\']', 0.6),
    Pattern("Quoted Non-schema URL", r'(?i)["\'](' + _URL_START + BASE_URL_REGEX + _URL_END + r')["\']', 0.5),
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


# Top-level domains that a bare host (no scheme, no www., no path) may end with. Two sentences run
# together without a space ("secretions.Pl", "MEDS.RE", "ectopy.to", "30PM.TEAM") look like a host
# under some country or new generic TLD; a bare host is taken for a URL only under a TLD common in
# English text, and not under one that is also an English word ("in", "no", "at", "it", "to", "me").
BARE_HOST_TLDS = frozenset(
    [
        "com",
        "org",
        "net",
        "edu",
        "gov",
        "mil",
        "int",
        "info",
        "biz",
        "io",
        "ai",
        "app",
        "dev",
        "uk",
        "ca",
        "au",
        "de",
        "fr",
        "nl",
        "eu",
        "jp",
        "ch",
        "se",
        "dk",
        "fi",
        "nz",
        "ie",
        "es",
        "ru",
        "br",
        "cn",
        "mx",
        "za",
        "sg",
        "hk",
        "kr",
        "il",
        "tv",
    ]
)
# In upper-case text only these: "SHEET.BS", "VENT.SU" and "REINTUBATION.FAMILY" are run-on words.
BARE_HOST_TLDS_UPPER = frozenset(["COM", "ORG", "NET", "EDU", "GOV"])


class HardenedUrlRecognizer(UrlRecognizer):
    """Presidio's UrlRecognizer with linear patterns and a stricter idea of a bare host.

    A host with an empty label (``PEEP...TV``) is no URL. With a scheme or ``www.`` anything
    Presidio's pattern accepts is kept; a bare ``name.tld`` (no path) must have a name of 3+
    characters and end in a TLD of :data:`BARE_HOST_TLDS`, written in lower case (or upper case
    for :data:`BARE_HOST_TLDS_UPPER`); a title-case TLD (``thick.Pl``) is a missing space.
    """

    def validate_result(self, pattern_text: str) -> bool | None:
        """Reject the cases above; None keeps Presidio's score."""
        has_scheme = "://" in pattern_text
        rest = pattern_text.split("://", 1)[-1]
        host = rest.split("/", 1)[0].split(":", 1)[0].split("?", 1)[0].split("#", 1)[0]
        if ".." in host:
            return False
        if has_scheme or host.lower().startswith("www."):
            return None
        name, _, tld = host.rpartition(".")
        if len(name) < 3:
            return False
        if len(rest) > len(host) + 1:  # a path, port or query after the host: a URL
            return None
        if tld.islower():
            return None if tld in BARE_HOST_TLDS else False
        if tld.isupper():
            return None if tld in BARE_HOST_TLDS_UPPER else False
        return False


def hardened_url_recognizer(supported_language: str = "en") -> UrlRecognizer:
    """Presidio's UrlRecognizer whose non-schema patterns cannot start inside a run of URL characters."""
    return HardenedUrlRecognizer(patterns=URL_PATTERNS, supported_language=supported_language)
