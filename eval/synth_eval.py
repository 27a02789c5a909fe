"""A synthetic PII evaluation set, written apart from the training generator (``deid.ner.synth``).

The training generator writes clinical and nursing notes, e-mails, chats, tickets and forms. This one
writes other kinds of documents, with its own templates, value formats and seed, so that a synthetic
score is not the training generator grading itself:

- ``claim_letter``: an insurer's letter about a claim (policyholder, address block, claim number);
- ``lease``: a residential lease's opening clause (landlord company, tenant, premises, dates);
- ``news_brief``: a local news item (dateline, people with ages, companies, places);
- ``social_post``: a lower-case post or comment (first names, places, a phone number or handle);
- ``voicemail``: a transcribed voicemail (caller, company, call-back number, reference number);
- ``record``: a pipe-separated registry line in upper case (name, birth date, age, SSN, address);
- ``reference``: an employment reference (employee, employer, dates, referee's signature block);
- ``delivery``: a courier's delivery slip (recipient, address block, phone, e-mail).

Names come from several Faker locales (``NAME_LOCALES``); addresses are US-style (number, street,
unit, city, state, ZIP). Gold spans are counted while the text is built, never searched back.
An address is one LOCATION span per line: ``8975 Aaron Drive, Simonhaven, MD 50412`` is one span; in
an address block, the street line (number, street, unit) and the ``City, ST ZIP`` line are one span
each. A news dateline (``LAKE LAUREN, TX``) is one span. Titles ("Ms.", "Dr.") and labels ("SSN:", "age") stay outside the spans.

Labels: PERSON, ORGANIZATION, LOCATION, DATE_TIME, AGE, PHONE_NUMBER, EMAIL_ADDRESS, US_SSN, ID.

Example::

    from synth_eval import generate_eval_documents
    docs = generate_eval_documents(300, seed=20261202)
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from deid.ner.data import Document

EVAL_SEED = 20261202
"""The suite's seed (the training configs use seeds 7 and 8 for ``deid.ner.synth``)."""

NAME_LOCALES: tuple[str, ...] = (
    "en_US",
    "en_GB",
    "en_IN",
    "de_DE",
    "fr_FR",
    "es_MX",
    "it_IT",
    "pt_BR",
    "pl_PL",
    "nl_NL",
    "tr_TR",
    "en_NG",
    "yo_NG",
    "fi_FI",
    "cs_CZ",
    "en_PH",
)
"""Faker locales the person names are drawn from (Latin script)."""

STYLES: tuple[str, ...] = (
    "claim_letter",
    "lease",
    "news_brief",
    "social_post",
    "voicemail",
    "record",
    "reference",
    "delivery",
)

_POOL_SIZE = 300
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass(frozen=True)
class _Pools:
    first: dict[str, tuple[str, ...]]
    last: dict[str, tuple[str, ...]]
    companies: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[str, ...]
    states: tuple[tuple[str, str], ...]  # (abbreviation, full name)
    domains: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _pools() -> _Pools:
    """Value pools drawn once per process (Faker seeded separately from the document seed)."""
    from faker import Faker

    first: dict[str, tuple[str, ...]] = {}
    last: dict[str, tuple[str, ...]] = {}
    for locale in NAME_LOCALES:
        fake = Faker(locale)
        fake.seed_instance(4242)
        first[locale] = tuple(sorted({fake.first_name() for _ in range(_POOL_SIZE)}))
        last[locale] = tuple(sorted({fake.last_name() for _ in range(_POOL_SIZE)}))
    us = Faker("en_US")
    us.seed_instance(4243)
    gb = Faker("en_GB")
    gb.seed_instance(4244)
    companies = {us.company() for _ in range(_POOL_SIZE)} | {gb.company() for _ in range(100)}
    streets = {f"{us.street_name()}" for _ in range(_POOL_SIZE)}
    cities = {us.city() for _ in range(_POOL_SIZE)}
    return _Pools(
        first=first,
        last=last,
        companies=tuple(sorted(companies)),
        streets=tuple(sorted(streets)),
        cities=tuple(sorted(cities)),
        states=tuple((abbr, name) for name, abbr in _US_STATES),
        domains=("mailbox.org", "example.net", "fastpost.io", "inbox.us", "corpmail.com", "web.de"),
    )


