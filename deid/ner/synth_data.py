"""Word lists and templates of the broad styles of :mod:`deid.ner.synth` (data only, no logic).

Template placeholders are those of :mod:`deid.ner.synth`: ``{KIND}`` for a value kind and
``{ROLE.form}`` for a form of one of the document's people (PT, DOC, STAFF, REL, OTHER).
"""

from __future__ import annotations

# Faker locales the broad generator draws people, places and companies from (Latin script only;
# ja_JP gives romanised names). ``ADDRESS_LOCALES`` also give street addresses, postcodes and phones
# in their own formats; the others take US addresses.
NAME_LOCALES: tuple[str, ...] = (
    "en_US",
    "en_GB",
    "es_ES",
    "es_MX",
    "fr_FR",
    "de_DE",
    "it_IT",
    "pt_BR",
    "nl_NL",
    "pl_PL",
    "tr_TR",
    "en_IN",
    "vi_VN",
    "sv_SE",
    "id_ID",
    "cs_CZ",
    "ro_RO",
    "en_NG",
    "sw",
    "ja_JP",
)
ADDRESS_LOCALES: frozenset[str] = frozenset(
    {"en_GB", "es_ES", "fr_FR", "de_DE", "it_IT", "pt_BR", "nl_NL", "pl_PL", "en_IN", "sv_SE", "cs_CZ"}
)
COUNTRY_OF: dict[str, str] = {
    "en_GB": "United Kingdom",
    "es_ES": "Spain",
    "fr_FR": "France",
    "de_DE": "Germany",
    "it_IT": "Italy",
    "pt_BR": "Brazil",
    "nl_NL": "Netherlands",
    "pl_PL": "Poland",
    "en_IN": "India",
    "sv_SE": "Sweden",
    "cs_CZ": "Czech Republic",
}

ORDINAL_DAYS: tuple[str, ...] = tuple(
    f"{d}{'th' if 10 <= d % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"
    for d in range(1, 32)
)
WEEKDAYS_LONG: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

SCHOOL_FORMS: tuple[str, ...] = (
    "University of {city}",
    "{city} High School",
    "{last} College",
    "{city} Community College",
    "{state} State University",
    "St. {last}'s Academy",
    "{last} Elementary School",
    "{city} Institute of Technology",
    "{last} School of Nursing",
)
AGENCY_NAMES: tuple[str, ...] = (
    "Internal Revenue Service",
    "Social Security Administration",
    "Department of Motor Vehicles",
    "Department of Veterans Affairs",
    "Centers for Medicare & Medicaid Services",
    "Federal Emergency Management Agency",
    "HM Revenue & Customs",
    "Department for Work and Pensions",
    "Environmental Protection Agency",
    "Food and Drug Administration",
    "U.S. Citizenship and Immigration Services",
    "National Health Service",
)
AGENCY_FORMS: tuple[str, ...] = (
    "{city} Police Department",
    "{state} Department of Health",
    "{city} Housing Authority",
    "{city} Fire Department",
    "{state} Department of Labor",
    "{city} City Council",
)
BANK_NAMES: tuple[str, ...] = (
    "Wells Fargo",
    "Bank of America",
    "JPMorgan Chase",
    "Citibank",
    "HSBC",
    "Barclays",
    "Santander",
    "Deutsche Bank",
    "BNP Paribas",
    "ING",
    "Capital One",
    "TD Bank",
)
BANK_FORMS: tuple[str, ...] = (
    "First National Bank of {city}",
    "{last} Savings Bank",
    "{city} Credit Union",
    "{last} Federal Savings",
)
INSURER_NAMES: tuple[str, ...] = (
    "Allianz",
    "AXA",
    "State Farm",
    "Geico",
    "Progressive",
    "Aviva",
    "Zurich Insurance",
    "MetLife",
    "Liberty Mutual",
    "Nationwide",
)
CLINIC_FORMS: tuple[str, ...] = (
    "{last} Family Practice",
    "{city} Medical Clinic",
    "{city} Urgent Care",
    "{last} Pediatrics",
    "{city} Dialysis Center",
    "{last} Eye Clinic",
    "{city} Community Health Center",
    "{city} Children's Hospital",
    "{last} Cancer Institute",
)

