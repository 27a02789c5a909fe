"""The synthetic tier-document generator."""

from __future__ import annotations

import re
from collections import Counter

from deid.classify.synth_tiers import TIERS, generate_tier_documents


def test_when_generating_then_balanced_and_reproducible() -> None:
    first = generate_tier_documents(5, seed=3)
    assert Counter(first.labels) == dict.fromkeys(TIERS, 5)
    assert first == generate_tier_documents(5, seed=3)
    assert first.texts != generate_tier_documents(5, seed=4).texts
    assert all(t.strip() for t in first.texts)


def test_when_restricted_then_documents_carry_strong_identifiers_or_health_data() -> None:
    data = generate_tier_documents(40, seed=0)
    markers = re.compile(
        r"SSN|Card number|password|Diagnosis|Referral|IBAN|ADMITTED WITH|Laboratory report", re.I
    )
    restricted = [t for t, y in zip(data.texts, data.labels, strict=True) if y == "restricted"]
    assert all(markers.search(t) for t in restricted)