_US_STATES = (
    ("Alabama", "AL"), ("Alaska", "AK"), ("Arizona", "AZ"), ("Arkansas", "AR"), ("California", "CA"),
    ("Colorado", "CO"), ("Connecticut", "CT"), ("Delaware", "DE"), ("Florida", "FL"), ("Georgia", "GA"),
    ("Hawaii", "HI"), ("Idaho", "ID"), ("Illinois", "IL"), ("Indiana", "IN"), ("Iowa", "IA"),
    ("Kansas", "KS"), ("Kentucky", "KY"), ("Louisiana", "LA"), ("Maine", "ME"), ("Maryland", "MD"),
    ("Massachusetts", "MA"), ("Michigan", "MI"), ("Minnesota", "MN"), ("Mississippi", "MS"),
    ("Missouri", "MO"), ("Montana", "MT"), ("Nebraska", "NE"), ("Nevada", "NV"), ("New Hampshire", "NH"),
    ("New Jersey", "NJ"), ("New Mexico", "NM"), ("New York", "NY"), ("North Carolina", "NC"),
    ("North Dakota", "ND"), ("Ohio", "OH"), ("Oklahoma", "OK"), ("Oregon", "OR"), ("Pennsylvania", "PA"),
    ("Rhode Island", "RI"), ("South Carolina", "SC"), ("South Dakota", "SD"), ("Tennessee", "TN"),
    ("Texas", "TX"), ("Utah", "UT"), ("Vermont", "VT"), ("Virginia", "VA"), ("Washington", "WA"),
    ("West Virginia", "WV"), ("Wisconsin", "WI"), ("Wyoming", "WY"),
)  # fmt: skip


class _Builder:
    """Text pieces with optional labels; offsets are counted after the case transform of each piece."""

    def __init__(self, case: Callable[[str], str]) -> None:
        self._case = case
        self._parts: list[str] = []
        self._spans: list[tuple[int, int, str]] = []
        self._length = 0

    def text(self, value: str) -> _Builder:
        value = self._case(value)
        self._parts.append(value)
        self._length += len(value)
        return self

    def value(self, value: str, label: str) -> _Builder:
        value = self._case(value)
        self._spans.append((self._length, self._length + len(value), label))
        self._parts.append(value)
        self._length += len(value)
        return self

    def build(self, doc_id: str) -> Document:
        return Document(doc_id, "".join(self._parts), sorted(self._spans), "synth_eval")