# Hard negatives: never labelled.
BRAND_DRUGS: tuple[str, ...] = (
    "Tylenol",
    "Advil",
    "Lipitor",
    "Zoloft",
    "Xanax",
    "Eliquis",
    "Ozempic",
    "Humira",
    "Plavix",
    "Synthroid",
    "Norvasc",
    "Keytruda",
    "Motrin",
    "Benadryl",
    "Zyrtec",
    "Flonase",
)
EPONYMS: tuple[str, ...] = (
    "Parkinson's",
    "Crohn's",
    "Alzheimer's",
    "Hodgkin lymphoma",
    "Hashimoto's thyroiditis",
    "Addison's disease",
    "Tourette syndrome",
    "Asperger's",
    "Raynaud's",
    "Meniere's disease",
    "Kaposi sarcoma",
    "Wilson's disease",
    "Huntington's disease",
    "Barrett's esophagus",
    "Lou Gehrig's disease",
    "Apgar score",
    "Glasgow Coma Scale",
    "Foley catheter",
    "Swan-Ganz catheter",
    "Babinski sign",
)
CLINICAL_ABBREVIATIONS: tuple[str, ...] = (
    "PERRLA",
    "NPO",
    "SOB",
    "CXR",
    "A&O x3",
    "AAOx3",
    "NAD",
    "RRR",
    "CTAB",
    "EOMI",
    "HEENT",
    "NKDA",
    "DNR/DNI",
    "s/p CABG",
    "r/o MI",
    "BID",
    "PRN",
    "EKG",
    "MRI",
    "CT head",
    "ED",
    "ICU",
    "PCP",
    "TKR",
)
PRODUCTS: tuple[str, ...] = (
    "iPhone",
    "iPad",
    "Excel",
    "PowerPoint",
    "Teams",
    "Zoom",
    "Slack",
    "Gmail",
    "Android",
    "Windows",
    "MacBook",
    "Kindle",
    "PlayStation",
    "Fitbit",
    "WhatsApp",
    "Google Docs",
    "Dropbox",
    "Epic",
)
JOB_TITLES: tuple[str, ...] = (
    "Chief Financial Officer",
    "Office Manager",
    "Senior Software Engineer",
    "Nurse Practitioner",
    "Claims Adjuster",
    "Account Executive",
    "Head of Marketing",
    "Operations Director",
    "Paralegal",
    "Teaching Assistant",
    "Staff Accountant",
    "Warehouse Supervisor",
    "Social Worker",
    "Physical Therapist",
    "Project Manager",
    "Customer Success Lead",
)
DEPARTMENTS: tuple[str, ...] = (
    "Cardiology",
    "HR",
    "Human Resources",
    "Radiology",
    "Finance",
    "Payroll",
    "Legal",
    "IT",
    "Oncology",
    "Pediatrics",
    "Accounts Payable",
    "Customer Service",
    "Orthopedics",
    "Emergency Medicine",
    "Procurement",
    "Dermatology",
)
GENERIC_ORGS: tuple[str, ...] = (
    "the bank",
    "the hospital",
    "the Borrower",
    "the Lender",
    "the Company",
    "the insurer",
    "the agency",
    "the school",
    "the clinic",
    "the Employer",
    "the Guarantor",
    "the Administrative Agent",
    "the Policyholder",
    "the pharmacy",
)
NATIONALITIES: tuple[str, ...] = (
    "American",
    "British",
    "Spanish",
    "French",
    "German",
    "Italian",
    "Brazilian",
    "Dutch",
    "Polish",
    "Turkish",
    "Indian",
    "Nigerian",
)
OCCUPATIONS: tuple[str, ...] = (
    "architect",
    "economist",
    "novelist",
    "footballer",
    "chemist",
    "politician",
    "painter",
    "civil engineer",
    "jazz pianist",
    "journalist",
    "film director",
    "mathematician",
)
HASHTAGS: tuple[str, ...] = (
    "#MondayMotivation",
    "#tbt",
    "#blessed",
    "#nofilter",
    "#fail",
    "#weekend",
    "#GameDay",
    "#hiring",
    "#NowPlaying",
    "#traffic",
    "#foodie",
    "#grateful",
)
EMOJI: tuple[str, ...] = ("😂", "🙏", "🎉", "❤️", "😭", "👍", "🔥", "😎", "🙄", "💯")

