"""A small seeded generator of synthetic documents per sensitivity tier (for the default router).

Every value is made up by Faker; templates are short business documents of the kind each tier holds
(see ``configs/tiers.yaml``):

- public: press releases, public FAQ answers, product announcements, forum/newsgroup-like posts;
- internal: meeting notes, process and how-to documents, schedules, office announcements;
- confidential: contracts, financial results before release, pricing, HR reviews and salaries
  (names and amounts, but no strong identifiers);
- restricted: medical notes (including terse upper-case nursing notes), lab reports, documents with
  SSNs, payment card or bank numbers, credentials.

Names appear in every tier on purpose, so that "has a name" is not what separates them.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from deid.classify.data import LabelledTexts

TIERS = ("public", "internal", "confidential", "restricted")


def generate_tier_documents(n_per_tier: int, *, seed: int = 0, locale: str = "en_US") -> LabelledTexts:
    """Generate ``n_per_tier`` documents for each tier, interleaved, reproducible from ``seed``.

    Returns:
        Texts and their tier labels (``public``, ``internal``, ``confidential``, ``restricted``).
    """
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    for _ in range(n_per_tier):
        for tier in TIERS:
            template = rng.choice(_TEMPLATES[tier])
            text = _tidy(template(fake, rng))
            # Some teams' documents are all upper case (clinical systems, telex-era tools): keep case
            # from being a cue for any tier.
            texts.append(text.upper() if rng.random() < 0.15 else text)
            labels.append(tier)
    return LabelledTexts(texts, labels)


def _tidy(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines())


def _pick(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"${rng.randint(low, high):,}"


# ---- public -------------------------------------------------------------------------------------
def _press_release(f, r):  # type: ignore[no-untyped-def]
    return f"""FOR IMMEDIATE RELEASE
{f.city()}, {f.date_this_year().strftime("%B %d, %Y")} -- {f.company()} today announced {_pick(r, "the launch of", "the general availability of", "a partnership around", "an expansion of")} {f.catch_phrase().lower()}.
"{f.sentence(nb_words=14)}" said {f.name()}, {f.job()} at the company.
The {_pick(r, "service", "product", "programme", "platform")} will be available {_pick(r, "worldwide", "in North America", "to all customers", "from next quarter")}.
About {f.company()}: {f.paragraph(nb_sentences=2)}
Media contact: press office, {f.company_email()}"""


def _faq(f, r):  # type: ignore[no-untyped-def]
    q = _pick(
        r,
        "How do I reset my account settings?",
        "Where can I find your opening hours?",
        "Do you ship internationally?",
        "How can I return a product?",
        "What payment methods do you accept?",
        "Is there a student discount?",
    )
    return f"""Frequently asked questions
Q: {q}
A: {f.paragraph(nb_sentences=3)} See our website for details or visit any of our stores in {f.city()}.
Q: {f.sentence(nb_words=7).rstrip(".")}?
A: {f.paragraph(nb_sentences=2)}"""


def _newsgroup_post(f, r):  # type: ignore[no-untyped-def]
    topic = _pick(
        r,
        "my old motorcycle",
        "the playoff game last night",
        "compiling X11 on a new workstation",
        "the space shuttle launch",
        "a good book on cryptography",
        "my graphics card drivers",
        "the best hiking trails near " + f.city(),
    )
    return f"""Re: question about {topic}
In article, {f.first_name()} writes:
> {f.sentence(nb_words=12)}
I had the same experience with {topic}. {f.paragraph(nb_sentences=3)}
Anyone else tried this? {f.sentence(nb_words=8)}
-- {f.first_name()}"""


def _announcement(f, r):  # type: ignore[no-untyped-def]
    return f"""{f.company()} opens new {_pick(r, "office", "store", "research centre", "community space")} in {f.city()}
The {_pick(r, "opening event", "open day", "ribbon cutting")} takes place on {f.day_of_week()}. {f.paragraph(nb_sentences=3)}
Everyone is welcome; admission is free."""


# ---- internal -----------------------------------------------------------------------------------
def _meeting_notes(f, r):  # type: ignore[no-untyped-def]
    return f"""Meeting notes - {_pick(r, "weekly team sync", "project kickoff", "sprint review", "ops stand-up", "planning session")}
Date: {f.date_this_year()}  Attendees: {f.first_name()}, {f.first_name()}, {f.first_name()}, {f.first_name()}
Agenda: {f.bs()}; {f.bs()}.
- {f.first_name()} to follow up on {f.bs()} by {f.day_of_week()}.
- Decision: move the {_pick(r, "release", "workshop", "review", "migration")} to next week.
- {f.sentence(nb_words=10)}
Next meeting: {f.day_of_week()} {r.randint(9, 16)}:00, room {r.randint(100, 450)}."""


def _process_doc(f, r):  # type: ignore[no-untyped-def]
    task = _pick(
        r,
        "request a new laptop",
        "book a meeting room",
        "submit travel expenses",
        "deploy to the staging environment",
        "onboard a new team member",
        "report a facilities issue",
    )
    steps = "\n".join(f"{i}. {f.sentence(nb_words=9)}" for i in range(1, r.randint(3, 6)))
    return f"""How to {task} (internal process, owner: {f.first_name()} {f.last_name()})