class _Values:
    """Random values for one document."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools = _pools()

    def first_last(self) -> tuple[str, str]:
        locale = self.rng.choice(NAME_LOCALES)
        return self.rng.choice(self.pools.first[locale]), self.rng.choice(self.pools.last[locale])

    def full_name(self) -> str:
        first, last = self.first_last()
        if self.rng.random() < 0.15:
            return f"{first} {self.rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
        return f"{first} {last}"

    def company(self) -> str:
        return self.rng.choice(self.pools.companies)

    def street_line(self) -> str:
        number = str(self.rng.randint(2, 19999))
        suffix = self.rng.choice(
            ("Street", "St.", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Blvd", "Court")
        )
        line = f"{number} {self.rng.choice(self.pools.streets).split()[0]} {suffix}"
        if self.rng.random() < 0.35:
            line += " " + self.rng.choice(("Apt", "Unit", "Suite", "#", "Apt."))
            line += ("" if line.endswith("#") else " ") + str(self.rng.randint(1, 980))
            line = line.replace("# ", "#")
        return line

    def city(self) -> str:
        return self.rng.choice(self.pools.cities)

    def state(self) -> str:
        abbr, full = self.rng.choice(self.pools.states)
        return full if self.rng.random() < 0.2 else abbr

    def zip_code(self) -> str:
        code = f"{self.rng.randint(1001, 99950):05d}"
        return code + (f"-{self.rng.randint(0, 9999):04d}" if self.rng.random() < 0.2 else "")

    def phone(self) -> str:
        a, b, c = self.rng.randint(201, 989), self.rng.randint(200, 999), self.rng.randint(0, 9999)
        form = self.rng.randrange(5)
        return (
            f"({a}) {b}-{c:04d}",
            f"{a}-{b}-{c:04d}",
            f"{a}.{b}.{c:04d}",
            f"+1 {a} {b} {c:04d}",
            f"1-{a}-{b}-{c:04d}",
        )[form]

    def email(self, first: str, last: str) -> str:
        user = re.sub(r"[^a-z0-9]", "", f"{first[0]}{last}".lower()) or "user"
        if self.rng.random() < 0.5:
            user = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower()) or user
        return f"{user}{self.rng.choice(('', str(self.rng.randint(1, 99))))}@{self.rng.choice(self.pools.domains)}"

    def date(self) -> str:
        day = dt.date(1950, 1, 1) + dt.timedelta(days=self.rng.randint(0, 27000))
        month = _MONTHS[day.month - 1]
        return self.rng.choice(
            (
                f"{month} {day.day}, {day.year}",
                f"{day.day} {month[:3]} {day.year}",
                f"{day.month:02d}/{day.day:02d}/{day.year}",
                f"{day.isoformat()}",
                f"{day.month}-{day.day}-{day.year % 100:02d}",
                f"{month} {day.year}",
            )
        )

    def age(self) -> str:
        return str(self.rng.randint(19, 97))

    def ssn(self) -> str:
        return f"{self.rng.randint(101, 665)}-{self.rng.randint(10, 99)}-{self.rng.randint(1000, 9999)}"

    def reference(self) -> str:
        letters = "".join(self.rng.choice("ABCDEFGHKLMNPRTXZ") for _ in range(self.rng.randint(2, 3)))
        return f"{letters}-{self.rng.randint(100000, 9999999)}"


def _address_block(b: _Builder, v: _Values, sep: str = "\n") -> None:
    """A US address; each line of it is one LOCATION span (the issue's "whole address as one span")."""
    street, city_line = v.street_line(), f"{v.city()}, {v.state()} {v.zip_code()}"
    if sep == "\n":
        b.value(street, "LOCATION").text(sep).value(city_line, "LOCATION")
    else:
        b.value(f"{street}{sep}{city_line}", "LOCATION")


def _title(v: _Values) -> str:
    return v.rng.choice(("Mr.", "Ms.", "Mrs.", "Mx.", "Dr.", "Prof."))


def _claim_letter(b: _Builder, v: _Values) -> None:
    first, last = v.first_last()
    b.text(v.rng.choice(("Our reference: ", "Claim no. ", "RE: claim "))).value(v.reference(), "ID").text(
        "\n"
    )
    b.value(v.date(), "DATE_TIME").text("\n\n").value(f"{first} {last}", "PERSON").text("\n")
    _address_block(b, v)
    b.text(f"\n\nDear {_title(v)} ").value(last, "PERSON").text(",\n\n")
    if v.rng.random() < 0.5:
        b.text("We have reviewed the water-damage claim you lodged on ").value(v.date(), "DATE_TIME")
        b.text(" under policy ").value(v.reference(), "ID").text(".")
    else:
        b.text("Thank you for reporting the collision of ").value(v.date(), "DATE_TIME")
        b.text(". Your vehicle is insured under contract ").value(v.reference(), "ID").text(".")
    b.text(v.rng.choice((" The adjuster, ", " Our loss assessor ", " An inspector, ")))
    b.value(v.full_name(), "PERSON").text(" of ").value(v.company(), "ORGANIZATION")
    b.text(", will contact you before ").value(v.date(), "DATE_TIME")
    b.text(". Please keep receipts for the dehumidifier rental, the tow and the 2 x 4 lumber.\n\n")
    b.text(v.rng.choice(("Questions? Call our claims desk at ", "You can reach the claims team on ")))
    b.value(v.phone(), "PHONE_NUMBER").text(" (Mon-Fri, 8-6).\n\n")
    b.text(v.rng.choice(("Sincerely,\n", "Yours faithfully,\n", "Best regards,\n"))).value(
        v.full_name(), "PERSON"
    )
    b.text("\nClaims Supervisor, ").value(v.company(), "ORGANIZATION").text("\n")


def _lease(b: _Builder, v: _Values) -> None:
    b.text(v.rng.choice(("RESIDENTIAL LEASE AGREEMENT\n\n", "LEASE\n\n", "Rental Agreement\n\n")))
    b.text("This Lease is entered into on ").value(v.date(), "DATE_TIME").text(" by and between ")
    landlord_first = v.rng.random() < 0.5
    if landlord_first:
        b.value(v.company(), "ORGANIZATION").text(' ("Landlord") and ').value(v.full_name(), "PERSON")
        b.text(' ("Tenant").')
    else:
        b.value(v.full_name(), "PERSON").text(' ("Tenant") and ').value(v.company(), "ORGANIZATION")
        b.text(' ("Landlord").')
    b.text(" Landlord leases to Tenant the premises located at ")
    _address_block(b, v, sep=", ")
    b.text(' (the "Premises") for a term beginning ').value(v.date(), "DATE_TIME").text(" and ending ")
    b.value(v.date(), "DATE_TIME").text(". Monthly rent is $1,850.00, due on the first day of each month.")
    if v.rng.random() < 0.5:
        b.text(" A security deposit of $2,000 is held by ").value(v.company(), "ORGANIZATION").text(".")
    b.text(" Notices to Landlord shall be sent to the attention of ").value(v.full_name(), "PERSON")
    b.text(", tel. ").value(v.phone(), "PHONE_NUMBER").text(". Section 8 of this Lease governs pets.\n")


def _news_brief(b: _Builder, v: _Values) -> None:
    b.value(f"{v.city().upper()}, {v.state()}", "LOCATION").text(" - ")
    b.value(v.full_name(), "PERSON").text(", ").value(v.age(), "AGE")
    b.text(v.rng.choice((", was named chief executive of ", ", has joined the board of ", ", left ")))
    b.value(v.company(), "ORGANIZATION").text(" on ").value(v.date(), "DATE_TIME")
    b.text(v.rng.choice((", the company said in a statement.", ", according to a filing.", ".")))
    b.text(v.rng.choice((" She succeeds ", " He replaces ", " They follow ")))
    b.value(v.full_name(), "PERSON").text(", who led the firm through its merger with ")
    b.value(v.company(), "ORGANIZATION").text(". Shares rose 3.2% in early trading. ")
    if v.rng.random() < 0.5:
        b.text("The company's plant in ").value(v.city(), "LOCATION").text(" employs about 1,200 people, ")
    else:
        b.text("Its headquarters at ")
        _address_block(b, v, sep=", ")
        b.text(" will stay open, ")
    b.text("according to ").value(v.full_name(), "PERSON").text(", a spokesperson.\n")


def _social_post(b: _Builder, v: _Values) -> None:
    first, _ = v.first_last()
    other, _ = v.first_last()
    if v.rng.random() < 0.5:
        b.text("ok so ").value(first, "PERSON").text(" and i finally tried that taco place on ")
        b.value(v.street_line(), "LOCATION").text(" in ").value(v.city(), "LOCATION")
        b.text(" and honestly 10/10. ")
    else:
        b.text("shoutout to ").value(first, "PERSON").text(" from ").value(v.company(), "ORGANIZATION")
        b.text(" for fixing my laptop in like 5 min!! best store in ").value(v.city(), "LOCATION").text(". ")
    b.value(other, "PERSON").text(
        v.rng.choice((" if ur reading this u owe me lunch lol. ", " miss u already. "))
    )
    b.text("anyone selling a used bike? text me ").value(v.phone(), "PHONE_NUMBER").text(" #weekend\n")


def _voicemail(b: _Builder, v: _Values) -> None:
    first, last = v.first_last()
    b.text(f"[Voicemail, 0:{v.rng.randint(10, 59)}] ")
    b.text(
        v.rng.choice(
            ("Hi, this message is for ", "Hello, I'm trying to reach ", "Good morning, calling for ")
        )
    )
    b.value(v.full_name(), "PERSON").text(". This is ").value(f"{first} {last}", "PERSON").text(
        " calling from "
    )
    b.value(v.company(), "ORGANIZATION").text(" about your order, reference ").value(v.reference(), "ID")
    b.text(". It was scheduled for ").value(v.date(), "DATE_TIME")
    b.text(" but the part is back-ordered. Please call me back at ").value(v.phone(), "PHONE_NUMBER")
    if v.rng.random() < 0.6:
        b.text(" or email ").value(v.email(first, last), "EMAIL_ADDRESS")
    b.text(". Thanks, bye.\n")


def _record(b: _Builder, v: _Values) -> None:
    fields: list[tuple[str, str, str]] = [
        ("NAME", v.full_name(), "PERSON"),
        ("DOB", v.date(), "DATE_TIME"),
        ("AGE", v.age(), "AGE"),
        ("SSN", v.ssn(), "US_SSN"),
        ("TEL", v.phone(), "PHONE_NUMBER"),
        ("EMPLOYER", v.company(), "ORGANIZATION"),
    ]
    v.rng.shuffle(fields)
    b.text("REC|").value(v.reference(), "ID")
    for key, value, label in fields:
        b.text(f"|{key}=").value(value, label)
    b.text("|ADDR=")
    _address_block(b, v, sep=", ")
    b.text("|STATUS=ACTIVE\n")


def _reference(b: _Builder, v: _Values) -> None:
    first, last = v.first_last()
    employee = v.full_name()
    b.text("To whom it may concern,\n\nI am pleased to recommend ").value(employee, "PERSON")
    b.text(
        v.rng.choice(
            (", who worked as a logistics analyst at ", ", a nurse on my ward at ", ", our intern at ")
        )
    )
    b.value(v.company(), "ORGANIZATION").text(" from ").value(v.date(), "DATE_TIME").text(" to ")
    b.value(v.date(), "DATE_TIME").text(
        ". In that role they rebuilt our Excel forecasting model and trained new hires. "
    )
    b.text("Before joining us they studied at ").value(v.company(), "ORGANIZATION").text(" in ")
    b.value(v.city(), "LOCATION").text(".\n\n")
    b.text(v.rng.choice(("Kind regards,\n", "Sincerely,\n"))).value(f"{first} {last}", "PERSON")
    b.text("\nHead of Operations\n").value(v.phone(), "PHONE_NUMBER").text(" | ")
    b.value(v.email(first, last), "EMAIL_ADDRESS").text("\n")


def _delivery(b: _Builder, v: _Values) -> None:
    first, last = v.first_last()
    b.text("DELIVERY SLIP  No. ").value(v.reference(), "ID")
    b.text(v.rng.choice(("\nShip to: ", "\nRecipient: ", "\nDeliver to: "))).value(
        f"{first} {last}", "PERSON"
    )
    b.text("\n")
    _address_block(b, v)
    b.text("\nContact: ").value(v.phone(), "PHONE_NUMBER").text(" / ").value(
        v.email(first, last), "EMAIL_ADDRESS"
    )
    b.text("\nDeliver after: ").value(v.date(), "DATE_TIME")
    b.text("\nContents: 2 cartons, 14 kg, fragile\nIf absent, leave with neighbour ")
    b.value(v.full_name(), "PERSON").text(".\n")


_WRITERS: dict[str, Callable[[_Builder, _Values], None]] = {
    "claim_letter": _claim_letter,
    "lease": _lease,
    "news_brief": _news_brief,
    "social_post": _social_post,
    "voicemail": _voicemail,
    "record": _record,
    "reference": _reference,
    "delivery": _delivery,
}


def _case_for(style: str, rng: random.Random) -> Callable[[str], str]:
    if style == "record":
        return str.upper
    if style == "social_post":
        return str.lower if rng.random() < 0.7 else str
    return str.upper if rng.random() < 0.05 else str


def generate_eval_documents(n: int, *, seed: int = EVAL_SEED) -> list[Document]:
    """``n`` synthetic documents, styles in turn, deterministic for a seed.

    Args:
        n: number of documents.
        seed: the random seed (default :data:`EVAL_SEED`).

    Returns:
        Documents with gold ``(start, end, label)`` spans; ids ``synth-eval-<i>-<style>``.
    """
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        style = STYLES[i % len(STYLES)]
        builder = _Builder(_case_for(style, rng))
        _WRITERS[style](builder, _Values(rng))
        docs.append(builder.build(f"synth-eval-{i}-{style}"))
    return docs
