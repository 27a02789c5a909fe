"""Operators: every one applied, consistency across rows and processes, decrypt round trip."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deid.config import KeyConfig, parse_config
from deid.detect.spans import Span
from deid.errors import KeyError_
from deid.transform.keys import SecretKey, generate_key, load_key
from deid.transform.operators.encrypt import decrypt_text
from deid.transform.policy import TextTransformer

KEY = SecretKey("unit-test-key-0123456789-abcdefghijklmnopqrstuvwxyz")
OTHER_KEY = SecretKey("another-key-9876543210-ZYXWVUTSRQPONMLKJIHGFEDCBA")
TEXT = "Call John Smith at (617) 555-1234 or john.smith@example.com on 3/14/2021. Card 4111 1111 1111 1111."
SPANS = [
    Span(5, 15, "PERSON", 0.9),
    Span(19, 33, "PHONE_NUMBER", 0.9),
    Span(37, 59, "EMAIL_ADDRESS", 1.0),
    Span(63, 72, "DATE_TIME", 0.9),
    Span(79, 98, "CREDIT_CARD", 1.0),
]
VALUES = [TEXT[s.start : s.end] for s in SPANS]


def transformer(operator: str, key: SecretKey | None = KEY, **params: object) -> TextTransformer:
    policy = parse_config({"policy": {"default": {"operator": operator, **params}}}).policy
    return TextTransformer(policy, key)


@pytest.mark.parametrize(
    "operator", ["redact", "replace", "mask", "hash", "encrypt", "pseudonymize", "date_shift"]
)
def test_when_operator_applied_then_no_original_value_survives(operator: str) -> None:
    out = transformer(operator).transform(TEXT, SPANS, subject="p1")
    for value in VALUES:
        if operator == "date_shift" and value == "3/14/2021":
            continue
        assert value not in out
    assert out.startswith("Call ") and out.endswith(".")


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("redact", "Call  at  or  on . Card ."),
        ("replace", "Call <PERSON> at <PHONE_NUMBER> or <EMAIL_ADDRESS> on <DATE_TIME>. Card <CREDIT_CARD>."),
        ("keep", TEXT),
    ],
)
def test_when_unkeyed_operator_then_exact_output(operator: str, expected: str) -> None:
    assert transformer(operator, key=None).transform(TEXT, SPANS) == expected


def test_when_mask_keeps_last_four_then_card_tail_visible() -> None:
    out = transformer("mask", key=None, keep_last=4).transform(
        "card 4111 1111 1111 1234", [Span(5, 24, "CREDIT_CARD", 1)]
    )
    assert out == "card " + "*" * 15 + "1234"


@pytest.mark.parametrize("operator", ["hash", "encrypt", "pseudonymize"])
def test_when_same_value_in_two_rows_then_same_output(operator: str) -> None:
    t = transformer(operator)
    first = t.transform("Email john.smith@example.com now", [Span(6, 28, "EMAIL_ADDRESS", 1)])
    second = t.transform("Reply to john.smith@example.com", [Span(9, 31, "EMAIL_ADDRESS", 1)])
    assert first[6:-4] == second[9:]


@pytest.mark.parametrize("operator", ["hash", "encrypt", "pseudonymize"])
def test_when_transformer_pickled_to_a_worker_then_same_output(operator: str) -> None:
    t = transformer(operator)
    clone = pickle.loads(pickle.dumps(t))
    assert clone.transform(TEXT, SPANS, "p1") == t.transform(TEXT, SPANS, "p1")


@pytest.mark.parametrize("operator", ["hash", "encrypt", "pseudonymize"])
def test_when_key_differs_then_output_differs(operator: str) -> None:
    assert transformer(operator).transform(TEXT, SPANS) != transformer(operator, OTHER_KEY).transform(
        TEXT, SPANS
    )


@pytest.mark.parametrize("operator", ["hash", "pseudonymize"])
def test_when_values_differ_then_outputs_differ(operator: str) -> None:
    t = transformer(operator)
    names = [f"Person{i} Example{i}" for i in range(200)]
    outs = {t.transform(n, [Span(0, len(n), "ID", 1)]) for n in names}
    assert len(outs) == len(names)


def test_when_spellings_of_one_name_differ_then_pseudonym_is_the_same() -> None:
    t = transformer("pseudonymize")
    a = t.transform("John  Smith", [Span(0, 11, "PERSON", 1)])
    b = t.transform("JOHN SMITH", [Span(0, 10, "PERSON", 1)])
    assert a.lower() == b.lower()
    assert b == b.upper()


@pytest.mark.parametrize(
    ("entity", "value", "pattern"),
    [
        ("EMAIL_ADDRESS", "ann@corp.com", r"^[a-z0-9.]+@example\.(com|org|net)$"),
        ("PHONE_NUMBER", "(617) 555-1234", r"^\([2-9]\d{2}\) 555-01\d{2}$"),
        ("US_SSN", "123-45-6789", r"^9\d{2}-\d{2}-\d{4}$"),
        ("IP_ADDRESS", "10.1.2.3", r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$"),
        ("CREDIT_CARD", "4111 1111 1111 1111", r"^4\d{3} \d{4} \d{4} \d{4}$"),
        ("PERSON", "Dr. Patel", r"^Dr\. [A-Z][a-z]+"),
        ("ID", "MRN-4821937", r"^[A-Z]{3}-\d{7}$"),
    ],
)
def test_when_pseudonymized_then_surrogate_is_realistic_and_safe(
    entity: str, value: str, pattern: str
) -> None:
    out = transformer("pseudonymize").transform(value, [Span(0, len(value), entity, 1)])
    assert re.match(pattern, out), out
    assert out != value


def test_when_card_pseudonymized_then_luhn_valid() -> None:
    out = transformer("pseudonymize").transform("4111 1111 1111 1111", [Span(0, 19, "CREDIT_CARD", 1)])
    digits = [int(c) for c in out if c.isdigit()]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits))
    )
    assert total % 10 == 0


def test_when_encrypted_then_decrypt_restores_exact_text() -> None:
    out = transformer("encrypt").transform(TEXT, SPANS)
    restored, done, failed = decrypt_text(KEY.derive("encrypt"), out)
    assert restored == TEXT and done == len(SPANS) and failed == 0


def test_when_decrypting_with_another_key_then_tokens_fail_and_stay() -> None:
    out = transformer("encrypt").transform(TEXT, SPANS)
    restored, done, failed = decrypt_text(OTHER_KEY.derive("encrypt"), out)
    assert restored == out and done == 0 and failed == len(SPANS)


def test_when_dates_of_one_subject_shift_then_interval_is_kept() -> None:
    t = transformer("date_shift")
    text = "admitted 3/1/2021, discharged 3/11/2021"
    spans = [Span(9, 17, "DATE_TIME", 1), Span(30, 39, "DATE_TIME", 1)]
    import datetime as dt

    for subject in ["p1", "p2", "p3"]:
        out = t.transform(text, spans, subject)
        found = re.findall(r"(\d+)/(\d+)/(\d{4})", out)
        first, second = (dt.date(int(y), int(m), int(d)) for m, d, y in found)
        assert (second - first).days == 10
        assert out != text
    shifted = {t.transform(text, spans, s) for s in ["p1", "p2", "p3"]}
    assert len(shifted) == 3


def test_when_date_unparseable_then_replaced_by_type() -> None:
    assert (
        transformer("date_shift").transform("seen yesterday", [Span(5, 14, "DATE_TIME", 1)], "p1")
        == "seen <DATE_TIME>"
    )


def test_when_policy_needs_key_and_none_given_then_error() -> None:
    with pytest.raises(KeyError_):
        transformer("pseudonymize", key=None)


@pytest.mark.parametrize("material", ["short", "a" * 40, "abababababababababababababababab"])
def test_when_key_is_weak_then_refused(material: str) -> None:
    with pytest.raises(KeyError_):
        SecretKey(material)


def test_when_key_generated_then_strong_and_never_shown() -> None:
    material = generate_key()
    key = SecretKey(material)
    assert material not in repr(key) and material not in key.fingerprint
    assert key.fingerprint.startswith("hmac-sha256:")


def test_when_key_file_is_world_readable_then_refused(tmp_path, no_key_env) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "key"
    path.write_text(generate_key())
    path.chmod(0o644)
    with pytest.raises(KeyError_, match="chmod 600"):
        load_key(KeyConfig(file=str(path)), required=True)
    path.chmod(0o600)
    assert load_key(KeyConfig(file=str(path)), required=True) is not None


def test_when_no_key_and_required_then_error_names_the_variable(no_key_env) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyError_, match="DEID_KEY"):
        load_key(KeyConfig(), required=True)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=1, max_size=80),
    cuts=st.lists(st.integers(0, 80), min_size=0, max_size=6),
    operator=st.sampled_from(["redact", "replace", "mask", "hash", "encrypt", "pseudonymize"]),
)
def test_when_any_spans_then_output_is_well_formed_and_values_removed(
    text: str, cuts: list[int], operator: str
) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    spans = [Span(a, b, "ID", 1) for a, b in zip(points[::2], points[1::2], strict=False) if b > a]
    out = transformer(operator).transform(text, spans)
    assert isinstance(out, str)
    outside = [text[: spans[0].start] if spans else text]
    for left, right in zip(spans, spans[1:], strict=False):
        outside.append(text[left.end : right.start])
    if spans:
        outside.append(text[spans[-1].end :])
    position = 0
    for piece in outside:  # the text around the spans survives, in order
        found = out.find(piece, position)
        assert found >= 0
        position = found + len(piece)
    if operator == "replace":
        assert out == "<ID>".join(outside)