# ---------------------------------------------------------------- broad styles (own templates)

REFERRAL_HEADERS: tuple[str, ...] = (
    "{HOSPITAL}\n{ADDRESS}\nTel: {PHONE}  Fax: {PHONE}\n\n{DATE}\n\nDr. {DOC.full}\n{CLINIC}\n{DOC.address}\n\n"
    "Re: {PT.full}, DOB {PT.dob}, NHS/MRN {PT.mrn}\n\nDear Dr. {DOC.last},\n\n",
    "REFERRAL\nTo: {DEPT} Clinic, {HOSPITAL}\nFrom: Dr. {STAFF.full}, {CLINIC}\nDate: {DATE}\n"
    "Patient: {PT.last_first}   DOB: {PT.dob}\nAddress: {PT.address}\nPhone: {PT.phone}\n\n",
    "Dear Colleague,\n\nRe: {PT.title} {PT.full} ({PT.dob})\n{PT.address}\n\n",
)
REFERRAL_BODY: tuple[str, ...] = (
    "Thank you for seeing this {AGE_PHRASE} {SEX_WORD}, whom I saw in clinic on {DATE_ANY} with a "
    "{DURATION} history of {SYMPTOM}.",
    "Past history includes {EPONYM} and {DISEASE}; {ABBR} on examination, {ABBR}.",
    "Current medication: {BRAND} as needed and {DRUG_ORDER}. No known allergies ({ABBR}).",
    "{PT.first} was previously under the care of Dr. {OTHER.last} at {HOSPITAL} until {YEAR}.",
    "A {ABBR} on {DATE_MD} was unremarkable. I would be grateful for your opinion regarding {EPONYM}.",
    "{PT.title} {PT.last} lives with {PT.pos} {REL_WORD}, {REL.full}, who can be reached on {REL.phone}.",
    "She works as a {JOB} at {ORG} and is finding it hard to cope since {WEEKDAY}.",
    "Bloods taken on the {ORDINAL} showed {LAB} and {LAB}; repeat planned for {DATE_ANY}.",
    "He was seen in the {DEPT} department of {HOSPITAL} on {DATE_ANY} and discharged the same day.",
)
REFERRAL_FOOTERS: tuple[str, ...] = (
    "\n\nYours sincerely,\n\n{STAFF.full}\n{JOBT}, {DEPT}\n{HOSPITAL}\n\ncc: {PT.full}, {PT.address}",
    "\n\nKind regards,\nDr. {STAFF.init_last}\n{CLINIC}, {CITY}\nDirect line {PHONE}",
    "\n\nWith best wishes,\n{STAFF.first} {STAFF.last} MBBS MRCGP\n{CLINIC}",
)

