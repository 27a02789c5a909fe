"""US street addresses as one LOCATION span: number, street, unit, and on the same line city, state, ZIP.

Three patterns (Presidio matches case-insensitively; the parts that must be capitalised say so with
``(?-i:...)``):

- a street line: house number, one to four capitalised street-name words (or ordinals such as
  ``5th``), a street suffix (Street, St, Avenue, Rd, Blvd...), an optional unit (Apt 5, Suite 200,
  #12), then optionally ``City, ST 12345`` on the same line: ``1185 Emily Rd Apt. 69, Springfield, IL
  62704`` is one span;
- a city line: one to three capitalised words, a comma, a state code or name and a ZIP code
  (``North Ashleyfurt, MD 49653``, the second line of an address block);
- a ZIP code after a full state name (``Maryland 50412``; state codes are ZipCodeRecognizer's).

A line break ends a span, so an address block keeps its layout when redacted (two spans). Street
words that are function words or units (in, the, of, mg, units...) stop a match, so clinical
shorthand such as "walked 20 ft in the hall way" is not an address.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from deid.detect.recognizers.zip_code import _STATES as STATE_CODES

STATE_NAMES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|"
    "Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|"
    "Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|"
    "North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|"
    "Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|District of Columbia|"
    "Puerto Rico"
)
SUFFIXES = (
    "Street|Avenue|Road|Lane|Drive|Boulevard|Court|Place|Way|Terrace|Parkway|Highway|Circle|Square|Trail|"
    "Plaza|Crescent|Loop|Pike|Alley|"
    # abbreviations in Title case only: upper-case notes use them as clinical words, as the PhysioNet train
    # notes show ("103 SR TO ST" sinus tachycardia, "2 mediasteinal CT" chest tubes, "SQ" subcutaneous)
    "(?-i:St|Ave|Rd|Ln|Dr|Blvd|Ct|Pl|Ter|Pkwy|Hwy|Cir|Sq|Trl)|"
    # more of the USPS street suffixes (Publication 28, appendix C1), full words, Title-case only: in
    # upper-case clinical notes ("4 LARGE THICK LIQ GREEN STOOLS", "MAP>60 AS WELL") they are words
    "(?-i:Bluffs?|Branch|Bridge|Brooks?|Bypass|Canyon|Causeway|Commons?|Corners?|Cove|Creek|Crossing|Crossroad|"
    "Curve|Estates?|Expressway|Extensions?|Ferry|Flats?|Forest|Forges?|Fork|Freeway|Gardens?|Gateway|Glens?|"
    "Greens?|Groves?|Harbors?|Haven|Heights|Highlands?|Hills?|Hollow|Junction|Knolls?|Landing|Loaf|Manors?|"
    "Meadows?|Mews|Mills?|Orchard|Overpass|Parks?|Pass|Path|Pines|Plains?|Points?|Ports?|Prairie|Ridges?|"
    "Row|Run|Shoals?|Shores?|Skyway|Springs?|Squares?|Station|Stravenue|Streets|Summit|Throughway|Trace|"
    "Track|Trafficway|Tunnel|Turnpike|Underpass|Unions?|Valleys?|Viaduct|Views?|Villages?|Ville|Vista|Walks?|"
    "Wells?|Ways)"
)
_STOP = (
    "in|the|to|on|at|as|of|and|or|for|with|by|from|per|via|was|is|are|has|had|mg|mcg|ml|cc|kg|lb|lbs|ft|"
    "units?|times|x|am|pm|hrs?|min|mins|days?|weeks?|mos?|years?|yrs?|po|iv|prn|qd|bid|tid"
)
_WORD = rf"(?:(?!(?:{_STOP})\b)(?-i:[A-Z])[A-Za-z'.-]+|(?-i:[NSEW])\.?|\d{{1,3}}(?:st|nd|rd|th))"
_NUMBER = r"(?<![\w.,/-])\d{1,6}[A-Za-z]?"
_UNIT = r"(?:,?[ \t]+(?:Apt|Apartment|Unit|Suite|Ste|Room|Rm|Floor|Fl|Bldg)\.?[ \t]*#?[ \t]?[A-Za-z0-9-]{1,6}|,?[ \t]+#[ \t]?[A-Za-z0-9-]{1,6})"
_CITY = r"(?-i:[A-Z][A-Za-z'.-]+)(?:[ \t](?-i:[A-Z][A-Za-z'.-]+)){0,2}"
_STATE = rf"(?:(?-i:(?:{STATE_CODES}))\b\.?|(?:{STATE_NAMES})\b)"
_ZIP = r"\d{5}(?:-\d{4})?\b"
_STREET = rf"{_NUMBER}(?:[ \t]+{_WORD}){{1,4}}[ \t]+(?:{SUFFIXES})\b\.?(?!\w){_UNIT}?"

PATTERNS = [
    Pattern(
        "street address",
        rf"{_STREET}(?:,?[ \t]+{_CITY},?[ \t]+{_STATE}(?:,?[ \t]{{1,2}}{_ZIP})?)?",
        0.65,
    ),
    Pattern("city, state ZIP", rf"(?<![\w-]){_CITY},[ \t]+{_STATE},?[ \t]{{1,2}}{_ZIP}", 0.65),
    Pattern("ZIP after a state name", rf"(?<=\b(?:{STATE_NAMES}),?[ \t]{{1,2}}){_ZIP}", 0.6),
]


class UsAddressRecognizer(PatternRecognizer):
    """Street addresses and city/state/ZIP lines as one LOCATION span each (see the module docstring)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="LOCATION",
            patterns=PATTERNS,
            name="UsAddressRecognizer",
            supported_language=supported_language,
        )