Applies to all staff at the {f.city()} office.
{steps}
Questions go to the {_pick(r, "IT helpdesk", "operations team", "facilities channel", "team lead")}."""


def _schedule(f, r):  # type: ignore[no-untyped-def]
    rows = "\n".join(
        f"{f.day_of_week()}: {f.first_name()} ({_pick(r, 'on call', 'front desk', 'support rota', 'backup')})"
        for _ in range(4)
    )
    return f"""Rota for the week of {f.date_this_year()}
{rows}
Please swap shifts in the team calendar, not by e-mail. Reminder: the office closes early on {f.day_of_week()}."""


def _office_memo(f, r):  # type: ignore[no-untyped-def]
    return f"""Internal memo to all staff
From: {f.first_name()}, {_pick(r, "Facilities", "People team", "IT", "Office management")}
{_pick(r, "The kitchen on floor 3 will be renovated", "The VPN client will be updated", "Desk booking changes", "Fire drill next week")}: {f.paragraph(nb_sentences=3)}
Thanks for your patience."""


# ---- confidential -------------------------------------------------------------------------------
def _contract(f, r):  # type: ignore[no-untyped-def]
    return f"""SERVICES AGREEMENT - CONFIDENTIAL
This agreement is made between {f.company()} ("Client") and {f.company()} ("Supplier").
1. Fees. Client shall pay Supplier {_money(r, 20_000, 900_000)} per {_pick(r, "year", "quarter", "milestone")}, net {_pick(r, "30", "45", "60")} days.
2. Term. {r.randint(1, 5)} years from the effective date, renewable by mutual consent.
3. Confidentiality. Neither party shall disclose the terms of this agreement.
4. Termination. {f.paragraph(nb_sentences=2)}
Signed for the Client: {f.name()}, {f.job()}"""


def _financials(f, r):  # type: ignore[no-untyped-def]
    return f"""Q{r.randint(1, 4)} results - draft, not for distribution before the earnings call
Revenue: {_money(r, 2_000_000, 90_000_000)} ({_pick(r, "+", "-")}{r.randint(1, 25)}% year on year)
Operating margin: {r.randint(2, 35)}%. EBITDA: {_money(r, 200_000, 20_000_000)}.
The {_pick(r, "EMEA", "APAC", "North America", "retail")} segment {_pick(r, "missed", "beat")} forecast by {r.randint(1, 15)}%.
Planned layoffs and the acquisition of {f.company()} remain under NDA. Prepared by {f.name()}."""


def _hr_review(f, r):  # type: ignore[no-untyped-def]
    return f"""Performance review - {f.name()}, {f.job()}
Rating: {_pick(r, "exceeds expectations", "meets expectations", "needs improvement", "unsatisfactory")}.
Manager comments: {f.paragraph(nb_sentences=2)}
Proposed salary: {_money(r, 45_000, 210_000)} (current {_money(r, 40_000, 200_000)}); bonus {r.randint(0, 20)}%.
{_pick(r, "A performance improvement plan starts next month.", "Recommended for promotion.", "Discussed a written warning about attendance.", "No change to role.")}"""


def _pricing(f, r):  # type: ignore[no-untyped-def]
    return f"""Pricing proposal for {f.company()} - confidential
Discount approved: {r.randint(5, 40)}% off list; floor price {_money(r, 10_000, 400_000)}.
Competitor {f.company()} quoted {_money(r, 10_000, 400_000)}. Margin after discount: {r.randint(5, 45)}%.
Do not share these terms outside the deal team. Owner: {f.name()}."""


# ---- restricted ---------------------------------------------------------------------------------
def _medical_note(f, r):  # type: ignore[no-untyped-def]
    return f"""Patient: {f.name()}  DOB: {f.date_of_birth(minimum_age=18, maximum_age=90)}  MRN: {r.randint(1_000_000, 9_999_999)}
Diagnosis: {_pick(r, "type 2 diabetes", "major depressive disorder", "HIV positive", "hypertension", "stage II breast cancer", "opioid use disorder")}.
Medications: {_pick(r, "metformin 500 mg", "sertraline 50 mg", "lisinopril 10 mg", "methadone 40 mg", "tamoxifen 20 mg")} daily.
Notes: {f.paragraph(nb_sentences=2)} Follow-up with Dr. {f.last_name()} in {r.randint(1, 12)} weeks."""


def _ssn_form(f, r):  # type: ignore[no-untyped-def]
    return f"""Employee tax and payroll form
Name: {f.name()}
SSN: {f.ssn()}
Address: {f.address().replace(chr(10), ", ")}
Date of birth: {f.date_of_birth(minimum_age=18, maximum_age=70)}
Direct deposit: routing {f.aba()} account {f.bban()}"""


def _payment(f, r):  # type: ignore[no-untyped-def]
    return f"""Customer payment details