HR_HEADERS: tuple[str, ...] = (
    "{COMPANY}\n{DEPT_HR}\n{ADDRESS}\n\n{DATE}\n\nPRIVATE AND CONFIDENTIAL\n{PT.full}\n{PT.address}\n\n"
    "Dear {PT.first},\n\n",
    "Offer Of Employment\n\n{DATE}\n\nDear {PT.title} {PT.last},\n\n",
    "Subject: Reference For {PT.full}\n\nTo whom it may concern,\n\n",
)
HR_BODY: tuple[str, ...] = (
    "We are delighted to offer you the position of {JOBT} at {COMPANY}, starting on {WEEKDAY}, {DATE_ANY}.",
    "You will report to {OTHER.full}, {JOBT}, and be based at our office at {ADDRESS}.",
    "Your annual salary will be {MONEY}, paid monthly by {BANK} transfer; the Company reviews salaries "
    "every {MONTH}.",
    "{PT.first} worked with us from {MONTH_YEAR} to {MONTH_YEAR} as a {JOBT} in {DEPT}.",
    "Before joining us {PT.first} studied at {SCHOOL} and volunteered with {AGENCY}.",
    "Please bring your passport and proof of address to {DEPT_HR} on the {ORDINAL}; ask for {STAFF.first} "
    "at reception.",
    "Your probation period ends on {DATE}. Questions can go to {STAFF.email} or {PHONE}.",
    "The Employer may change your place of work to any of its sites in {CITY} or {CITY}.",
    "Following the meeting on {WEEKDAY} with {OTHER.first} from {DEPT}, a written warning is on file.",
    "I have known {PT.first} {PT.last} for {DURATION} and recommend {PT.obj} without reservation.",
)
HR_FOOTERS: tuple[str, ...] = (
    "\n\nYours sincerely,\n\n{STAFF.full}\n{JOBT}\n{COMPANY}",
    "\n\nBest regards,\n{STAFF.full} | {DEPT_HR}\n{COMPANY}, {CITY}\n{PHONE}",
    "\n\nSigned: ______________ ({PT.full})   Date: {DATE}",
)

INSURANCE_HEADERS: tuple[str, ...] = (
    "{INSURER_ANY}\nClaims Department\n{ADDRESS}\n\nPolicyholder: {PT.full}\nPolicy number: {MEMBER}\n"
    "Claim reference: {ACCT}\nDate of loss: {DATE}\n\nDear {PT.title} {PT.last},\n\n",
    "Explanation Of Benefits\nMember: {PT.last_first}   Member ID: {MEMBER}\nProvider: {CLINIC}\n"
    "Date of service: {DATE}\n\n",
    "Re: Your claim {ACCT} of {DATE_ANY}\n\n{PT.full}\n{PT.address}\n\nDear {PT.first} {PT.last},\n\n",
)
INSURANCE_BODY: tuple[str, ...] = (
    "We have received your claim for the damage at {ADDRESS} reported on {WEEKDAY}.",
    "Our adjuster, {STAFF.full}, will call you on {PT.phone} within {DURATION}.",
    "The repairs will be carried out by {COMPANY}; the insurer pays the invoice directly.",
    "According to the police report from the {AGENCY}, the other driver, {OTHER.full}, was insured by "
    "{INSURER_ANY}.",
    "Treatment at {HOSPITAL} on {DATE_ANY} by Dr. {DOC.last} is covered under your plan; {BRAND} and "
    "other over-the-counter items are not.",
    "The Policyholder must notify the insurer within 30 days; your notice reached us on {DATE}.",
    "Payment of {MONEY} will be made to your account at {BANK} by {DATE_ANY}.",
    "{PT.title} {PT.last}, aged {AGE}, was a passenger in the vehicle at the time.",
    "If you disagree, write to us at {ADDRESS} or call {PHONE} ({WEEKDAY_RANGE}, 8am to 6pm).",
)
INSURANCE_FOOTERS: tuple[str, ...] = (
    "\n\nSincerely,\n{STAFF.full}\nSenior Claims Handler\n{INSURER_ANY}",
    "\n\nThis is not a bill. Questions? Call Member Services at {PHONE}.",
    "\n\nYours faithfully,\nClaims Team, {INSURER_ANY}\nRef {ACCT}",
)

