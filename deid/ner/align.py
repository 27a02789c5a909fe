"""Alignment between character spans, words, sub-tokens and model windows.

Words are the tokenizer's pre-tokens (whitespace and punctuation split). Labels go on the first
sub-token of each word; the other sub-tokens are ignored in the loss (label ``-100``) and at decoding a
word takes the prediction of its first sub-token. Documents longer than the model window are split into
windows that overlap by ``stride`` tokens; each token's prediction is taken from the window in which it
sits furthest from an edge (the overlap is cut in the middle), so every token has exactly one owner.

The base encoder is uncased: its tokenizer lowercases, so "Apple" and "apple" reach it as the same ids.
Models trained with the case feature get each token's *word shape* (:func:`word_case`) as a second input,
through BERT's token-type embeddings (one row per shape), so capitalisation is seen again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

IGNORE_INDEX = -100

#: Word shapes fed to case-feature models (token-type ids): no cased letter (digits, punctuation, most
#: non-Latin scripts), lower case, title case (one capital first, or a lone capital), all capitals,
#: anything else ("McDonald", "iPhone").
N_CASE_IDS = 5
CASE_NONE, CASE_LOWER, CASE_TITLE, CASE_UPPER, CASE_MIXED = range(N_CASE_IDS)


def word_case(word: str) -> int:
    """The shape class of one word (a tokenizer pre-token)."""
    if word.islower():
        return CASE_LOWER
    if word.isupper():
        cased = sum(1 for ch in word if ch.isupper())
        return CASE_UPPER if cased > 1 else CASE_TITLE
    if word.istitle():
        return CASE_TITLE
    if word.lower() == word.upper():
        return CASE_NONE
    return CASE_MIXED


@dataclass(frozen=True, slots=True)
class Word:
    """One pre-token of a document.

    Attributes:
        first_token: index of its first sub-token in the document's token sequence.
        start: character offset of its first character.
        end: character offset after its last character.
    """

    first_token: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Window:
    """A slice ``[start, end)`` of a document's tokens, which owns predictions for ``[own_start, own_end)``."""

    start: int
    end: int
    own_start: int
    own_end: int


@dataclass(frozen=True, slots=True)
class Encoded:
    """A tokenized document without special tokens."""

    input_ids: list[int]
    offsets: list[tuple[int, int]]
    words: list[Word]
    text: str = ""
    case_ids: list[int] | None = None


def case_ids(text: str, words: Sequence[Word], n_tokens: int) -> list[int]:
    """Each token's word shape (:func:`word_case` of the word it belongs to)."""
    out = [CASE_NONE] * n_tokens
    for index, word in enumerate(words):
        end = words[index + 1].first_token if index + 1 < len(words) else n_tokens
        shape = word_case(text[word.start : word.end])
        for token in range(word.first_token, end):
            out[token] = shape
    return out


def encode_documents(tokenizer: object, texts: Sequence[str], *, case: bool = False) -> list[Encoded]:
    """Tokenize documents (no truncation, no special tokens) and group sub-tokens into words.

    Args:
        tokenizer: a fast (Rust) Hugging Face tokenizer; offsets refer to the original text.
        texts: documents.
        case: also compute each token's word shape (:attr:`Encoded.case_ids`).

    Returns:
        one :class:`Encoded` per document.
    """
    if not texts:
        return []
    batch = tokenizer(  # type: ignore[operator]
        list(texts),
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
        return_token_type_ids=False,
        truncation=False,
        verbose=False,
    )
    out = []
    for index in range(len(texts)):
        ids = list(batch["input_ids"][index])
        offsets = [(int(s), int(e)) for s, e in batch["offset_mapping"][index]]
        words = group_words(offsets, batch.word_ids(index))
        shapes = case_ids(texts[index], words, len(ids)) if case else None
        out.append(Encoded(ids, offsets, words, texts[index], shapes))
    return out


def group_words(offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None]) -> list[Word]:
    """Group sub-tokens into words from the tokenizer's word ids and offsets."""
    words: list[Word] = []
    current: int | None = None
    first = start = end = 0
    for index, (word_id, (tok_start, tok_end)) in enumerate(zip(word_ids, offsets, strict=True)):
        if word_id is None:
            continue
        if word_id != current:
            if current is not None:
                words.append(Word(first, start, end))
            current, first, start, end = word_id, index, tok_start, tok_end
        else:
            start, end = min(start, tok_start), max(end, tok_end)
    if current is not None:
        words.append(Word(first, start, end))
    return words


def plan_windows(n_tokens: int, content_length: int, stride: int) -> list[Window]:
    """Split ``n_tokens`` into windows of at most ``content_length`` tokens overlapping by ``stride``.

    Args:
        n_tokens: number of tokens in the document.
        content_length: tokens per window (model max length minus the special tokens).
        stride: overlap between consecutive windows, ``0 <= stride < content_length``.

    Returns:
        windows whose owned ranges partition ``[0, n_tokens)``; one empty window for an empty document.
    """
    if content_length < 1 or not 0 <= stride < content_length:
        raise ValueError(f"need 0 <= stride ({stride}) < content_length ({content_length})")
    if n_tokens <= content_length:
        return [Window(0, n_tokens, 0, n_tokens)]
    step = content_length - stride
    starts = list(range(0, n_tokens - content_length, step)) + [n_tokens - content_length]
    windows = []
    for k, start in enumerate(starts):
        end = start + content_length
        own_start = 0 if k == 0 else windows[-1].own_end
        own_end = n_tokens if k == len(starts) - 1 else (end + starts[k + 1]) // 2
        windows.append(Window(start, end, own_start, own_end))
    return windows


def word_tags(
    words: Sequence[Word], spans: Sequence[tuple[int, int, str]], tag2id: dict[str, int]
) -> list[int]:
    """Give each word its BIO tag id from character spans.

    A word belongs to the span it overlaps most; it is ``B-`` when it is the first word of that span,
    ``I-`` otherwise. Spans whose label has no tag (unmapped) are ignored.

    Args:
        words: the document's words in order.
        spans: ``(start, end, label)`` character spans.
        tag2id: BIO tag -> id, with ``"O"``.

    Returns:
        one tag id per word.
    """
    ordered = sorted((s, e, label) for s, e, label in spans if e > s and f"B-{label}" in tag2id)
    tags = [tag2id["O"]] * len(words)
    previous_span = -1
    span_index = 0
    for w, word in enumerate(words):
        while span_index < len(ordered) and ordered[span_index][1] <= word.start:
            span_index += 1
        best, best_overlap = -1, 0
        for j in range(span_index, len(ordered)):
            s, e, _ = ordered[j]
            if s >= word.end:
                break
            overlap = min(e, word.end) - max(s, word.start)
            if overlap > best_overlap:
                best, best_overlap = j, overlap
        if best < 0:
            previous_span = -1
            continue
        label = ordered[best][2]
        tags[w] = tag2id[f"I-{label}" if best == previous_span else f"B-{label}"]
        previous_span = best
    return tags


def token_labels(n_tokens: int, words: Sequence[Word], tags: Sequence[int]) -> list[int]:
    """Spread word tags to tokens: the first sub-token carries the tag, the rest are ``IGNORE_INDEX``."""
    labels = [IGNORE_INDEX] * n_tokens
    for word, tag in zip(words, tags, strict=True):
        labels[word.first_token] = tag
    return labels
