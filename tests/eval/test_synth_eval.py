"""eval/synth_eval.py: the evaluation generator's spans are exact and it is not the training generator."""

from __future__ import annotations

from collections import Counter

from synth_eval import STYLES, generate_eval_documents

from deid.ner.synth import STYLES as TRAINING_STYLES


def test_when_generating_then_every_span_is_a_non_blank_trimmed_slice() -> None:
    docs = generate_eval_documents(len(STYLES) * 3, seed=5)
    for doc in docs:
        assert doc.spans
        for start, end, _ in doc.spans:
            value = doc.text[start:end]
            assert value.strip() == value != ""
        ends = [e for _, e, _ in doc.spans]
        starts = [s for s, _, _ in doc.spans]
        assert all(s >= e for s, e in zip(starts[1:], ends[:-1], strict=False))  # no overlaps


def test_when_generating_with_a_seed_then_output_repeats_and_another_seed_differs() -> None:
    a = generate_eval_documents(16, seed=1)
    assert [(d.text, d.spans) for d in a] == [(d.text, d.spans) for d in generate_eval_documents(16, seed=1)]
    assert [d.text for d in a] != [d.text for d in generate_eval_documents(16, seed=2)]


def test_when_generating_a_set_then_it_covers_the_issues_types_and_several_name_locales() -> None:
    docs = generate_eval_documents(80)
    labels = Counter(label for d in docs for _, _, label in d.spans)
    for label in ("PERSON", "ORGANIZATION", "LOCATION", "PHONE_NUMBER", "EMAIL_ADDRESS", "DATE_TIME", "AGE"):
        assert labels[label] > 0, label
    assert labels["ID"] + labels["US_SSN"] > 0
    assert any("\n" in d.text for d in docs) and any(d.text.isupper() for d in docs)


def test_when_comparing_styles_then_none_is_a_training_generator_style() -> None:
    assert not set(STYLES) & set(TRAINING_STYLES)
