"""ModelSpanFilter: model spans that cannot be personal data are dropped, real ones are kept."""

from __future__ import annotations

import pytest

from deid.detect.model_filters import LEXICON_PATH, ModelSpanFilter, load_lexicon


@pytest.fixture(scope="module")
def span_filter() -> ModelSpanFilter:
    return ModelSpanFilter()


def _keep(span_filter: ModelSpanFilter, text: str, value: str, label: str) -> bool:
    start = text.index(value)
    return span_filter.keep(text, start, start + len(value), label)


@pytest.mark.parametrize(
    ("text", "value", "label"),
    [
        ("RENAL: Quinton catheter was inserted", "Quinton", "PERSON"),
        ("anderson tubes not currently in use", "anderson", "PERSON"),
        ("signs of Cushing syndrome noted", "Cushing", "PERSON"),
        ("heparin 800U/hr. PT/PTT 14/32. Next", "14/32", "DATE_TIME"),
        ("CK 177/17. also intubated", "177/17", "DATE_TIME"),
        ("C/O INCISIONAL PAIN #9/10. DENIES", "9/10", "DATE_TIME"),
        ("pt c/o CP, 5/10, ECG done", "5/10", "DATE_TIME"),
        ("ADMITTED FROM CATH LAB", "CATH", "LOCATION"),
        ("crackles and rhonchi bilaterally", "rhonchi", "PERSON"),
    ],
)
def test_when_a_model_span_cannot_be_pii_then_it_is_dropped(span_filter, text, value, label) -> None:  # type: ignore[no-untyped-def]
    assert not _keep(span_filter, text, value, label)


@pytest.mark.parametrize(
    ("text", "value", "label"),
    [
        ("spoke with Radu Crosson today", "Radu Crosson", "PERSON"),
        ("sedated per dr. Murphy- procedure went well", "Murphy", "PERSON"),
        ("Dr. Swan catheter team lead", "Swan", "PERSON"),  # a title makes it a person
        ("Marcela Carlson who lives in DC.", "DC", "LOCATION"),
        ("BROUGHT TO GH CATH LAB TODAY", "GH", "LOCATION"),
        ("CHF SINCE AVR 8/88, ECHO", "8/88", "DATE_TIME"),
        ("vanco given on 10/20. WBC", "10/20", "DATE_TIME"),
        ("seen 12/24 for CABG", "12/24", "DATE_TIME"),
        ("pain free since 7/10 per family", "7/10", "DATE_TIME"),  # "since" is not a pain word
        ("transferred to Memorial Hospital", "Memorial Hospital", "LOCATION"),
        ("Quinton Jones visited", "Quinton", "PERSON"),
        ("Carly Downs (CD), MRN 2983674", "CD", "PERSON"),  # initials look like abbreviations
        ("John signs the consent form", "John", "PERSON"),  # a verb, not an eponym's noun
        ("Mary tests positive again", "Mary", "PERSON"),
        ("go back to carrying Floyds bags !", "Floyds", "PERSON"),
        ("maybe it's called Neo )", "Neo", "PERSON"),  # a lexicon word, but Title-case like a name
        ("PT IS A 97YO TRANSFERRED", "97YO", "LOCATION"),
        ("Pharmacy: Roman Inc, Edwardburgh", "Inc", "ORGANIZATION"),
    ],
)
def test_when_a_model_span_may_be_pii_then_it_is_kept(span_filter, text, value, label) -> None:  # type: ignore[no-untyped-def]
    assert _keep(span_filter, text, value, label)


def test_the_shipped_lexicon_holds_clinical_words_and_no_names_or_states() -> None:
    words = load_lexicon(LEXICON_PATH)
    assert {"cath", "rhonchi", "rehab"} <= words
    assert not words & {
        "murphy",
        "brady",
        "anderson",
        "john",
        "mary",
        "dc",
        "ma",
        "ca",
        "fm",
        "florida",
        "inc",
    }


def test_when_the_recognizer_has_a_filter_then_rejected_model_spans_are_not_reported(span_filter) -> None:  # type: ignore[no-untyped-def]
    from deid.detect.transformer_recognizer import TransformerNerRecognizer
    from deid.ner.inference import NerSpan

    text = "Radu Crosson has a Quinton catheter"

    class FakeModel:
        labels = ["PERSON"]

        def predict(self, texts):  # type: ignore[no-untyped-def]
            return [[NerSpan(0, 12, "PERSON", 0.9), NerSpan(19, 26, "PERSON", 0.9)] for _ in texts]

    def found(recognizer: TransformerNerRecognizer) -> list[str]:
        return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"])]

    assert found(TransformerNerRecognizer(FakeModel(), span_filter=span_filter)) == ["Radu Crosson"]
    assert found(TransformerNerRecognizer(FakeModel())) == ["Radu Crosson", "Quinton"]
    primed = TransformerNerRecognizer(FakeModel(), span_filter=span_filter)
    primed.prime([text])
    assert found(primed) == ["Radu Crosson"]


def test_the_filters_are_on_by_default_and_can_be_turned_off() -> None:
    from deid.config import load_config, parse_config

    default = load_config(None).detection.transformer
    assert default is not None and default.filters is True
    off = parse_config({"detection": {"transformer": {"model": "models/deid-ner-minilm", "filters": False}}})
    assert off.detection.transformer is not None and off.detection.transformer.filters is False
