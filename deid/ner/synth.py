"""Seeded synthetic PII documents with exact gold spans.

Documents are built by concatenating template text and generated values while counting
characters, so every gold span is an exact Python string slice (end exclusive) of the text; a value
is never searched back in the text. Templates mix labelled PII with unlabelled hard negatives
(drug names, eponymous diseases, vitals, lab values, ventilator settings, durations, clock times,
product names) so that a model trained on them learns what *not* to flag.

Labels follow Presidio's entity names, plus ``ID`` for other identifiers (MRN, account, ticket and
member numbers). Titles ("Dr.", "Mrs") and context words ("age", "year old", "MRN") are left out of
the spans: only the identifying value is labelled.

Two modes:

* **classic** (``broad=False``): the six :data:`CLASSIC_STYLES` (clinical and nursing notes, e-mails,
  chats, tickets, forms), en_US values, every address part its own span. Its output is frozen: model
  v1, the shipped sample corpus and the benchmark corpora were made from it.
* **broad** (``broad=True``, the default of :func:`generate_documents`; the training data of model
  v2): all :data:`STYLES`, adding :data:`BROAD_STYLES` (referral, HR and insurance letters, news,
  social posts, e-mails with signature blocks, loan agreements, biographies, support chats). People
  come from 20 Latin-script Faker locales (:data:`deid.ner.synth_data.NAME_LOCALES`, ja_JP romanised)
  with their own address, postcode and phone formats where Faker has them; companies, schools,
  agencies, banks, insurers, hospitals and clinics are named; a contiguous place ("12 Elm St, Apt 4,
  Boston, MA 02110", "Beerweg 5, 04164 Augsburg, Germany") is ONE LOCATION span (a hospital or
  clinic name stays its own span) and a first name followed by a last name one PERSON span; dates come in many forms ("3/4", "March 4th", "the 4th",
  "Tuesday", "2019", "4th of March 2019"); social handles are labelled with their "@" (PERSON for
  people, ORGANIZATION for companies). About 45% of documents get typos (letters swapped, dropped or
  doubled; mostly in unlabelled words, sometimes inside names and places) and about 16% of documents
  of mixed-case styles are turned all lower or all upper case; the text is cut into gaps and spans
  and re-joined while counting, so offsets stay exact. Hard negatives stay unlabelled: drug and brand
  names (Tylenol), eponyms (Parkinson's, Crohn's), clinical abbreviations (PERRLA, NPO, CXR, A&O x3),
  products (iPhone, Excel), job titles, departments ("Cardiology", "HR") and generic references
  ("the bank", "the Borrower", "the Lender").

Hospitals and clinics are LOCATION (as in the PhysioNet gold); companies, schools, agencies, banks
and insurers are ORGANIZATION. Faker instances are seeded per instance (``seed_instance``), never
globally; value pools are drawn once per process, so 3,000 documents take a few seconds.

Example::

    from deid.ner.synth import generate_documents
    for doc in generate_documents(100, seed=7, styles=["email", "social"]):
        ...
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from deid.errors import ConfigError
from deid.ner import synth_data as sd
from deid.ner.synth_data import ADDRESS_LOCALES, NAME_LOCALES

__all__ = [
    "BROAD_STYLES",
    "CLASSIC_STYLES",
    "LABELS",
    "STYLES",
    "Person",
    "SyntheticGenerator",
    "generate_documents",
]

CLASSIC_STYLES: tuple[str, ...] = ("clinical_note", "nursing_note", "email", "chat", "ticket", "form")
"""The first six styles; ``generate_documents(..., broad=False)`` renders exactly what it did before."""

BROAD_STYLES: tuple[str, ...] = (
    "referral_letter",
    "hr_letter",
    "insurance_letter",
    "news",
    "social",
    "signature_email",
    "loan_agreement",
    "bio",
    "support_chat",
)
"""Styles added for the training data of model v2 (letters, news, social posts, contracts...)."""

STYLES: tuple[str, ...] = CLASSIC_STYLES + BROAD_STYLES
"""Document styles. ``nursing_note`` is fully upper case; ``chat`` and ``social`` are mostly lower case."""

LABELS: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "DATE_TIME",
    "AGE",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "URL",
    "IP_ADDRESS",
    "US_SSN",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "ID",
)
"""Every label the generator emits."""

# Labels whose values follow the document's case (upper-case notes, lower-case chat). Code-like
# values (e-mail, IBAN, licence numbers...) are pasted as they are, as people do.
_CASED_LABELS = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "DATE_TIME", "AGE"})

_MONTHS = (
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
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_AREA_CODES = tuple(
    str(code)
    for code in (201, 202, 203, 206, 212, 213, 214, 215, 216, 218, 224, 267, 281, 301, 303, 305, 310, 312)
    + (313, 314, 315, 317, 323, 347, 401, 404, 410, 412, 415, 484, 503, 508, 512, 516, 518, 520, 602, 610)
    + (612, 614, 617, 619, 646, 702, 703, 704, 713, 718, 720, 732, 774, 781, 786, 801, 804, 816, 818, 847)
    + (857, 860, 904, 914, 917, 919, 925, 954, 973, 978, 980)
)
_FREE_MAIL = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com", "proton.me")
_INSURERS = (
    "Blue Cross Blue Shield",
    "Aetna",
    "UnitedHealthcare",
    "Cigna",
    "Humana",
    "Kaiser Permanente",
    "Harvard Pilgrim",
    "Tufts Health Plan",
    "Medicaid",
)
_HOSPITAL_FORMS = (
    "{city} General Hospital",
    "St. {last}'s Medical Center",
    "{last} Memorial Hospital",
    "{state} University Medical Center",
    "Mercy Hospital of {city}",
    "{city} Rehabilitation Center",
    "{last} Nursing Home",
)
_DRUGS = (
    "metoprolol",
    "heparin",
    "lasix",
    "furosemide",
    "vancomycin",
    "zosyn",
    "propofol",
    "fentanyl",
    "insulin",
    "lisinopril",
    "atorvastatin",
    "coumadin",
    "warfarin",
    "tylenol",
    "acetaminophen",
    "morphine",
    "dilaudid",
    "levophed",
    "protonix",
    "ceftriaxone",
    "albuterol",
    "prednisone",
    "amiodarone",
    "KCl",
    "magnesium sulfate",
    "haldol",
    "ativan",
    "precedex",
    "lovenox",
    "keppra",
)
_DISEASES = (
    "pneumonia",
    "CHF",
    "COPD",
    "sepsis",
    "afib",
    "DM2",
    "HTN",
    "CKD stage 3",
    "UTI",
    "NSTEMI",
    "ARDS",
    "DVT",
    "GI bleed",
    "cellulitis",
    "AKI",
    "Parkinson's disease",
    "Crohn's disease",
    "Alzheimer's dementia",
    "Hodgkin lymphoma",
    "Graves' disease",
    "Bell's palsy",
    "Guillain-Barre syndrome",
    "Down syndrome",
    "Cushing's syndrome",
)
_SYMPTOMS = ("SOB", "chest pain", "fever", "n/v", "abd pain", "confusion", "syncope", "cough", "weakness")
_ROUTES = ("IV", "PO", "SC", "IM", "PR")
_FREQS = ("q4h", "q6h", "q8h", "prn", "BID", "TID", "daily", "qhs", "x1", "q2h prn")
_RELDAYS = ("today", "yesterday", "this morning", "tonight", "overnight", "last night", "this AM", "tomorrow")
_CLOCKS = ("at 0800", "at 1400", "@ 2200", "at 0600", "by 1600", "@0400", "at noon", "at midnight")
_DURATIONS = ("2 weeks", "x3 days", "for 3 days", "48 hours", "6 months", "x2 weeks", "10 days", "24 hrs")
_PRODUCTS = (
    "Deid Cloud Pro",
    "the mobile app v2.4.1",
    "Windows 11",
    "Chrome 121",
    "router AX3000",
    "Excel",
    "the patient portal",
    "iPhone 14",
    "Outlook",
    "billing module 3.2",
)
_SERVICES = ("MEDICINE", "SURGERY", "CARDIOLOGY", "NEUROLOGY", "ONCOLOGY", "ORTHOPAEDICS")
_RELATIONS = ("wife", "husband", "daughter", "son", "sister", "brother", "niece", "friend", "HCP")
_JOBS = ("teacher", "nurse", "electrician", "accountant", "driver", "engineer", "cashier", "chef")
_RHYTHMS = ("NSR", "SR 70S-80S", "AFIB 90S-110S", "SINUS TACH", "PACED RHYTHM")
_LABNAMES = ("lytes", "CBC", "lactate", "coags", "ABG", "BMP", "troponin")


@dataclass(frozen=True)
class Person:
    """A synthetic person; a document reuses one for the patient so that names and ids agree."""

    first: str
    last: str
    sex: str
    middle_initial: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    state_abbr: str
    zipcode: str
    dob: dt.date
    mrn: str
    locale: str = "en_US"
    country: str = ""


@dataclass(frozen=True)
class _LocalePools:
    """Names, places, companies and phones of one Faker locale (broad mode)."""

    locale: str
    first_male: tuple[str, ...]
    first_female: tuple[str, ...]
    last: tuple[str, ...]
    cities: tuple[str, ...]
    streets: tuple[str, ...]
    postcodes: tuple[str, ...]
    companies: tuple[str, ...]
    phones: tuple[str, ...]


_SPACES = re.compile(r"\s+")


def _seeded_faker(locale: str, seed: int = 0) -> Any:
    """A Faker for ``locale`` seeded with ``seed`` whose draws do not depend on ``PYTHONHASHSEED``.

    Faker's it_IT address provider builds its city list from a set, so the list's order, and the
    cities a seeded Faker draws, changed from process to process: such lists are sorted here, so that
    one seed gives the same documents in every process (tests/ner/test_synth.py runs two hash seeds).
    """
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    for provider in fake.get_providers():
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list) and all(isinstance(c, str) for c in cities):
            provider.cities = sorted(cities)
    return fake


@functools.cache
def _locale_pools(locale: str) -> _LocalePools:
    """Value pools of one locale, drawn once per process from a Faker instance seeded with 0."""

    fake = _seeded_faker(locale)

    def draw(method: Callable[[], str], k: int) -> tuple[str, ...]:
        values = {_SPACES.sub(" ", str(method()).replace("\n", ", ")).strip(" ,") for _ in range(k)}
        return tuple(sorted(v for v in values if v))

    if locale == "ja_JP":
        first_m = first_f = draw(fake.first_romanized_name, 200)
        last = draw(fake.last_romanized_name, 200)
    else:
        first_m = draw(fake.first_name_male, 300)
        first_f = draw(fake.first_name_female, 300)
        last = draw(fake.last_name, 400)
    has_places = locale in ADDRESS_LOCALES
    return _LocalePools(
        locale=locale,
        first_male=first_m,
        first_female=first_f,
        last=last,
        cities=draw(fake.city, 200) if has_places else (),
        streets=draw(fake.street_address, 200) if has_places else (),
        postcodes=draw(fake.postcode, 100) if has_places else (),
        companies=draw(fake.company, 100) if locale != "ja_JP" else (),
        phones=draw(fake.phone_number, 100) if has_places else (),
    )


@dataclass(frozen=True)
class _Pools:
    first_male: tuple[str, ...]
    first_female: tuple[str, ...]
    last: tuple[str, ...]
    cities: tuple[str, ...]
    streets: tuple[str, ...]
    states: tuple[tuple[str, str], ...]
    companies: tuple[str, ...]
    domains: tuple[str, ...]
    countries: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def _pools(locale: str) -> _Pools:
    """Value pools drawn once per process and locale; weighted Faker calls are too slow per document."""

    fake = _seeded_faker(locale)

    def draw(method: Callable[[], str], k: int) -> tuple[str, ...]:
        return tuple(sorted({method().strip() for _ in range(k)}))

    try:
        # Names and abbreviations are drawn independently; they are used independently too.
        states = tuple(
            sorted({(fake.state(), fake.state_abbr(include_territories=False)) for _ in range(300)})
        )
    except (AttributeError, TypeError):
        states = (("Massachusetts", "MA"), ("New York", "NY"), ("California", "CA"))
    return _Pools(
        first_male=draw(fake.first_name_male, 700),
        first_female=draw(fake.first_name_female, 700),
        last=draw(fake.last_name, 1500),
        cities=draw(fake.city, 500),
        streets=draw(fake.street_address, 500),
        states=states,
        companies=draw(fake.company, 300),
        domains=draw(fake.domain_name, 200),
        countries=draw(fake.country, 300),
    )


class _Builder:
    """Accumulates text pieces and the gold spans of the labelled ones."""

    __slots__ = ("parts", "spans", "pos", "case", "merge_loc", "gap", "last")

    def __init__(self, case: str | None = None, merge_loc: bool = False) -> None:
        self.parts: list[str] = []
        self.spans: list[dict[str, Any]] = []
        self.pos = 0
        self.case = case
        # Broad mode: contiguous places ("12 Elm St, Boston, MA 02110") become one LOCATION span and
        # a first name followed by a last name one PERSON span.
        self.merge_loc = merge_loc
        self.gap = ""
        self.last = ""

    def _cased(self, s: str) -> str:
        if self.case == "upper":
            return s.upper()
        if self.case == "lower":
            return s.lower()
        return s

    def text(self, s: str) -> None:
        if s:
            s = self._cased(s)
            self.parts.append(s)
            self.pos += len(s)
            if self.merge_loc:
                self.gap = (self.gap + s)[-4:]

    def ent(self, value: str, label: str, merge: bool = True) -> None:
        if label in _CASED_LABELS:
            value = self._cased(value)
        if not value or value != value.strip():
            raise AssertionError(f"bad generated value for {label}")
        self.parts.append(value)
        if (
            self.merge_loc
            and merge
            and self.last
            and self.spans
            and self.spans[-1]["label"] == label
            and self.spans[-1]["end"] + len(self.gap) == self.pos
            and (
                (label == "LOCATION" and self.gap in (", ", " ", ","))
                or (label == "PERSON" and self.gap == " " and "@" not in value + self.last)
            )
        ):
            self.spans[-1]["end"] = self.pos + len(value)
        else:
            self.spans.append({"start": self.pos, "end": self.pos + len(value), "label": label})
        self.pos += len(value)
        self.gap = ""
        # A named site (hospital, clinic) stays its own span, as in the PhysioNet gold.
        self.last = value if merge else ""

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        return "".join(self.parts), self.spans


_TYPO_WORD = re.compile(r"[^\W\d_]{4,}")
_TYPO_LABELS = frozenset({"PERSON", "LOCATION", "ORGANIZATION"})


def _typo(word: str, rng: random.Random) -> str:
    """One typing error inside ``word`` (its first and last characters stay): swap, drop or double."""
    i = rng.randrange(1, len(word) - 2) if len(word) > 3 else 1
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def _typos_in(segment: str, rate: float, rng: random.Random) -> str:
    """Put typos in a ``rate`` share of the words of 4+ letters that have a lower-case letter."""

    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.isupper() or rng.random() >= rate:
            return word
        return _typo(word, rng)

    return _TYPO_WORD.sub(repl, segment)


def _perturb(
    text: str, spans: list[dict[str, Any]], rng: random.Random, *, allow_case: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Broad-mode noise: typos and whole-document case changes, with every offset recomputed.

    The text is cut into gaps and spans; each piece is changed on its own and the pieces are joined
    again while counting characters, so spans stay exact slices even when a change alters a length
    (a dropped letter, ``"ß".upper() == "SS"``).
    """
    r = rng.random()
    typo_rate = 0.0 if r < 0.55 else (0.02 if r < 0.85 else 0.06)
    span_typo_rate = 0.0 if typo_rate == 0.0 else 0.04
    c = rng.random() if allow_case else 1.0
    case = "lower" if c < 0.1 else ("upper" if c < 0.16 else None)
    if typo_rate == 0.0 and case is None:
        return text, spans

    def cased(piece: str) -> str:
        if case == "lower":
            return piece.lower()
        if case == "upper":
            return piece.upper()
        return piece

    parts: list[str] = []
    out: list[dict[str, Any]] = []
    pos = 0
    prev = 0
    for span in spans:
        gap = cased(_typos_in(text[prev : span["start"]], typo_rate, rng))
        parts.append(gap)
        pos += len(gap)
        value = text[span["start"] : span["end"]]
        if span["label"] in _TYPO_LABELS and rng.random() < span_typo_rate:
            words = list(_TYPO_WORD.finditer(value))
            if words:
                m = rng.choice(words)
                value = value[: m.start()] + _typo(m.group(0), rng) + value[m.end() :]
        if span["label"] in _CASED_LABELS:
            value = cased(value)
        parts.append(value)
        out.append({"start": pos, "end": pos + len(value), "label": span["label"]})
        pos += len(value)
        prev = span["end"]
    parts.append(cased(_typos_in(text[prev:], typo_rate, rng)))
    return "".join(parts), out


_PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)(?:\.([a-z_]+))?\}")


@functools.cache
def _compile(template: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """Split a template into (literal, kind, form) triples."""
    out: list[tuple[str, str | None, str | None]] = []
    last = 0
    for m in _PLACEHOLDER.finditer(template):
        out.append((template[last : m.start()], m.group(1), m.group(2)))
        last = m.end()
    out.append((template[last:], None, None))
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# Templates. Placeholders: {KIND} or {ROLE.form} with ROLE in PT, DOC, STAFF, REL, OTHER and form in
# full, first, last, init_last, initials, last_first, title, email, phone, address, city, state, zip,
# dob, mrn. Everything else in braces is a value kind handled by SyntheticGenerator._kinds.
# ----------------------------------------------------------------------------------------------

_CLINICAL_HEADERS = (
    "Admission Date: {DATE}   Discharge Date: {DATE}\nDate of Birth: {PT.dob}   Sex: {SEX}\n"
    "Service: {SERVICE}\n\n",
    "Patient: {PT.full}   MRN: {PT.mrn}\nDOB: {PT.dob}\nAttending: Dr. {DOC.last}\n\n",
    "Name: {PT.last_first}    Unit No: {PT.mrn}\nAdmitted {DATE} to {HOSPITAL}\n\n",
    "PROGRESS NOTE - {DATETIME}\n{PT.full} ({PT.initials}), MRN {PT.mrn}, Acct #{ACCT}\n\n",
)
_CLINICAL_BODY = (
    "HPI: {PT.first} is a {AGE} year old with {DISEASE} and {DISEASE} who presents with {SYMPTOM} "
    "{DURATION}. Seen at {HOSPITAL} on {DATE_MD}, started on {DRUG_ORDER}.",
    "History of Present Illness: {PT.title} {PT.last} is a {AGE} y/o with history of {DISEASE} "
    "(dx {YEAR}) admitted for {DISEASE}. Lives in {PT.city}, {PT.state} with {REL_WORD} {REL.first}.",
    "Pt is a {AGE}yo transferred from {HOSPITAL} for management of {DISEASE}. {SYMPTOM} since {RELDAY}.",
    "Vitals: {VITALS}, {VITALS}, {VITALS}. Labs notable for {LAB}, {LAB}, {LAB}.",
    "Meds: {DRUG_ORDER}, {DRUG_ORDER}, {DRUG} {FREQ}. Allergies: {DRUG}.",
    "Social: lives with {REL_WORD} {REL.full} at {PT.address}. Works as a {JOB} at {ORG}. "
    "Quit smoking in {YEAR2}, {COUNT} pack-years.",
    "Contact: {REL_WORD} {REL.full}, phone {REL.phone}, cell {PHONE}.",
    "Plan: continue {DRUG} {FREQ}, repeat {LABNAME} {CLOCK}, f/u with Dr. {DOC.last} in {DURATION}. "
    "Page {STAFF.init_last} at {PAGER} with questions.",
    "Insurance: {INSURER}, member ID {MEMBER}. SSN {SSN}. Employer: {ORG}.",
    "Discussed with pt's {REL_WORD} {REL.first} ({REL.phone}) {RELDAY}; agrees with plan. "
    "Family meeting set for {DATE_MD} with Dr. {DOC.last} and {STAFF.first} from case management.",
    "Prior records requested from {HOSPITAL}, fax {PHONE}. Last colonoscopy {YEAR}, last echo {DATE}.",
    "Pt reports she has been taking {DRUG} {DURATION}; {VITALS}, {LAB}. No {SYMPTOM}.",
    "Ambulance picked pt up from {PT.address}. Pt's {REL_WORD} {REL.full} ({REL.email}) will bring "
    "the list of meds {RELDAY}.",
    "Patient portal enrollment sent to {PT.email}; portal link {URL}.",
)
_CLINICAL_FOOTERS = (
    "\n\nElectronically signed by {DOC.full}, MD on {DATETIME}",
    "\n\n{DOC.full} MD, pager {PAGER}\n{HOSPITAL}, {CITY}, {STATE}",
    "\n\nDictated by: {DOC.init_last}   Transcribed: {DATE}",
    "\n\n-- {STAFF.full}, RN",
)

_NURSING_HEADERS = (
    "NURSING PROGRESS NOTE {DATE_MD} 0700-1900\n",
    "NPN {DATE}: PT {PT.last}, {AGE} YO, DX {DISEASE}.\n",
    "CCU NSG NOTE 7P-7A, {PT.initials}, BED 12\n",
    "MICU NURSING ADMIT NOTE {DATE}\n{AGE}YO PT ADMITTED FROM {HOSPITAL} WITH {DISEASE}.\n",
)
_NURSING_BODY = (
    "NEURO: ALERT, ORIENTED X3, FOLLOWS COMMANDS. {DRUG} {FREQ} FOR PAIN WITH GOOD EFFECT.",
    "CV: {VITALS}, {VITALS}. {RHYTHM}. {DRUG_ORDER}. PAP {PAP}.",
    "RESP: {VENT}. LS COARSE BILAT. SX FOR THICK TAN SPUTUM. {LAB}.",
    "GI/GU: ABD SOFT, +BS. FOLEY DRAINING CLEAR YELLOW URINE, {COUNT}CC/HR. {DRUG_ORDER}.",
    "ID: TMAX 38.1, WBC {WBC}. ON {DRUG} {FREQ}, CX PENDING.",
    "SKIN: INTACT. TURNED {FREQ}.",
    "SOCIAL: {REL_WORD} {REL.first} CALLED ({REL.phone}) {RELDAY}, UPDATED ON PLAN OF CARE.",
    "SOCIAL: {REL_WORD} {REL.full} AT BEDSIDE, LIVES IN {CITY}. CODE STATUS FULL.",
    "ENDO: BS {BS}, COVERED WITH SSI. {DRUG_ORDER}.",
    "PT SEEN BY DR. {DOC.last} {CLOCK}; PLAN TO EXTUBATE {RELDAY} IF {LAB}.",
)
_NURSING_FOOTERS = (
    "\nPLAN: CONTINUE TO MONITOR, {LABNAME} RECHECK {CLOCK}.",
    "\nPLAN: WEAN {DRUG} AS TOLERATED, FOLLOW {LABNAME}. {STAFF.first} RN {PAGER}",
    "\nA/P: {DISEASE}, STABLE. F/U {LABNAME} {CLOCK}.",
)

_EMAIL_HEADERS = (
    "From: {DOC.full} <{DOC.email}>\nTo: {REL.full} <{REL.email}>\nDate: {EMAIL_DATE}\nSubject: {SUBJECT}\n\n"
    "{GREET} {REL.first},\n\n",
    "From: {STAFF.email}\nTo: {PT.email}\nCc: {DOC.email}\nSent: {DATETIME}\nSubject: RE: {SUBJECT}\n\n"
    "{GREET} {PT.title} {PT.last},\n\n",
    'From: "{PT.last_first}" <{PT.email}>\nTo: billing@{DOMAIN}\nDate: {EMAIL_DATE}\nSubject: {SUBJECT}\n\n'
    "{GREET},\n\n",
)
_EMAIL_BODY = (
    "Following up on {PT.full} (MRN {PT.mrn}), seen on {DATE}. {PT.first} is a {AGE} year old with "
    "{DISEASE}; we started {DRUG_ORDER} and will reassess in {DURATION}.",
    "Please call me at {PHONE} or on my cell {DOC.phone} if anything changes {RELDAY}.",
    "The referral to {HOSPITAL} in {CITY}, {STATE} was sent {RELDAY}; their intake line is {PHONE}.",
    "My updated mailing address is {PT.address}. Please update my file.",
    "For the refund please use IBAN {IBAN} (account holder {PT.full}).",
    "I was charged twice on card {CC} on {DATE}. Order {ACCT}.",
    "The shared folder is at {URL}; the last access came from {IP}.",
    "I have attached the form from {ORG}. My SSN is {SSN} and my date of birth is {PT.dob}.",
    "Reminder: {PT.first} needs {LABNAME} drawn {CLOCK} before the {DRUG} dose. BP was 132/84, HR 76.",
    "We met at the {ORG} event in {YEAR}; {OTHER.full} gave me your address.",
)
_EMAIL_FOOTERS = (
    "\n\n{SIGNOFF},\n{DOC.full}\n{JOB_TITLE}, {HOSPITAL}\nTel {PHONE} | Pager {PAGER}\n{URL}",
    "\n\n{SIGNOFF},\n{STAFF.first}\n{ORG}\n{PHONE}",
    "\n\n{SIGNOFF}\n{PT.full}\n{PT.phone}",
    "\n\nSent from my iPhone",
)

_CHAT_LINES = (
    "hey {STAFF.first} can u cover bed 12 tonight? pt {PT.last} on {DRUG} gtt, bp 90/50 again",
    "{DOC.last} wants {LABNAME} {CLOCK} fyi",
    "family ({REL_WORD}) keeps calling, her # is {REL.phone}",
    "did anyone talk to {REL.first} {REL.last}?? she said she'd be here {RELDAY}",
    "ok will do",
    "lol same. k is {K} so gave {DRUG_ORDER}",
    "new admit from {HOSPITAL}, {AGE} y/o w {DISEASE}, mrn {PT.mrn}",
    "can someone email {STAFF.email} the handoff?",
    "pt's dob is {PT.dob} not {DATE}, fix the wristband pls",
    "heading to {CITY} for the weekend, back {DATE_MD}",
    "text me at {PHONE} if its urgent",
    "thx {OTHER.first}!!",
    "{PT.initials} in 4 is asking for {DRUG} again, last dose {CLOCK}",
    "vpn down again, my ip is {IP} - ticket with {ORG}?",
    "link to the schedule: {URL}",
    "she lives on {STREET} right? near the {ORG} office",
    "pt {PT.first} turned {AGE} {RELDAY} lol, cake in the break room",
)

_TICKET_HEADERS = (
    "Ticket #{TICKET}\nOpened: {DATETIME}\nCustomer: {PT.full} <{PT.email}>\nPhone: {PT.phone}\n"
    "Product: {PRODUCT}\nPriority: P{PRIO}\n\nDescription:\n",
    "[{TICKET}] {SUBJECT}\nReporter: {PT.init_last} ({PT.email})\nCreated {DATE}\n\n",
    "SUPPORT CASE {TICKET} - {PRODUCT}\nContact: {PT.last_first}, {PT.phone}\n\n",
)
_TICKET_BODY = (
    "Customer reports login failures since {RELDAY} from IP {IPV4}. Error ERR-{ERR} shown on {PRODUCT}.",
    "Card on file {CC} was charged twice on {DATE}; please refund to IBAN {IBAN}.",
    "Shipping address: {PT.address}, {COUNTRY}.",
    "Verified identity with DOB {PT.dob} and SSN {SSN}.",
    "Customer says the app crashes after {COUNT} minutes; reinstalled {DURATION} ago. Version 2.4.1 on "
    "{PRODUCT}.",
    "Logs uploaded to {URL}. Session from {IPV6}.",
    "Agent note ({STAFF.first}): called back at {PT.phone}, no answer. Left voicemail {CLOCK}.",
    "Customer works for {ORG} and wants invoices sent to {EMAIL}.",
    "Passport {PASSPORT} and driver's license {DL} were uploaded for KYC; please delete after review.",
    "Escalated to {STAFF.full} (tier 2). Customer account {ACCT}.",
    "Customer is {AGE} and asks for large-print statements mailed to {PT.city}, {PT.state} {PT.zip}.",
)
_TICKET_FOOTERS = (
    "\n\nStatus: open\nAssignee: {STAFF.email}",
    "\n\n-- {STAFF.full}, Support Team, {ORG}",
    "\n\nResolution pending; SLA 48 hours.",
)

_FORM_TITLES = (
    "PATIENT REGISTRATION FORM\n",
    "Intake Form\n",
    "New Account Application\n",
    "Emergency Contact Update\n",
)
_FORM_FIELDS = (
    "Name: {PT.full}",
    "Last Name: {PT.last}\nFirst Name: {PT.first}",
    "Date of Birth: {PT.dob}",
    "Age: {AGE}",
    "Sex: {SEX}",
    "SSN: {SSN}",
    "MRN: {PT.mrn}",
    "Address: {PT.address}",
    "Street: {PT.street}\nCity: {PT.city}\nState: {PT.state}\nZip: {PT.zip}",
    "Phone: {PT.phone}",
    "Email: {PT.email}",
    "Emergency Contact: {REL.full} ({REL_WORD}) {REL.phone}",
    "Employer: {ORG}",
    "Insurance: {INSURER}\nMember ID: {MEMBER}",
    "Driver's License #: {DL}",
    "Passport No.: {PASSPORT}",
    "Credit Card: {CC}\nExp: 09/27",
    "IBAN: {IBAN}",
    "Referring Physician: Dr. {DOC.last}",
    "Allergies: {DRUG}",
    "Current Medications: {DRUG_ORDER}; {DRUG} {FREQ}",
    "Height: 5'7\"\nWeight: 82 kg\nBlood type: O+",
    "Date of Visit: {DATE}",
    "Website: {URL}",
    "Last Login IP: {IP}",
    "Country of Birth: {COUNTRY}",
    "Preferred Pharmacy: {ORG}, {CITY}",
    "Diagnosis: {DISEASE}",
    "Patient ID: {PID}",
)

_COMMENT_TEMPLATES = (
    "call back at {PT.phone}",
    "pt prefers {PT.first}",
    "ok",
    "reviewed",
    "spoke w/ {REL.first}, will bring med list",
    "fax to {PHONE}",
    "see email from {STAFF.email}",
    "card {CC} declined",
    "routine follow-up, nothing to add",
    "lab results pending",
    "{DISEASE} stable on {DRUG}",
    "SSN on file {SSN}",
    "portal: {URL}",
    "verified DOB {PT.dob}",
    "moved to {PT.city}",
    "refund to {IBAN}",
    "login from {IP}",
    "Dr. {DOC.last} aware",
    "duplicate, closed",
    "BP 140/90, recheck in 2 weeks",
)


def _ascii_word(s: str) -> str:
    """Letters and digits of ``s`` without accents ("Léon Müller" -> "LeonMuller")."""
    import unicodedata

    return re.sub(r"[^A-Za-z0-9]", "", unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode())


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class SyntheticGenerator:
    """Renders synthetic documents of the given styles, deterministically for a seed.

    Args:
        seed: seeds both the template choices (``random.Random``) and the Faker instance.
        locale: Faker locale for names, places and companies (identifier formats stay US).
        broad: also draw people, places and companies from the Faker locales of
            :data:`deid.ner.synth_data.NAME_LOCALES`, write contiguous places as one LOCATION span,
            vary date forms, and add typos and whole-document case changes. ``False`` (the default)
            renders exactly what the generator rendered before broad mode existed.
    """

    def __init__(self, seed: int = 0, locale: str = "en_US", *, broad: bool = False) -> None:
        self.seed = seed
        self.locale = locale
        self.broad = broad
        self._rng: random.Random | None = None
        self._fake: Any = None
        self._pools: _Pools | None = None
        self._lpools: tuple[_LocalePools, ...] = ()

    # Faker and the pools are made on first use, not in __init__ (cheap to construct and pickle).
    def _ready(self) -> tuple[random.Random, Any, _Pools]:
        if self._rng is None:
            self._rng = random.Random(self.seed)
            self._fake = _seeded_faker(self.locale, self.seed)
            self._pools = _pools(self.locale)
            if self.broad:
                self._lpools = tuple(_locale_pools(loc) for loc in NAME_LOCALES if loc != self.locale)
        assert self._pools is not None
        return self._rng, self._fake, self._pools

    # ---------------------------------------------------------------- people
    def new_person(self) -> Person:
        """A new synthetic person with consistent name, e-mail, phone, address, birth date and MRN."""
        rng, _, pools = self._ready()
        if self.broad and rng.random() < 0.55:
            return self._foreign_person(rng.choice(self._lpools))
        sex = rng.choice("MF")
        first = rng.choice(pools.first_male if sex == "M" else pools.first_female)
        last = rng.choice(pools.last)
        state, abbr = rng.choice(pools.states)
        dob = dt.date(rng.randint(1925, 2005), rng.randint(1, 12), rng.randint(1, 28))
        return Person(
            first=first,
            last=last,
            sex=sex,
            middle_initial=rng.choice("ABCDEFGHJKLMNPRSTW"),
            email=self._email_for(first, last),
            phone=self._phone(),
            street=rng.choice(pools.streets),
            city=rng.choice(pools.cities),
            state=state,
            state_abbr=abbr,
            zipcode=f"{rng.randint(1001, 99950):05d}",
            dob=dob,
            mrn=str(rng.randint(1_000_000, 9_999_999)),
        )

    def _foreign_person(self, lp: _LocalePools) -> Person:
        """A person of another locale; locales without address data live at US addresses."""
        rng, _, pools = self._ready()
        sex = rng.choice("MF")
        first = rng.choice(lp.first_male if sex == "M" else lp.first_female)
        last = rng.choice(lp.last)
        dob = dt.date(rng.randint(1925, 2005), rng.randint(1, 12), rng.randint(1, 28))
        if lp.streets:
            country = sd.COUNTRY_OF[lp.locale]
            street, city, zipcode = rng.choice(lp.streets), rng.choice(lp.cities), rng.choice(lp.postcodes)
            state = abbr = country
            phone = rng.choice(lp.phones)
            home = lp.locale
        else:
            country = ""
            state, abbr = rng.choice(pools.states)
            street, city = rng.choice(pools.streets), rng.choice(pools.cities)
            zipcode = f"{rng.randint(1001, 99950):05d}"
            phone = self._phone()
            home = "en_US"
        return Person(
            first=first,
            last=last,
            sex=sex,
            middle_initial=rng.choice("ABCDEFGHJKLMNPRSTW"),
            email=self._email_for(first, last),
            phone=phone,
            street=street,
            city=city,
            state=state,
            state_abbr=abbr,
            zipcode=zipcode,
            dob=dob,
            mrn=str(rng.randint(1_000_000, 9_999_999)),
            locale=home,
            country=country,
        )

    def _address(self, b: _Builder, p: Person | None = None) -> None:
        """A whole address in the person's (or a random) locale's format, one LOCATION span per line."""
        rng, _, pools = self._ready()
        if p is None:
            p = self.new_person() if rng.random() < 0.5 else self._foreign_person(rng.choice(self._lpools))
        street = p.street
        if p.locale == "en_US" and rng.random() < 0.2 and not re.search(r"(Apt|Suite)", street):
            street += rng.choice(
                (f" Apt {rng.randint(1, 40)}{rng.choice('ABCD')}", f", Unit {rng.randint(1, 300)}")
            )
        if p.locale == "en_US":
            r = rng.random()
            if r < 0.06:
                street = f"P.O. Box {rng.randint(10, 9999)}"
            elif r < 0.1:
                street = f"{street}, {rng.choice(('Floor', 'Bldg', 'Room'))} {rng.randint(2, 12)}"
            zipcode = p.zipcode if rng.random() < 0.88 else f"{p.zipcode}-{rng.randint(1000, 9999)}"
            tail = f"{p.city}, {p.state_abbr} {zipcode}"
            if rng.random() < 0.15:
                tail = f"{p.city} {p.state_abbr} {p.zipcode}"
            elif rng.random() < 0.1:
                tail = f"{p.city}, {p.state} {p.zipcode}"
        elif p.locale in ("en_GB", "en_IN"):
            tail = f"{p.city} {p.zipcode}" if rng.random() < 0.5 else f"{p.city}, {p.zipcode}"
        else:
            tail = f"{p.zipcode} {p.city}"
        if p.country and rng.random() < 0.4:
            tail += f", {p.country}"
        elif not p.country and rng.random() < 0.1:
            tail += rng.choice((", USA", ", United States"))
        sep = rng.choice((", ", ", ", ", ", "\n", " "))
        if sep == "\n":
            b.ent(street, "LOCATION")
            b.text("\n")
            b.ent(tail, "LOCATION")
        else:
            b.ent(f"{street}{sep}{tail}", "LOCATION")

    def _full_name_variant(self, p: Person) -> str:
        """Broad mode: mostly "First Last", sometimes a middle name, a double surname or "LAST First"."""
        rng, _, pools = self._ready()
        r = rng.random()
        if r < 0.08:
            middle = rng.choice(pools.first_male if p.sex == "M" else pools.first_female)
            return f"{p.first} {middle} {p.last}"
        if r < 0.13:
            return f"{p.first} {p.last}-{rng.choice(pools.last)}"
        if r < 0.17:
            return f"{p.last.upper()} {p.first}"
        if r < 0.2:
            return f"{p.first[0]}. {p.middle_initial}. {p.last}"
        return f"{p.first} {p.last}"

    def _lp(self) -> Any:
        """The pools a place or company is drawn from: the home locale's, or in broad mode any locale's."""
        if self.broad and self._rng is not None and self._rng.random() < 0.5:
            lp = self._rng.choice(self._lpools)
            if lp.streets:
                return lp
        return self._pools

    def _email_for(self, first: str, last: str) -> str:
        rng, _, pools = self._ready()
        f = re.sub(r"[^a-z]", "", first.lower()) or "user"
        la = re.sub(r"[^a-z]", "", last.lower()) or "mail"
        local = rng.choice(
            (f"{f}.{la}", f"{f[0]}{la}", f"{f}{la[0]}", f"{f}_{la}{rng.randint(1, 99)}", f"{la}.{f}")
        )
        domain = rng.choice(_FREE_MAIL) if rng.random() < 0.6 else rng.choice(pools.domains)
        return f"{local}@{domain}"

    # ---------------------------------------------------------------- values
    def _phone(self) -> str:
        rng = self._rng
        assert rng is not None
        area = rng.choice(_AREA_CODES)
        exch = rng.randint(200, 999)
        while exch % 100 == 11 or exch == 555:
            exch = rng.randint(200, 999)
        line = f"{rng.randint(0, 9999):04d}"
        form = rng.random()
        if form < 0.35:
            return f"({area}) {exch}-{line}"
        if form < 0.65:
            return f"{area}-{exch}-{line}"
        if form < 0.8:
            return f"{area}.{exch}.{line}"
        if form < 0.92:
            return f"+1 {area} {exch} {line}"
        return f"+1-{area}-{exch}-{line}"

    def _date_str(self, d: dt.date) -> str:
        rng = self._rng
        assert rng is not None
        m, day, y = d.month, d.day, d.year
        month = _MONTHS[m - 1]
        if self.broad and rng.random() < 0.35:
            return self._broad_date_str(d)
        form = rng.randrange(8)
        if form == 0:
            return f"{m}/{day}/{y}"
        if form == 1:
            return f"{m:02d}-{day:02d}-{y % 100:02d}"
        if form == 2:
            return f"{month} {day}, {y}"
        if form == 3:
            return f"{day} {month[:3]} {y}"
        if form == 4:
            return f"{y}-{m:02d}-{day:02d}"
        if form == 5:
            return f"{m:02d}/{day:02d}/{y}"
        if form == 6:
            return f"{month[:3]}. {day}, {y}" if len(month) > 3 else f"{month} {day}, {y}"
        return f"{day}.{m}.{y}"

    def _broad_date_str(self, d: dt.date) -> str:
        """Full dates in the forms broad mode adds (ordinals, weekdays, European order...)."""
        rng = self._rng
        assert rng is not None
        m, day, y = d.month, d.day, d.year
        month, nth = _MONTHS[m - 1], sd.ORDINAL_DAYS[day - 1]
        weekday = sd.WEEKDAYS_LONG[d.weekday()]
        return rng.choice(
            (
                f"{month} {nth}, {y}",
                f"{nth} {month} {y}",
                f"{nth} of {month} {y}",
                f"{month[:3]} {day} '{y % 100:02d}",
                f"{day}-{month[:3]}-{y}",
                f"{weekday}, {month} {day}, {y}",
                f"{weekday} {day} {month} {y}",
                f"{day:02d}/{m:02d}/{y}",
                f"{y}/{m:02d}/{day:02d}",
                f"{month[:3].upper()} {day:02d} {y}",
                f"{m}/{day}/{y % 100:02d}",
                f"{day}.{m:02d}.{y}",
            )
        )

    def _date_any(self, b: _Builder) -> None:
        """A date in one of many forms, full or partial ("3/4", "March 4th", "Tuesday", "2019")."""
        rng = self._rng
        assert rng is not None
        d = self._recent_date()
        month, nth = _MONTHS[d.month - 1], sd.ORDINAL_DAYS[d.day - 1]
        form = rng.randrange(12)
        if form == 0:
            b.ent(f"{d.month}/{d.day}", "DATE_TIME")
        elif form == 1:
            b.ent(f"{month} {nth}", "DATE_TIME")
        elif form == 2:
            b.text("the ")
            b.ent(nth, "DATE_TIME")
        elif form == 3:
            b.text(rng.choice(("next ", "last ", "")))
            b.ent(sd.WEEKDAYS_LONG[d.weekday()], "DATE_TIME")
        elif form == 4:
            b.ent(str(d.year), "DATE_TIME")
        elif form == 5:
            b.ent(f"{month[:3]} {d.day}", "DATE_TIME")
        elif form == 6:
            b.ent(f"{nth} of {month}", "DATE_TIME")
        elif form == 7:
            b.ent(f"{month} {d.year}", "DATE_TIME")
        elif form == 8:
            b.ent(f"{sd.WEEKDAYS_LONG[d.weekday()]} {d.month}/{d.day}", "DATE_TIME")
        else:
            b.ent(self._date_str(d), "DATE_TIME")

    def _recent_date(self) -> dt.date:
        rng = self._rng
        assert rng is not None
        return dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650))

    def _ssn(self) -> str:
        rng = self._rng
        assert rng is not None
        area = rng.randint(1, 899)
        while area == 666:
            area = rng.randint(1, 899)
        s = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        r = rng.random()
        if r < 0.1:
            return s.replace("-", " ")
        if r < 0.15:
            return s.replace("-", "")
        return s

    def _credit_card(self) -> str:
        rng, fake, _ = self._ready()
        kind = rng.choice(("visa16", "visa16", "mastercard", "amex", "discover", "visa13"))
        number = fake.credit_card_number(card_type=kind)
        # 2-series Mastercard numbers are real but older pattern recognizers miss them.
        while number.startswith("2"):
            number = fake.credit_card_number(card_type=kind)
        if len(number) == 16:
            r = rng.random()
            groups = [number[i : i + 4] for i in range(0, 16, 4)]
            if r < 0.35:
                return " ".join(groups)
            if r < 0.55:
                return "-".join(groups)
        return str(number)

    def _iban(self) -> str:
        rng, fake, _ = self._ready()
        iban = str(fake.iban())
        if rng.random() < 0.4:
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return iban

    def _url(self) -> str:
        rng, _, pools = self._ready()
        domain = rng.choice(pools.domains)
        path = rng.choice(
            (
                "",
                "/",
                f"/patient/{rng.randint(10000, 99999)}",
                "/portal/login",
                f"/u/{rng.choice(pools.last).lower()}",
                f"/share/{rng.getrandbits(40):010x}",
                f"/tickets/{rng.randint(1000, 9999)}?view=full",
            )
        )
        scheme = rng.choice(("https://", "https://www.", "http://", "www."))
        return f"{scheme}{domain}{path}"

    def _ipv4(self) -> str:
        _, fake, _ = self._ready()
        return str(fake.ipv4_public())

    def _ipv6(self) -> str:
        _, fake, _ = self._ready()
        return str(fake.ipv6())

    def _hospital(self) -> str:
        rng, _, pools = self._ready()
        form = rng.choice(_HOSPITAL_FORMS)
        lp = self._lp()
        return form.format(
            city=rng.choice(lp.cities), last=rng.choice(lp.last), state=rng.choice(pools.states)[0]
        )

    def _named(self, forms: Sequence[str], names: Sequence[str] = (), p_named: float = 0.0) -> str:
        """An organisation or place name: a fixed one (``p_named`` of the time) or a filled-in form."""
        rng, _, pools = self._ready()
        if names and rng.random() < p_named:
            return rng.choice(names)
        lp = self._lp()
        return rng.choice(forms).format(
            city=rng.choice(lp.cities), last=rng.choice(lp.last), state=rng.choice(pools.states)[0]
        )

    def _handle(self, first: str, last: str) -> str:
        """A social-media handle made from a name ("@jsmith", "@maria_lopez88")."""
        rng = self._rng
        assert rng is not None
        f = _ascii_word(first) or "user"
        la = _ascii_word(last) or "x"
        body = rng.choice(
            (
                f"{f[0]}{la}".lower(),
                f"{f}_{la}".lower(),
                f"{f}{la}",
                f"{f}{la[0]}{rng.randint(1, 99)}".lower(),
                f"{la}{f[0]}".lower(),
                f"real{f}{la}",
            )
        )
        return "@" + body[:15]

    def _drug_order(self) -> str:
        rng = self._rng
        assert rng is not None
        drug = rng.choice(_DRUGS)
        dose = rng.choice(("5", "10", "20", "25", "40", "50", "100", "250", "500", "1000", "0.5", "2"))
        unit = rng.choice(("mg", "MG", "mcg", "units", "mEq"))
        sep = rng.choice((" ", ""))
        return f"{drug} {dose}{sep}{unit} {rng.choice(_ROUTES)} {rng.choice(_FREQS)}"

    def _vitals(self) -> str:
        rng = self._rng
        assert rng is not None
        return rng.choice(
            (
                f"BP {rng.randint(85, 170)}/{rng.randint(45, 100)}",
                f"HR {rng.randint(50, 130)}",
                f"RR {rng.randint(10, 32)}",
                f"SpO2 {rng.randint(86, 100)}%",
                f"T {rng.randint(96, 102)}.{rng.randint(0, 9)}",
                f"Temp {rng.randint(36, 39)}.{rng.randint(0, 9)}C",
                f"MAP {rng.randint(55, 100)}",
            )
        )

    def _lab(self) -> str:
        rng = self._rng
        assert rng is not None
        return rng.choice(
            (
                f"K {rng.randint(3, 5)}.{rng.randint(0, 9)}",
                f"Na {rng.randint(128, 148)}",
                f"Cr {rng.randint(0, 3)}.{rng.randint(0, 9)}",
                f"WBC {rng.randint(3, 25)}.{rng.randint(0, 9)}",
                f"Hgb {rng.randint(6, 15)}.{rng.randint(0, 9)}",
                f"ABG 7.{rng.randint(20, 48)}/{rng.randint(30, 70)}/{rng.randint(55, 140)}",
                f"INR {rng.randint(1, 3)}.{rng.randint(0, 9)}",
                f"lactate {rng.randint(0, 6)}.{rng.randint(0, 9)}",
                f"plt {rng.randint(40, 400)}",
            )
        )

    def _vent(self) -> str:
        rng = self._rng
        assert rng is not None
        return rng.choice(
            (
                f"PEEP {rng.choice((5, 8, 10))} / FiO2 {rng.choice((30, 40, 50, 60))}%",
                f"AC {rng.choice((400, 450, 500))}X{rng.randint(12, 20)} PEEP {rng.choice((5, 8))} "
                f"FIO2 {rng.choice((40, 50))}%",
                f"PS {rng.choice((5, 8, 10))}/{rng.choice((5, 8))}",
                f"{rng.randint(2, 6)}L NC",
            )
        )

    def _kinds(self) -> dict[str, Callable[[_Builder], None]]:
        rng, _, pools = self._ready()

        def ent(fn: Callable[[], str], label: str) -> Callable[[_Builder], None]:
            return lambda b: b.ent(fn(), label)

        def txt(fn: Callable[[], str]) -> Callable[[_Builder], None]:
            return lambda b: b.text(fn())

        def choice(seq: Sequence[str]) -> Callable[[], str]:
            return lambda: rng.choice(seq)

        def age(b: _Builder) -> None:
            b.ent(str(rng.choice((rng.randint(18, 89), rng.randint(18, 89), rng.randint(90, 104)))), "AGE")

        def datetime_(b: _Builder) -> None:
            d = self._date_str(self._recent_date())
            t = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
            b.ent(f"{d} {t}" if rng.random() < 0.7 else f"{d} at {t}", "DATE_TIME")

        def email_date(b: _Builder) -> None:
            d = self._recent_date()
            b.ent(
                f"{_WEEKDAYS[d.weekday()]}, {d.day} {_MONTHS[d.month - 1][:3]} {d.year} "
                f"{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} -0{rng.randint(4, 8)}00",
                "DATE_TIME",
            )

        def date_md(b: _Builder) -> None:
            d = self._recent_date()
            b.ent(rng.choice((f"{d.month}/{d.day}", f"{_MONTHS[d.month - 1][:3]} {d.day}")), "DATE_TIME")

        def address(b: _Builder) -> None:
            if self.broad:
                self._address(b)
                return
            b.ent(rng.choice(pools.streets), "LOCATION")
            b.text(", ")
            b.ent(rng.choice(pools.cities), "LOCATION")
            b.text(", ")
            b.ent(rng.choice(pools.states)[1], "LOCATION")
            b.text(" ")
            b.ent(f"{rng.randint(1001, 99950):05d}", "LOCATION")

        def pap(b: _Builder) -> None:
            b.text(f"{rng.randint(20, 45)}-{rng.randint(30, 60)}/{rng.randint(8, 25)}")

        return {
            "AGE": age,
            "DATE": lambda b: b.ent(self._date_str(self._recent_date()), "DATE_TIME"),
            "DATETIME": datetime_,
            "EMAIL_DATE": email_date,
            "DATE_MD": date_md,
            "YEAR": lambda b: b.ent(str(rng.randint(1960, 2023)), "DATE_TIME"),
            "YEAR2": lambda b: b.ent(f"'{rng.randint(0, 99):02d}", "DATE_TIME"),
            "PHONE": ent(self._phone, "PHONE_NUMBER"),
            "PAGER": ent(lambda: f"x{rng.randint(1000, 9999)}", "PHONE_NUMBER"),
            "EMAIL": ent(
                lambda: self._email_for(rng.choice(pools.first_female), rng.choice(pools.last)),
                "EMAIL_ADDRESS",
            ),
            "URL": ent(self._url, "URL"),
            "IPV4": ent(self._ipv4, "IP_ADDRESS"),
            "IPV6": ent(self._ipv6, "IP_ADDRESS"),
            "IP": ent(lambda: self._ipv4() if rng.random() < 0.75 else self._ipv6(), "IP_ADDRESS"),
            "SSN": ent(self._ssn, "US_SSN"),
            "CC": ent(self._credit_card, "CREDIT_CARD"),
            "IBAN": ent(self._iban, "IBAN_CODE"),
            "PASSPORT": ent(
                lambda: (
                    str(rng.randint(100_000_000, 999_999_999))
                    if rng.random() < 0.4
                    else f"{rng.choice('ACEFGHJKLMNPRSTUVWXYZ')}{rng.randint(10_000_000, 99_999_999)}"
                ),
                "US_PASSPORT",
            ),
            "DL": ent(
                lambda: rng.choice(
                    (
                        f"{rng.choice('ABCDEFGHSW')}{rng.randint(1_000_000, 9_999_999)}",
                        f"S{rng.randint(10_000_000, 99_999_999)}",
                        f"{rng.choice('DFGLMS')}{rng.randint(100, 999)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                    )
                ),
                "US_DRIVER_LICENSE",
            ),
            "ACCT": ent(
                lambda: rng.choice(
                    (f"{rng.randint(0, 99_999_999):08d}", f"ACCT-{rng.randint(0, 9_999_999):07d}")
                ),
                "ID",
            ),
            "MEMBER": ent(
                lambda: f"{rng.choice(('XJH', 'W', 'MBR', 'ZGP'))}{rng.randint(10_000_000, 999_999_999)}",
                "ID",
            ),
            "PID": ent(lambda: f"P-{rng.randint(100_000, 999_999)}", "ID"),
            "TICKET": ent(lambda: str(rng.randint(10_000, 999_999)), "ID"),
            "STREET": ent(lambda: rng.choice(self._lp().streets), "LOCATION"),
            "CITY": ent(lambda: rng.choice(self._lp().cities), "LOCATION"),
            "STATE": ent(lambda: rng.choice(pools.states)[rng.randrange(2)], "LOCATION"),
            "COUNTRY": ent(choice(pools.countries), "LOCATION"),
            "HOSPITAL": lambda b: b.ent(self._hospital(), "LOCATION", merge=False),
            "ADDRESS": address,
            "ORG": ent(lambda: rng.choice(self._lp().companies), "ORGANIZATION"),
            "INSURER": ent(choice(_INSURERS), "ORGANIZATION"),
            "DOMAIN": txt(choice(pools.domains)),
            # unlabelled values and hard negatives
            "SEX": txt(choice("MF")),
            "SERVICE": txt(choice(_SERVICES)),
            "DRUG": txt(choice(_DRUGS)),
            "DRUG_ORDER": txt(self._drug_order),
            "DISEASE": txt(choice(_DISEASES)),
            "SYMPTOM": txt(choice(_SYMPTOMS)),
            "VITALS": txt(self._vitals),
            "LAB": txt(self._lab),
            "LABNAME": txt(choice(_LABNAMES)),
            "VENT": txt(self._vent),
            "PAP": pap,
            "K": txt(lambda: f"{rng.randint(2, 5)}.{rng.randint(0, 9)}"),
            "WBC": txt(lambda: f"{rng.randint(3, 25)}.{rng.randint(0, 9)}"),
            "BS": txt(lambda: f"{rng.randint(80, 220)}-{rng.randint(150, 300)}"),
            "FREQ": txt(choice(_FREQS)),
            "RELDAY": txt(choice(_RELDAYS)),
            "CLOCK": txt(choice(_CLOCKS)),
            "DURATION": txt(choice(_DURATIONS)),
            "COUNT": txt(lambda: str(rng.randint(2, 60))),
            "ERR": txt(lambda: str(rng.randint(1000, 9999))),
            "PRIO": txt(lambda: str(rng.randint(1, 4))),
            "PRODUCT": txt(choice(_PRODUCTS)),
            "RHYTHM": txt(choice(_RHYTHMS)),
            "REL_WORD": txt(choice(_RELATIONS)),
            "JOB": txt(choice(_JOBS)),
            "JOB_TITLE": txt(
                choice(("Attending Physician", "Nurse Practitioner", "Case Manager", "Hospitalist"))
            ),
            "SUBJECT": txt(
                choice(
                    (
                        "Follow-up",
                        "Lab results",
                        "Billing question",
                        "Referral",
                        "Appointment change",
                        "Refund",
                    )
                )
            ),
            "GREET": txt(choice(("Dear", "Hi", "Hello", "Good morning"))),
            **self._broad_kinds(),
            "SIGNOFF": txt(choice(("Best regards", "Thanks", "Kind regards", "Sincerely", "Cheers"))),
        }

    def _broad_kinds(self) -> dict[str, Callable[[_Builder], None]]:
        """Value kinds of the broad styles' templates."""
        rng, _, pools = self._ready()

        def ent(fn: Callable[[], str], label: str) -> Callable[[_Builder], None]:
            return lambda b: b.ent(fn(), label)

        def txt(seq: Sequence[str]) -> Callable[[_Builder], None]:
            return lambda b: b.text(rng.choice(seq))

        def age_phrase(b: _Builder) -> None:
            age = str(rng.randint(2, 96))
            form = rng.randrange(5)
            if form == 4:
                b.text("aged ")
            b.ent(age, "AGE")
            b.text(("-year-old", " year old", " y/o", "yo", "")[form])

        def company(b: _Builder) -> None:
            lp = rng.choice(self._lpools) if self.broad and rng.random() < 0.5 else pools
            b.ent(rng.choice(lp.companies or pools.companies), "ORGANIZATION")

        def org_handle(b: _Builder) -> None:
            name = rng.choice(pools.companies + sd.BANK_NAMES + sd.INSURER_NAMES)
            words = [_ascii_word(w) for w in re.split(r"[\s,&-]+", name)]
            body = "".join(
                w[:1].upper() + w[1:] for w in words if w and w.lower() not in {"and", "ltd", "inc", "llc"}
            )
            b.ent("@" + (body or "Support")[:15], "ORGANIZATION")

        def city_caps(b: _Builder) -> None:
            b.ent(rng.choice(self._lp().cities).upper(), "LOCATION")

        def street_name(b: _Builder) -> None:
            street = re.sub(r"^\d+[A-Za-z]?,?\s+", "", rng.choice(pools.streets))
            street = re.sub(r"\s+(Apt\.|Suite)\s+\d+$", "", street).strip()
            b.ent(street or "Main Street", "LOCATION")

        def month_year(b: _Builder) -> None:
            d = self._recent_date()
            b.ent(
                rng.choice((f"{_MONTHS[d.month - 1]} {d.year}", f"{_MONTHS[d.month - 1][:3]} {d.year}")),
                "DATE_TIME",
            )

        def date_long(b: _Builder) -> None:
            d = dt.date(rng.randint(1930, 2030), rng.randint(1, 12), rng.randint(1, 28))
            month = _MONTHS[d.month - 1]
            b.ent(rng.choice((f"{month} {d.day}, {d.year}", f"{d.day} {month} {d.year}")), "DATE_TIME")

        def money(b: _Builder) -> None:
            amount = rng.randint(20, 90) * 1000 + rng.choice((0, 500))
            b.text(rng.choice((f"${amount:,}", f"£{amount:,}", f"EUR {amount:,}", f"{amount:,} USD")))

        def subject_title(b: _Builder) -> None:
            b.text(
                rng.choice(
                    ("Quarterly Review", "Contract Renewal", "Invoice Query", "Next Steps", "Site Visit")
                )
            )

        hr_words = ("Human Resources", "HR Department", "People Team", "Payroll")
        return {
            "AGE_PHRASE": age_phrase,
            "SEX_WORD": txt(("man", "woman", "gentleman", "lady", "patient")),
            "EPONYM": txt(sd.EPONYMS),
            "ABBR": txt(sd.CLINICAL_ABBREVIATIONS),
            "BRAND": txt(sd.BRAND_DRUGS),
            "GADGET": txt(sd.PRODUCTS),
            "DEPT": txt(sd.DEPARTMENTS),
            "DEPT_HR": txt(hr_words),
            "JOBT": txt(sd.JOB_TITLES),
            "JOBT_LOWER": lambda b: b.text(rng.choice(sd.JOB_TITLES).lower()),
            "GENERIC_ORG": txt(sd.GENERIC_ORGS),
            "NATIONALITY": txt(sd.NATIONALITIES),
            "OCCUPATION": txt(sd.OCCUPATIONS),
            "HASHTAG": txt(sd.HASHTAGS),
            "EMO": txt(sd.EMOJI),
            "MONEY": money,
            "SUBJECT_TITLE": subject_title,
            "CLOCK_HM": lambda b: b.text(f"{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}"),
            "WIRE": ent(lambda: rng.choice(("Reuters", "AP", "AFP", "Bloomberg")), "ORGANIZATION"),
            "DATE_ANY": self._date_any,
            "DATE_LONG": date_long,
            "WEEKDAY": ent(lambda: rng.choice(sd.WEEKDAYS_LONG), "DATE_TIME"),
            "WEEKDAY_RANGE": ent(
                lambda: rng.choice(("Monday to Friday", "Mon-Fri", "Monday-Saturday")), "DATE_TIME"
            ),
            "ORDINAL": ent(lambda: rng.choice(sd.ORDINAL_DAYS), "DATE_TIME"),
            "MONTH": ent(lambda: rng.choice(_MONTHS), "DATE_TIME"),
            "MONTH_YEAR": month_year,
            "COMPANY": company,
            "ORG_HANDLE": org_handle,
            "SCHOOL": ent(lambda: self._named(sd.SCHOOL_FORMS), "ORGANIZATION"),
            "AGENCY": ent(lambda: self._named(sd.AGENCY_FORMS, sd.AGENCY_NAMES, 0.6), "ORGANIZATION"),
            "BANK": ent(lambda: self._named(sd.BANK_FORMS, sd.BANK_NAMES, 0.6), "ORGANIZATION"),
            "INSURER_ANY": ent(lambda: rng.choice(_INSURERS + sd.INSURER_NAMES), "ORGANIZATION"),
            "CLINIC": lambda b: b.ent(self._named(sd.CLINIC_FORMS), "LOCATION", merge=False),
            "CITY_CAPS": city_caps,
            "STREET_NAME": street_name,
        }

    def _person_form(self, b: _Builder, p: Person, form: str) -> None:
        rng = self._rng
        assert rng is not None
        if form == "full":
            if rng.random() < 0.15:
                b.ent(f"{p.first} {p.middle_initial}. {p.last}", "PERSON")
            elif self.broad:
                b.ent(self._full_name_variant(p), "PERSON")
            else:
                b.ent(f"{p.first} {p.last}", "PERSON")
        elif form == "first":
            b.ent(p.first, "PERSON")
        elif form == "last":
            b.ent(p.last, "PERSON")
        elif form == "init_last":
            b.ent(f"{p.first[0]}. {p.last}", "PERSON")
        elif form == "initials":
            b.ent(rng.choice((f"{p.first[0]}{p.last[0]}", f"{p.first[0]}.{p.last[0]}.")), "PERSON")
        elif form == "last_first":
            b.ent(f"{p.last}, {p.first}", "PERSON")
        elif form == "title":
            b.text(rng.choice(("Mr.", "Mr")) if p.sex == "M" else rng.choice(("Mrs", "Ms.", "Mrs.")))
        elif form == "email":
            b.ent(p.email, "EMAIL_ADDRESS")
        elif form == "phone":
            b.ent(p.phone, "PHONE_NUMBER")
        elif form == "address" and self.broad:
            self._address(b, p)
        elif form == "handle":
            b.ent(self._handle(p.first, p.last), "PERSON")
        elif form in ("subj", "subj_cap", "obj", "pos"):
            word = {"subj": ("he", "she"), "obj": ("him", "her"), "pos": ("his", "her")}[form.split("_")[0]]
            w = word[0] if p.sex == "M" else word[1]
            b.text(w.capitalize() if form == "subj_cap" else w)
        elif form == "address":
            b.ent(p.street, "LOCATION")
            b.text(", ")
            b.ent(p.city, "LOCATION")
            b.text(", ")
            b.ent(p.state_abbr, "LOCATION")
            b.text(" ")
            b.ent(p.zipcode, "LOCATION")
        elif form == "city":
            b.ent(p.city, "LOCATION")
        elif form == "state":
            b.ent(rng.choice((p.state, p.state_abbr)), "LOCATION")
        elif form == "zip":
            b.ent(p.zipcode, "LOCATION")
        elif form == "street":
            b.ent(p.street, "LOCATION")
        elif form == "dob":
            b.ent(self._date_str(p.dob), "DATE_TIME")
        elif form == "mrn":
            b.ent(p.mrn, "ID")
        else:  # pragma: no cover - a template typo
            raise ValueError(f"unknown person form {form!r}")

    def _render(
        self, templates: Sequence[str], case: str | None, people: dict[str, Person]
    ) -> dict[str, Any]:
        kinds = self._kinds_cache
        b = _Builder(case, merge_loc=self.broad)
        for template in templates:
            for literal, kind, form in _compile(template):
                b.text(literal)
                if kind is None:
                    continue
                if form is not None:
                    self._person_form(b, people[kind], form)
                else:
                    kinds[kind](b)
        text, spans = b.result()
        return {"text": text, "spans": spans}

    @functools.cached_property
    def _kinds_cache(self) -> dict[str, Callable[[_Builder], None]]:
        return self._kinds()

    def _pick(self, seq: Sequence[str], lo: int, hi: int) -> list[str]:
        rng = self._rng
        assert rng is not None
        return rng.sample(list(seq), rng.randint(lo, min(hi, len(seq))))

    def document(self, style: str, *, patient: Person | None = None) -> dict[str, Any]:
        """Render one document.

        Args:
            style: one of :data:`STYLES`.
            patient: the person the document is about; a new one if not given.

        Returns:
            ``{"text": str, "spans": [{"start", "end", "label"}], "style": str}``.

        Raises:
            ConfigError: unknown style.
        """
        rng, _, _ = self._ready()
        people = {
            "PT": patient or self.new_person(),
            "DOC": self.new_person(),
            "STAFF": self.new_person(),
            "REL": self.new_person(),
            "OTHER": self.new_person(),
        }
        case: str | None = None
        join = " "
        if style == "clinical_note":
            parts = [
                rng.choice(_CLINICAL_HEADERS),
                *self._pick(_CLINICAL_BODY, 3, 6),
                rng.choice(_CLINICAL_FOOTERS),
            ]
            join = rng.choice(("\n", "\n\n", " "))
            case = "upper" if rng.random() < 0.2 else None
        elif style == "nursing_note":
            parts = [
                rng.choice(_NURSING_HEADERS),
                *self._pick(_NURSING_BODY, 3, 7),
                rng.choice(_NURSING_FOOTERS),
            ]
            join = rng.choice(("\n", " "))
            case = "upper"
        elif style == "email":
            body = _EMAIL_BODY + sd.EMAIL_BODY_EXTRA if self.broad else _EMAIL_BODY
            parts = [rng.choice(_EMAIL_HEADERS), *self._pick(body, 2, 4), rng.choice(_EMAIL_FOOTERS)]
            join = rng.choice(("\n\n", " "))
        elif style == "chat":
            parts = self._pick(_CHAT_LINES, 3, 7)
            join = "\n"
            case = "lower" if rng.random() < 0.7 else None
        elif style == "ticket":
            parts = [
                rng.choice(_TICKET_HEADERS),
                *self._pick(_TICKET_BODY, 2, 5),
                rng.choice(_TICKET_FOOTERS),
            ]
        elif style == "form":
            fields = _FORM_FIELDS + sd.FORM_FIELDS_EXTRA if self.broad else _FORM_FIELDS
            parts = [rng.choice(_FORM_TITLES), *self._pick(fields, 6, 14)]
            join = "\n"
        elif style == "comment":
            parts = [rng.choice(_COMMENT_TEMPLATES)]
        elif style == "referral_letter":
            parts = [rng.choice(sd.REFERRAL_HEADERS), *self._pick(sd.REFERRAL_BODY, 2, 5)]
            parts.append(rng.choice(sd.REFERRAL_FOOTERS))
            join = rng.choice((" ", "\n\n"))
        elif style == "hr_letter":
            parts = [rng.choice(sd.HR_HEADERS), *self._pick(sd.HR_BODY, 2, 5), rng.choice(sd.HR_FOOTERS)]
            join = rng.choice((" ", "\n\n"))
        elif style == "insurance_letter":
            parts = [rng.choice(sd.INSURANCE_HEADERS), *self._pick(sd.INSURANCE_BODY, 2, 5)]
            parts.append(rng.choice(sd.INSURANCE_FOOTERS))
            join = rng.choice((" ", "\n\n"))
        elif style == "news":
            parts = [rng.choice(sd.NEWS_HEADLINES), *self._pick(sd.NEWS_BODY, 2, 5)]
            parts = [part for part in parts if part]  # some stories have no headline
            join = rng.choice((" ", "\n\n"))
        elif style == "social":
            parts = self._pick(sd.SOCIAL_POSTS, 1, 3)
            join = rng.choice(("\n", " "))
            case = "lower" if rng.random() < 0.4 else None
        elif style == "signature_email":
            parts = [rng.choice(sd.SIGNATURE_EMAIL_HEADERS), *self._pick(sd.SIGNATURE_EMAIL_BODY, 1, 4)]
            parts.append(rng.choice(sd.SIGNATURE_EMAIL_FOOTERS))
            join = rng.choice((" ", "\n\n"))
        elif style == "loan_agreement":
            parts = [rng.choice(sd.LOAN_HEADERS), *self._pick(sd.LOAN_BODY, 2, 5)]
            join = "\n\n"
        elif style == "bio":
            parts = self._pick(sd.BIO_BODY, 2, 5)
        elif style == "support_chat":
            lines = sd.SUPPORT_CHAT_LINES
            start = rng.randrange(len(lines) - 3)
            parts = list(lines[start : start + rng.randint(3, 7)])
            join = "\n"
        else:
            raise ConfigError(f"unknown synthetic document style {style!r}; choose from {', '.join(STYLES)}")
        # Headers end with their own newlines; join body pieces only.
        templates: list[str] = []
        for i, part in enumerate(parts):
            if i > 0 and not templates[-1].endswith("\n") and not part.startswith("\n"):
                templates.append(join)
            templates.append(part)
        doc = self._render(templates, case, people)
        if self.broad:
            doc["text"], doc["spans"] = _perturb(doc["text"], doc["spans"], rng, allow_case=case is None)
        doc["style"] = style
        return doc

    def comment(self, *, patient: Person | None = None) -> dict[str, Any]:
        """A short free-text comment (a few words, sometimes with PII) about ``patient``."""
        return self.document("comment", patient=patient)


def generate_documents(
    n: int,
    *,
    seed: int = 0,
    styles: Sequence[str] | None = None,
    locale: str = "en_US",
    broad: bool = True,
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic documents with exact gold spans.

    Styles are taken in turn, so every requested style appears once ``n >= len(styles)``.

    Args:
        n: number of documents.
        seed: the same seed gives the same documents.
        styles: subset of :data:`STYLES` (default: all of them; :data:`CLASSIC_STYLES` when not
            ``broad``).
        locale: home Faker locale for names, places and companies.
        broad: many locales, whole-address spans, more date forms, typos and case changes (see
            :class:`SyntheticGenerator`). ``broad=False`` reproduces the generator's output from before
            broad mode (the corpora of model v1 and of the benchmark).

    Yields:
        ``{"id": "synth-<seed>-<i>", "text": str, "spans": [{"start", "end", "label"}], "style": str}``
        with spans sorted, non-overlapping and end-exclusive.

    Raises:
        ConfigError: negative ``n``, empty or unknown styles.
    """
    if n < 0:
        raise ConfigError(f"number of documents must be >= 0, got {n}")
    chosen = tuple(styles) if styles is not None else (STYLES if broad else CLASSIC_STYLES)
    if not chosen:
        raise ConfigError("at least one style is needed")
    unknown = sorted(set(chosen) - set(STYLES))
    if unknown:
        raise ConfigError(
            f"unknown synthetic document style(s) {', '.join(unknown)}; choose from {', '.join(STYLES)}"
        )
    gen = SyntheticGenerator(seed=seed, locale=locale, broad=broad)
    for i in range(n):
        doc = gen.document(chosen[i % len(chosen)])
        yield {"id": f"synth-{seed}-{i}", "text": doc["text"], "spans": doc["spans"], "style": doc["style"]}
