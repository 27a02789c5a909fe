"""deid's own Presidio recognizers, one module each, registered by name in :data:`DEID_RECOGNIZERS`."""

from __future__ import annotations

from collections.abc import Callable

from presidio_analyzer import EntityRecognizer

from deid.detect.recognizers.age import AgeRecognizer
from deid.detect.recognizers.numeric_date import NumericDateRecognizer
from deid.detect.recognizers.pager import PagerRecognizer
from deid.detect.recognizers.record_number import RecordNumberRecognizer
from deid.detect.recognizers.short_year import ShortYearRecognizer
from deid.detect.recognizers.social_handle import SocialHandleRecognizer
from deid.detect.recognizers.street_address import UsAddressRecognizer
from deid.detect.recognizers.text_date import TextDateRecognizer
from deid.detect.recognizers.us_phone import UsPhoneRecognizer
from deid.detect.recognizers.zip_code import ZipCodeRecognizer

DEID_RECOGNIZERS: dict[str, Callable[[str], EntityRecognizer]] = {
    "UsPhoneRecognizer": lambda language: UsPhoneRecognizer(supported_language=language),
    "PagerRecognizer": lambda language: PagerRecognizer(supported_language=language),
    "RecordNumberRecognizer": lambda language: RecordNumberRecognizer(supported_language=language),
    "ShortYearRecognizer": lambda language: ShortYearRecognizer(supported_language=language),
    "AgeRecognizer": lambda language: AgeRecognizer(supported_language=language),
    "ZipCodeRecognizer": lambda language: ZipCodeRecognizer(supported_language=language),
    "NumericDateRecognizer": lambda language: NumericDateRecognizer(supported_language=language),
    "TextDateRecognizer": lambda language: TextDateRecognizer(supported_language=language),
    "UsAddressRecognizer": lambda language: UsAddressRecognizer(supported_language=language),
    "SocialHandleRecognizer": lambda language: SocialHandleRecognizer(supported_language=language),
}

__all__ = [
    "DEID_RECOGNIZERS",
    "AgeRecognizer",
    "NumericDateRecognizer",
    "PagerRecognizer",
    "RecordNumberRecognizer",
    "ShortYearRecognizer",
    "SocialHandleRecognizer",
    "TextDateRecognizer",
    "UsAddressRecognizer",
    "UsPhoneRecognizer",
    "ZipCodeRecognizer",
]
