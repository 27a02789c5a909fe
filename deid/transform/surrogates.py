"""Realistic surrogate values for pseudonymisation, drawn deterministically from a seed.

The seed is HMAC(key, entity type, normalised value), so one value always gets one surrogate under
one key, in every row, worker and run. Structured values keep their shape (separators, length,
letter case) with fresh digits and letters; e-mail addresses, URLs and IPs use reserved
documentation domains and ranges so that a surrogate never reaches a real person. Names, places
and organisations come from Faker. Faker's name lists are finite: two different names can, rarely,
get the same surrogate (about 1 in 5 million pairs for full names).
"""

from __future__ import annotations

import functools
import random
import re
import string
from collections.abc import Callable

from faker import Faker

from deid.transform.normalize import match_case, split_title

_FAKERS: dict[str, Faker] = {}


def _faker(locale: str, seed: int) -> Faker:
    fake = _FAKERS.get(locale)
    if fake is None:
        fake = _FAKERS[locale] = Faker(locale)
    fake.seed_instance(seed)
    return fake


def _reshape(value: str, rng: random.Random, *, letters: bool = True) -> str:
    """Same shape as ``value``: digits -> random digits, letters (when ``letters``) -> random letters of the same case."""
    out = []
    for ch in value:
        if ch.isdigit():
            out.append(rng.choice(string.digits))
        elif letters and ch.isalpha() and ch.isascii():
            pool = string.ascii_uppercase if ch.isupper() else string.ascii_lowercase
            out.append(rng.choice(pool))
        else:
            out.append(ch)
    return "".join(out)


def _person(value: str, fake: Faker, rng: random.Random) -> str:
    title, name = split_title(value)
    tokens = name.split()
    if not tokens:
        return value
    if all(len(t.rstrip(".")) == 1 for t in tokens):  # initials "J." / "J. S."
        return title + " ".join(rng.choice(string.ascii_uppercase) + t[1:] for t in tokens)
    if len(tokens) == 1:
        # A lone name is a surname after a title or when it is no common first name ("Jimenez");
        # "Ryan" alone is a first name. The choice depends on the value, not its context, so a name
        # seen with and without its title gets the same surrogate.
        new = fake.first_name() if not title and _is_first_name(tokens[0]) else fake.last_name()
    else:
        first = fake.first_name()
        new = f"{first} {fake.last_name()}"
        if len(tokens) > 2:
            new = f"{first} {rng.choice(string.ascii_uppercase)}. {fake.last_name()}"
    if "," in name and len(tokens) == 2:  # "Smith, John"
        last, first_name = new.split(" ", 1)[1], new.split(" ", 1)[0]
        new = f"{last}, {first_name}"
    return title + match_case(name, new)


@functools.cache
def _first_names() -> frozenset[str]:
    from faker.providers.person.en_US import Provider

    return frozenset(name.casefold() for name in Provider.first_names)


def _is_first_name(token: str) -> bool:
    return token.strip(".,").casefold() in _first_names()


_CITY_STATE_ZIP = re.compile(r"^(.+?)(\s+)([A-Z]{2})(\s+)(\d{5}(?:-\d{4})?)$")
_STATE_ZIP = re.compile(r"^([A-Z]{2})(\s+)(\d{5}(?:-\d{4})?)$")
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
_SECONDARY = re.compile(r"(?i)^(?:apt|apartment|suite|ste|unit|room|rm|floor|fl|#)\b")
_FACILITY = re.compile(r"(?i)\b(hospital|medical center|clinic|health|infirmary|center)\b")


def _location(value: str, fake: Faker, rng: random.Random) -> str:
    """A place of the same shape; an address in parts ("12 Main St, Boston, MA 02139") part by part."""
    pieces = re.split(r"(\s*(?:,|\n)\s*)", value)
    if len(pieces) > 1:
        return "".join(piece if i % 2 else _place(piece, fake, rng) for i, piece in enumerate(pieces))
    return _place(value, fake, rng)


def _place(value: str, fake: Faker, rng: random.Random) -> str:
    stripped = value.strip()
    if not stripped:
        return value
    lead, trail = value[: len(value) - len(value.lstrip())], value[len(value.rstrip()) :]
    if re.match(r"^\d+[A-Za-z]?\s", stripped):
        new = fake.street_address()
    elif _ZIP.fullmatch(stripped):
        return lead + _reshape(stripped, rng) + trail
    elif match := _STATE_ZIP.match(stripped):
        return lead + f"{fake.state_abbr()}{match.group(2)}{_reshape(match.group(3), rng)}" + trail
    elif match := _CITY_STATE_ZIP.match(stripped):
        city = match_case(match.group(1), fake.city())
        new_zip = _reshape(match.group(5), rng)
        return lead + f"{city}{match.group(2)}{fake.state_abbr()}{match.group(4)}{new_zip}" + trail
    elif _SECONDARY.match(stripped):
        new = fake.secondary_address()
    elif _FACILITY.search(stripped):
        new = f"{fake.last_name()} {rng.choice(['Hospital', 'Medical Center', 'Clinic'])}"
    elif len(stripped) == 2 and stripped.isupper():
        new = fake.state_abbr()
    elif stripped.casefold() in _state_names():
        new = fake.state()
    else:
        new = fake.city()
    return lead + match_case(stripped, new) + trail


@functools.cache
def _state_names() -> frozenset[str]:
    from faker.providers.address.en_US import Provider

    return frozenset(name.casefold() for name in Provider.states)