Cardholder: {f.name()}
Card number: {f.credit_card_number()}  Expires: {f.credit_card_expire()}  CVV: {f.credit_card_security_code()}
Billing address: {f.address().replace(chr(10), ", ")}
IBAN: {f.iban()}"""


def _credentials(f, r):  # type: ignore[no-untyped-def]
    return f"""Access credentials for the {_pick(r, "production database", "payroll system", "admin console", "VPN", "cloud account")}
username: {f.user_name()}
password: {f.password(length=r.randint(10, 18))}
API key: {f.sha1()[:32]}
Host: {f.ipv4_private()}  Recovery e-mail: {f.email()}"""


def _medical_letter(f, r):  # type: ignore[no-untyped-def]
    return f"""Referral letter
Dear Dr. {f.last_name()},
I am referring {f.name()} (born {f.date_of_birth(minimum_age=1, maximum_age=90)}, insurance ID {f.bothify("??#########").upper()}) for {_pick(r, "psychiatric assessment", "oncology review", "cardiology follow-up", "HIV treatment", "a fertility consultation")}.
History: {f.paragraph(nb_sentences=2)}
Current treatment: {_pick(r, "chemotherapy cycle 3", "insulin", "antiretroviral therapy", "lithium", "beta blockers")}."""


def _nursing_note(f, r):  # type: ignore[no-untyped-def]
    age, sex = r.randint(19, 95), _pick(r, "M", "F")
    systems = [
        f"NEURO: {_pick(r, 'A+OX3', 'ALERT, ORIENTED X2', 'SEDATED ON PROPOFOL', 'LETHARGIC BUT AROUSABLE')}, "
        f"{_pick(r, 'MAE', 'PERRL', 'FOLLOWS COMMANDS', 'NO SEIZURE ACTIVITY')}.",
        f"CV: HR {r.randint(55, 130)} {_pick(r, 'NSR', 'SR', 'AFIB', 'ST')}, BP {r.randint(90, 170)}/{r.randint(45, 95)}.",
        f"RESP: LS {_pick(r, 'CLEAR', 'COARSE', 'DIMINISHED AT BASES', 'WITH CRACKLES')}, O2 SAT {r.randint(88, 100)}% "
        f"ON {_pick(r, '2L NC', 'RA', '40% FM', 'CPAP')}.",
        f"GI: ABD {_pick(r, 'SOFT, NT', 'DISTENDED', 'SOFT +BS')}. {_pick(r, 'TOLERATING TF', 'NPO', 'TAKING PO WELL')}.",
        f"GU: FOLEY DRAINING {_pick(r, 'CLEAR YELLOW URINE', 'AMBER URINE', 'ADEQ AMTS')}, {r.randint(20, 120)} CC/HR.",
        f"ID: TMAX {r.randint(98, 103)}.{r.randint(0, 9)}, ON {_pick(r, 'VANCO', 'ZOSYN', 'LEVOFLOXACIN', 'CEFTRIAXONE')}.",
        f"SOCIAL: {_pick(r, 'WIFE', 'HUSBAND', 'DAUGHTER', 'SON')} {f.first_name().upper()} VISITED, UPDATED BY DR. {f.last_name().upper()}.",
    ]
    r.shuffle(systems)
    diagnosis = _pick(
        r, "CHF EXACERBATION", "SEPSIS", "GI BLEED", "PNA", "S/P CABG", "COPD FLARE", "DKA", "ETOH WITHDRAWAL"
    )
    plan = _pick(
        r,
        "CONT LASIX, MONITOR LYTES",
        "WEAN VENT AS TOL",
        "F/U CULTURES",
        "TRANSFUSE 1 UNIT PRBC",
        "CONT CIWA SCALE",
    )
    text = (
        f"PT IS A {age} YO {sex} ADMITTED WITH {diagnosis}. "
        + " ".join(systems[: r.randint(3, 7)])
        + f" PLAN: {plan}."
    )
    return text if r.random() < 0.6 else text.lower().replace("pt ", "Pt ", 1)


def _lab_report(f, r):  # type: ignore[no-untyped-def]
    return f"""Laboratory report - {f.name()}, MRN {r.randint(100_000, 999_999)}, collected {f.date_this_year()}
WBC {r.randint(3, 20)}.{r.randint(0, 9)}  Hgb {r.randint(7, 16)}.{r.randint(0, 9)}  Plt {r.randint(50, 450)}
Na {r.randint(128, 148)}  K {r.randint(3, 6)}.{r.randint(0, 9)}  Creat {r.randint(0, 4)}.{r.randint(1, 9)}  Glucose {r.randint(60, 400)}
{_pick(r, "HIV-1/2 antibody: REACTIVE", "Hepatitis C antibody: positive", "Pregnancy test: positive", "Urine drug screen: positive for opiates", "HbA1c: 9.1%")}
Ordering physician: Dr. {f.last_name()}"""


_TEMPLATES: dict[str, list[Callable[..., str]]] = {
    "public": [_press_release, _faq, _newsgroup_post, _announcement],
    "internal": [_meeting_notes, _process_doc, _schedule, _office_memo],
    "confidential": [_contract, _financials, _hr_review, _pricing],
    "restricted": [
        _medical_note,
        _nursing_note,
        _lab_report,
        _ssn_form,
        _payment,
        _credentials,
        _medical_letter,
    ],
}