NEWS_HEADLINES: tuple[str, ...] = (
    "{CITY} Man, {AGE}, Charged After Crash On {STREET_NAME}\n\n",
    "{COMPANY} To Cut {COUNT}00 Jobs, Says Chief Executive\n\n",
    "{SCHOOL} Names {PT.full} As New President\n\n",
    "Storm Leaves Thousands Without Power Across {STATE}\n\n",
    "",
)
NEWS_BODY: tuple[str, ...] = (
    "{CITY_CAPS} ({WIRE}) - {OTHER.full}, the {JOBT_LOWER} of {COMPANY}, said on {WEEKDAY} that the firm "
    "would close its plant in {CITY}.",
    "{PT.full}, {AGE}, of {CITY}, was taken to {HOSPITAL} with minor injuries, police said.",
    "A spokesperson for the {AGENCY} declined to comment on {DATE_ANY}.",
    "The agreement with {ORG} was signed in {MONTH_YEAR} and runs until {YEAR}.",
    "{OTHER.last} joined {COMPANY} in {YEAR} after a decade at {BANK}.",
    "Shares of {COMPANY} fell 4% after the company launched a rival to the {GADGET}.",
    "Officials in {COUNTRY} said talks with {AGENCY} would resume on the {ORDINAL}.",
    '"We are shocked," said {REL.full}, a neighbour who has lived on {STREET_NAME} since {YEAR}.',
    "{PT.last} was a student at {SCHOOL} and had recently been treated for {EPONYM}.",
    "Reporting by {STAFF.full} in {CITY}; editing by {DOC.full}.",
    "{COUNTRY}'s economy grew 2.1% in the third quarter, {BANK} economist {OTHER.full} said.",
    "Prime Minister {OTHER.last} will visit {CITY} and {CITY} next week, his office said on {WEEKDAY}.",
    "{COMPANY} agreed to buy {ORG} for an undisclosed sum, the companies said in a statement.",
    "The {AGENCY} fined {COMPANY} after an investigation that began in {YEAR}.",
    '{PT.full}, a {JOBT_LOWER} at {COMPANY}, told reporters the plan was "unworkable".',
    "Talks between {COUNTRY} and {COUNTRY} ended without agreement in {CITY} on {DATE_ANY}.",
    "Students at {SCHOOL} protested outside the offices of {ORG} on {STREET_NAME}.",
    "{OTHER.last}, who founded {COMPANY} with {REL.full} in {YEAR}, stepped down as chief executive.",
)

SOCIAL_POSTS: tuple[str, ...] = (
    "{PT.handle} congrats on the new job at {ORG_HANDLE}!! {EMO} {HASHTAG}",
    "just landed in {CITY} {EMO} see u {WEEKDAY} {OTHER.handle}",
    "cant believe {ORG} charged me twice AGAIN {HASHTAG}",
    "happy birthday {OTHER.first}!!! {AGE} looks good on u {EMO}",
    "RT {OTHER.handle}: {COMPANY} is hiring in {CITY}, dm me {HASHTAG}",
    "stuck on the {GADGET} update since {WEEKDAY} smh",
    "me and {REL.first} at {SCHOOL} graduation {DATE_MD} {EMO}",
    "{ORG_HANDLE} my order still hasnt arrived, ordered on the {ORDINAL}",
    "anyone know a good dentist near {STREET_NAME}? asking for {REL.first}",
    "lol {PT.handle} is still at {HOSPITAL}, send snacks",
    "{YEAR} was rough but here we are {HASHTAG}",
    "went to see {OTHER.full} speak at {SCHOOL} last {WEEKDAY}, so good",
    "taking {BRAND} and going to bed, work at {COMPANY} tmrw {EMO}",
    "moving to {CITY}, {COUNTRY} in {MONTH}!!",
    "{OTHER.first} {OTHER.last} really said that on live tv {EMO}",
    "shoutout to {PT.first} at the {CITY} store, best customer service ever",
    "who else is going to {SCHOOL} homecoming on the {ORDINAL}? {PT.handle} {OTHER.handle}",
    "my landlord {OTHER.last} still hasnt fixed the heating. {ORG_HANDLE} help",
    "{PT.first} and {REL.first} got engaged in {COUNTRY}!!! {EMO}{EMO}",
    "traffic on {STREET_NAME} is insane rn {HASHTAG}",
    "new blog post about my {EPONYM} journey, link in bio",
    "interview at {COMPANY} {WEEKDAY}, wish me luck {EMO}",
    "rip {OTHER.full}, you were the best teacher at {SCHOOL}",
    "{OTHER.handle} lol no, {MONTH} {ORDINAL} works better",
    "{ORG_HANDLE} is down again?? {GADGET} wont load",
    "back in {CITY} for {REL.first}'s wedding {DATE_MD}",
)

