"""deid's operators, registered by the names the YAML policy uses.

``redact``, ``replace`` and ``keep`` are Presidio's own operators; the others are deid's
:class:`presidio_anonymizer.operators.Operator` subclasses, added to the ``AnonymizerEngine``
with ``add_anonymizer`` (so they also work in plain Presidio code).
"""

from __future__ import annotations

from presidio_anonymizer.operators import Operator

from deid.transform.operators.date_shift import DateShiftOperator, subject_offset_days
from deid.transform.operators.encrypt import EncryptOperator
from deid.transform.operators.generalize import GeneralizeOperator
from deid.transform.operators.keyed_hash import KeyedHashOperator
from deid.transform.operators.mask import MaskOperator
from deid.transform.operators.pseudonymize import PseudonymizeOperator

# policy name -> (Presidio operator name, deid operator class or None for Presidio built-ins)
OPERATORS: dict[str, tuple[str, type[Operator] | None]] = {
    "redact": ("redact", None),
    "replace": ("replace", None),
    "keep": ("keep", None),
    "mask": ("deid_mask", MaskOperator),
    "hash": ("deid_hash", KeyedHashOperator),
    "encrypt": ("deid_encrypt", EncryptOperator),
    "pseudonymize": ("deid_pseudonymize", PseudonymizeOperator),
    "date_shift": ("deid_date_shift", DateShiftOperator),
    "generalize": ("deid_generalize", GeneralizeOperator),
}

__all__ = [
    "OPERATORS",
    "DateShiftOperator",
    "EncryptOperator",
    "GeneralizeOperator",
    "KeyedHashOperator",
    "MaskOperator",
    "PseudonymizeOperator",
    "subject_offset_days",
]
