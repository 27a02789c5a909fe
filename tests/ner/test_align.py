"""Label alignment, windows and decoding: property tests over random texts and spans."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid.ner.align import IGNORE_INDEX, Word, encode_documents, plan_windows, token_labels, word_tags
from deid.ner.decode import decode_words
from deid.ner.modeldir import bio_labels

LABELS = ["PERSON", "LOCATION", "DATE_TIME"]
TAGS = bio_labels(LABELS)
TAG2ID = {t: i for i, t in enumerate(TAGS)}

WORDS = st.sampled_from(
    [
        "John",
        "SMITH",
        "o'neil",
        "Zoë",
        "Müller",
        "naïve",
        "東京",
        "3/4/2020",
        "MRN#123",
        "Dr.",
        "🙂",
        "x",
        "CABG",
        "'84",
        "ß",
        "İstanbul",
    ]
)
SEPARATORS = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \u00a0 ", " , ", "\r\n"])


@st.composite
def texts_with_spans(draw):
    """A text of random words and separators, and spans covering runs of whole words."""
    words = draw(st.lists(WORDS, min_size=1, max_size=40))
    seps = draw(st.lists(SEPARATORS, min_size=len(words), max_size=len(words)))
    lead = draw(st.sampled_from(["", " ", "\n "]))
    text, bounds = lead, []
    for word, sep in zip(words, seps, strict=True):
        bounds.append((len(text), len(text) + len(word)))
        text += word + sep
    spans, i = [], 0
    while i < len(words):
        if draw(st.booleans()):
            length = draw(st.integers(1, 3))
            j = min(len(words), i + length)
            spans.append((bounds[i][0], bounds[j - 1][1], draw(st.sampled_from(LABELS))))
            i = j + draw(st.integers(0, 2))
        else:
            i += 1
    return text, spans


@given(n=st.integers(0, 2000), content=st.integers(1, 300), data=st.data())
def test_when_planning_windows_then_owned_ranges_partition_the_tokens(n, content, data):
    stride = data.draw(st.integers(0, content - 1))
    windows = plan_windows(n, content, stride)
    assert windows[0].own_start == 0 and windows[-1].own_end == n
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.own_end == b.own_start
        assert b.start - a.start <= content - stride
    for w in windows:
        assert 0 <= w.start <= w.own_start <= w.own_end <= w.end <= n
        assert w.end - w.start <= content


@pytest.mark.parametrize("content, stride", [(0, 0), (5, 5), (5, -1)])
def test_when_window_parameters_are_invalid_then_value_error(content, stride):
    with pytest.raises(ValueError):
        plan_windows(10, content, stride)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=texts_with_spans())
def test_when_words_are_tokenized_then_offsets_point_into_the_original_text(tokenizer, case):
    text, _ = case
    (enc,) = encode_documents(tokenizer, [text])
    previous_end = 0
    for word in enc.words:
        assert previous_end <= word.start < word.end <= len(text)
        assert not text[word.start].isspace() and not text[word.end - 1].isspace()
        previous_end = word.end


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=texts_with_spans())
def test_when_gold_tags_are_decoded_then_the_spans_come_back(tokenizer, case):
    text, spans = case
    (enc,) = encode_documents(tokenizer, [text])
    tags = word_tags(enc.words, spans, TAG2ID)
    probs = np.zeros((len(enc.words), len(TAGS)), dtype=np.float32)
    probs[np.arange(len(enc.words)), tags] = 1.0
    decoded = [(s, e, label) for s, e, label, _ in decode_words(enc.words, probs, LABELS)]
    assert decoded == sorted(spans)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=texts_with_spans())
def test_when_labels_are_spread_to_tokens_then_only_first_subtokens_carry_them(tokenizer, case):
    text, spans = case
    (enc,) = encode_documents(tokenizer, [text])
    tags = word_tags(enc.words, spans, TAG2ID)
    labels = token_labels(len(enc.input_ids), enc.words, tags)
    firsts = {w.first_token for w in enc.words}
    for i, label in enumerate(labels):
        assert (label != IGNORE_INDEX) == (i in firsts)


@pytest.mark.parametrize(
    "spans, expected",
    [
        ([(0, 4, "PERSON")], ["B-PERSON", "O", "O"]),
        ([(0, 10, "PERSON")], ["B-PERSON", "I-PERSON", "O"]),
        ([(0, 4, "PERSON"), (5, 10, "PERSON")], ["B-PERSON", "B-PERSON", "O"]),
        ([(6, 8, "LOCATION")], ["O", "B-LOCATION", "O"]),  # partial overlap still labels the word
        ([(0, 4, "UNKNOWN")], ["O", "O", "O"]),
    ],
)
def test_when_spans_cover_words_then_bio_tags_follow(spans, expected):
    words = [Word(0, 0, 4), Word(1, 5, 10), Word(2, 11, 14)]
    assert [TAGS[t] for t in word_tags(words, spans, TAG2ID)] == expected


def test_when_probabilities_are_below_threshold_then_words_are_entities():
    words = [Word(0, 0, 4), Word(1, 5, 10)]
    probs = np.array([[0.6, 0.4, 0, 0, 0, 0, 0], [0.6, 0.0, 0.4, 0, 0, 0, 0]], dtype=np.float32)
    assert decode_words(words, probs, LABELS, o_threshold=0.5) == []
    spans = decode_words(words, probs, LABELS, o_threshold=0.7)
    assert [(s, e, lab) for s, e, lab, _ in spans] == [(0, 10, "PERSON")]
    assert spans[0][3] == pytest.approx(1 - 0.6 / 1.4)  # 0.5 at the threshold, 1 at P(O) = 0


def _one_hot(tags: list[str]) -> np.ndarray:
    probs = np.zeros((len(tags), len(TAGS)), dtype=np.float32)
    for row, tag in enumerate(tags):
        probs[row, TAG2ID[tag]] = 1.0
    return probs


@pytest.mark.parametrize(
    "text, tags, expected",
    [
        # touching pieces of one name stay one span even when each looks like B-
        ("O'Rourke came", ["B-PERSON", "B-PERSON", "B-PERSON", "O"], [("O'Rourke", "PERSON")]),
        # separate words tagged B- stay separate
        ("Warren Grant", ["B-PERSON", "B-PERSON"], [("Warren", "PERSON"), ("Grant", "PERSON")]),
        # a half-found date grows over its touching numeric pieces
        ("CABG 8/84 ok", ["O", "O", "B-DATE_TIME", "O", "O"], [("8/84", "DATE_TIME")]),
        ("on 11/30.", ["O", "B-DATE_TIME", "I-DATE_TIME", "O", "O"], [("11/30", "DATE_TIME")]),
        # names do not grow over numbers
        ("Cole,5", ["B-PERSON", "O", "O"], [("Cole", "PERSON")]),
    ],
)
def test_when_pieces_touch_then_decoding_repairs_the_split(tokenizer, text, tags, expected):
    (enc,) = encode_documents(tokenizer, [text])
    assert len(enc.words) == len(tags)
    spans = decode_words(enc.words, _one_hot(tags), LABELS, text=text)
    assert [(text[s:e], label) for s, e, label, _ in spans] == expected