SIGNATURE_EMAIL_HEADERS: tuple[str, ...] = (
    "Hi {OTHER.first},\n\n",
    "Hello team,\n\n",
    "Dear {OTHER.title} {OTHER.last},\n\n",
    "{OTHER.first} -\n\n",
    "From: {STAFF.full} <{STAFF.email}>\nSent: {WEEKDAY}, {DATE}\nTo: {OTHER.full}\nSubject: {SUBJECT_TITLE}\n\n"
    "Hi {OTHER.first},\n\n",
)
SIGNATURE_EMAIL_BODY: tuple[str, ...] = (
    "Thanks for the call on {WEEKDAY}. I have shared the {GADGET} file with {PT.full} from {DEPT}.",
    "Can we move our meeting to {DATE_ANY} at 3pm? I am in {CITY} until the {ORDINAL}.",
    "Attached is the signed NDA between {COMPANY} and {ORG}.",
    "{PT.first} will be out of office from {DATE_MD} to {DATE_MD}; please contact {REL.email} meanwhile.",
    "The invoice for {MONEY} was sent to {DEPT} at {COMPANY} on {DATE}.",
    "Our new office is at {ADDRESS} - parking is behind the building.",
    "I spoke with {PT.title} {PT.last} at {BANK} and they need the form back by {WEEKDAY}.",
    "Please loop in {OTHER.full} ({JOBT_LOWER}) before we reply to the {AGENCY}.",
    "We met {PT.full} at the {SCHOOL} career fair in {MONTH_YEAR}; {PT.subj} would be a great fit for HR.",
)
SIGNATURE_EMAIL_FOOTERS: tuple[str, ...] = (
    "\n\nBest,\n{STAFF.first}\n\n--\n{STAFF.full} | {JOBT}\n{COMPANY}\n{ADDRESS}\nM: {PHONE} | T: {PHONE}\n"
    "{STAFF.email}\n\nCONFIDENTIALITY NOTICE: this e-mail is intended only for the addressee.",
    "\n\nThanks,\n{STAFF.full}\n{JOBT}, {DEPT}\n{COMPANY} | {CITY}, {COUNTRY}\nDirect: {PHONE}",
    "\n\nCheers,\n{STAFF.first}\n\nSent from my {GADGET}",
    "\n\nRegards\n\n{STAFF.full}\n{SCHOOL}\n{ADDRESS}\nTel. {PHONE}",
)

LOAN_HEADERS: tuple[str, ...] = (
    'THIS LOAN AGREEMENT (the "Agreement") is dated as of {DATE_LONG}, between {COMPANY}, a {STATE} '
    'corporation with offices at {ADDRESS} (the "Borrower"), and {BANK} (the "Lender").\n\n',
    "CREDIT AGREEMENT\n\ndated as of {DATE_LONG}\n\namong\n\n{COMPANY},\nas Borrower,\n\n{BANK},\n"
    "as Administrative Agent\n\n",
)
LOAN_BODY: tuple[str, ...] = (
    "Section {COUNT}.1 Interest. The Borrower shall pay interest on the Loans on the last Business Day of "
    "each fiscal quarter.",
    "Notices to the Lender shall be sent to {BANK}, {ADDRESS}, Attention: {OTHER.full}, Telephone: {PHONE}.",
    "Notices to the Borrower: {COMPANY}, {ADDRESS}, Attention: {PT.full}, {JOBT}.",
    "The Guarantor, {ORG}, unconditionally guarantees the Obligations.",
    "This Agreement shall be governed by the laws of the State of {STATE}.",
    "The Maturity Date is {DATE_LONG}. The Administrative Agent may extend it once.",
    "IN WITNESS WHEREOF, the parties have executed this Agreement as of the date first written above.",
    "By: {PT.full}\nName: {PT.full}\nTitle: {JOBT}",
)