def _email(value: str, fake: Faker, rng: random.Random) -> str:
    user = re.sub(r"[^a-z0-9.]", "", fake.user_name().lower()) or "user"
    return match_case(value, f"{user}{rng.randint(10, 9999)}@{_example_domain(rng)}")


def _example_domain(rng: random.Random) -> str:
    return f"example.{rng.choice(['com', 'org', 'net'])}"


_NAME_LOCAL_PART = re.compile(r"^([A-Za-z]{2,})([._-])([A-Za-z]{2,})$")


def email_name(value: str) -> tuple[str, str, str] | None:
    """``(first, separator, last)`` when the local part of an e-mail is a name (``john.smith@``)."""
    local = value.split("@", 1)[0]
    match = _NAME_LOCAL_PART.match(local)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def email_from_name(value: str, name_surrogate: str, seed: int) -> str:
    """The surrogate of a ``first.last@`` address built from the surrogate of ``first last``.

    So that "John Smith <john.smith@acme.com>" becomes "Mark Lee <mark.lee@example.org>": the name's
    surrogate depends only on the name, so the pair agrees in every row. The domain is a reserved
    documentation domain chosen by ``seed``.
    """
    parts = email_name(value)
    tokens = [re.sub(r"[^a-z0-9]", "", t.lower()) for t in name_surrogate.replace(",", " ").split()]
    tokens = [t for t in tokens if t]
    if parts is None or len(tokens) < 2:
        return surrogate("EMAIL_ADDRESS", value, seed)
    first, sep, _ = parts
    local = f"{tokens[0]}{sep}{tokens[-1]}"
    return match_case(first, local) + "@" + _example_domain(random.Random(seed))


def _url(value: str, fake: Faker, rng: random.Random) -> str:
    scheme = (
        "https://"
        if value.lower().startswith("https")
        else ("http://" if value.lower().startswith("http") else "")
    )
    slug = fake.slug() or "page"
    return f"{scheme}www.example.{rng.choice(['com', 'org', 'net'])}/{slug}"


def _ip(value: str, fake: Faker, rng: random.Random) -> str:
    if ":" in value:
        return f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"
    # Documentation ranges (RFC 5737): never a real host.
    prefix = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{prefix}.{rng.randint(1, 254)}"


def _phone(value: str, fake: Faker, rng: random.Random) -> str:
    digits = [c for c in value if c.isdigit()]
    out = _reshape(value, rng, letters=False)  # "x4321", "ext." stay as written
    if len(digits) >= 10:
        # North American form: keep a leading country code, plausible area code, 555-01xx line range.
        chars = list(out)
        positions = [i for i, c in enumerate(out) if c.isdigit()]
        offset = 1 if len(digits) == 11 and digits[0] == "1" else 0
        if offset:
            chars[positions[0]] = "1"
        chars[positions[offset]] = rng.choice("23456789")
        for pos, digit in zip(positions[offset + 3 : offset + 8], "55501", strict=False):
            chars[pos] = digit
        out = "".join(chars)
    return out


def _ssn(value: str, fake: Faker, rng: random.Random) -> str:
    out = list(_reshape(value, rng))
    positions = [i for i, c in enumerate(out) if c.isdigit()]
    if positions:
        out[positions[0]] = "9"  # area 9xx is never issued as an SSN
    return "".join(out)


def _card(value: str, fake: Faker, rng: random.Random) -> str:
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    digits = [rng.choice(string.digits) for _ in positions]
    if digits:
        digits[0] = value[positions[0]]  # keep the network (first digit)
        digits[-1] = str(_luhn_check_digit(digits[:-1]))
    out = list(value)
    for pos, digit in zip(positions, digits, strict=True):
        out[pos] = digit
    return "".join(out)


def _luhn_check_digit(digits: list[str]) -> int:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10


def _iban(value: str, fake: Faker, rng: random.Random) -> str:
    compact = fake.iban()
    if " " in value.strip():
        compact = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


def _age(value: str, fake: Faker, rng: random.Random) -> str:
    def _move(match: re.Match[str]) -> str:
        age = int(match.group(0))
        return str(90 if age >= 90 else max(0, age + rng.choice([-3, -2, -1, 1, 2, 3])))

    return re.sub(r"\d+", _move, value, count=1)


def _organization(value: str, fake: Faker, rng: random.Random) -> str:
    return match_case(value, fake.company())


GENERATORS: dict[str, Callable[[str, Faker, random.Random], str]] = {
    "PERSON": _person,
    "LOCATION": _location,
    "ORGANIZATION": _organization,
    "EMAIL_ADDRESS": _email,
    "URL": _url,
    "IP_ADDRESS": _ip,
    "PHONE_NUMBER": _phone,
    "US_SSN": _ssn,
    "CREDIT_CARD": _card,
    "IBAN_CODE": _iban,
    "AGE": _age,
}


def surrogate(entity_type: str, value: str, seed: int, locale: str = "en_US") -> str:
    """A surrogate for ``value`` of type ``entity_type`` determined by ``seed``.

    Types without a dedicated generator (identifiers, licence numbers...) keep their shape with
    fresh characters. Surrogates differ from the value they replace.
    """
    for attempt in range(8):
        rng = random.Random(seed + attempt)
        fake = _faker(locale, seed + attempt)
        generator = GENERATORS.get(entity_type)
        new = generator(value, fake, rng) if generator is not None else _reshape(value, rng)
        if new.casefold() != value.casefold():
            return new
    return _reshape(value, random.Random(seed + 99))