BIO_BODY: tuple[str, ...] = (
    "{PT.full} (born {DATE_LONG}) is a {NATIONALITY} {OCCUPATION} and former {JOB}.",
    "{PT.subj_cap} was born in {CITY}, {COUNTRY}, and grew up in {CITY}.",
    "{PT.last} studied at {SCHOOL} and later at {SCHOOL}, graduating in {YEAR}.",
    "In {YEAR}, {PT.last} joined {COMPANY}, where {PT.subj} worked with {OTHER.full}.",
    "{PT.subj_cap} married {REL.full} in {YEAR}; they live in {CITY}.",
    "{PT.last} was diagnosed with {EPONYM} in {MONTH_YEAR} and became a patron of {ORG}.",
    "After leaving {ORG} in {YEAR}, {PT.subj} served on the board of {BANK} until {YEAR}.",
    "{PT.first} {PT.last} died at {HOSPITAL} on {DATE_LONG}, aged {AGE}.",
)

SUPPORT_CHAT_LINES: tuple[str, ...] = (
    "[{CLOCK_HM}] Agent ({STAFF.first}): Hi, thanks for contacting {COMPANY}. How can I help?",
    "[{CLOCK_HM}] {PT.first}: my {GADGET} stopped syncing since {WEEKDAY}",
    "[{CLOCK_HM}] Agent ({STAFF.first}): Can you confirm the account holder's full name and date of birth?",
    "[{CLOCK_HM}] {PT.first}: {PT.full}, {PT.dob}",
    "[{CLOCK_HM}] {PT.first}: the address on file is {PT.address}",
    "[{CLOCK_HM}] Agent ({STAFF.first}): Thanks {PT.first}. I see an order placed on the {ORDINAL}.",
    "[{CLOCK_HM}] {PT.first}: yes, call me at {PT.phone} if easier",
    "[{CLOCK_HM}] Agent ({STAFF.first}): I have escalated this to {OTHER.full} in {DEPT}.",
    "[{CLOCK_HM}] {PT.first}: ok thx. my bank ({BANK}) flagged the charge too",
    "[{CLOCK_HM}] Agent ({STAFF.first}): A technician can visit {DATE_ANY} between 9 and 12.",
    "[{CLOCK_HM}] {PT.first}: can you send it to my work email instead? {PT.email}",
)

# Broad mode adds these to the classic form and e-mail styles.
FORM_FIELDS_EXTRA: tuple[str, ...] = (
    "Full Name (as on passport): {PT.full}",
    "Mailing Address:\n{PT.address}",
    "Home Address: {ADDRESS}",
    "Employer Name: {COMPANY}\nJob Title: {JOBT}",
    "School / University: {SCHOOL}",
    "Bank: {BANK}",
    "Primary Care Clinic: {CLINIC}",
    "Preferred Hospital: {HOSPITAL}",
    "Start Date: {DATE_ANY}",
    "Best Time To Call: {WEEKDAY_RANGE}, after 5pm",
    "Signature: ____________    Date: {DATE}",
    "Referred By: {OTHER.full}, {DEPT}",
    "Known Conditions: {EPONYM}; {ABBR}",
    "Alt. Phone: {PHONE}",
)
EMAIL_BODY_EXTRA: tuple[str, ...] = (
    "Our claims team at {INSURER_ANY} needs the discharge letter from {HOSPITAL} dated {DATE_ANY}.",
    "{PT.first} started at {SCHOOL} in {MONTH_YEAR} and the school nurse asked about {PT.pos} {BRAND}.",
    "The {AGENCY} letter went to the old address ({ADDRESS}); please forward it.",
    "Can you ask {OTHER.full} in {DEPT} to fax the {ABBR} report to {PHONE}?",
    "The payment from {BANK} should arrive on the {ORDINAL}; HR has the details.",
)
