"""NerModel: lazy loading, pickling, batching, windows merged back to character offsets."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid.ner.inference import NerModel, NerSpan, plan_batches
from deid.ner.modeldir import META_FILE, ModelLoadError

TEXTS = [
    "John Smith was seen at Boston General on 3/4/2020.",
    "",
    "   \n\t ",
    "PT SEEN BY DR. SILVA; DAUGHTER SIERRA CALLED. " * 30,
    "Zoë Müller, 東京, naïve café\n\n\n   İstanbul",
]

ALPHABET = st.sampled_from(list("abcXYZ019 .,/-'\n\t") + ["é", "ß", "東", "🙂", "\u00a0", "İ", "\u200b"])


_CACHE: dict[object, NerModel] = {}


def _loaded(model_dir) -> NerModel:
    if model_dir not in _CACHE:
        _CACHE[model_dir] = NerModel(model_dir).load()
    return _CACHE[model_dir]


def test_when_constructed_then_nothing_is_loaded_and_it_pickles(tiny_model_dir):
    model = NerModel(tiny_model_dir)
    assert model._loaded is None
    assert model.labels == ["PERSON", "LOCATION", "DATE_TIME"]
    model.predict(["warm up"])
    clone = pickle.loads(pickle.dumps(model))
    assert clone._loaded is None and clone.model_dir == model.model_dir
    assert clone.predict(TEXTS[:1]) == model.predict(TEXTS[:1])


def test_when_texts_are_empty_or_blank_then_no_spans(tiny_model_dir):
    result = NerModel(tiny_model_dir).predict(TEXTS)
    assert len(result) == len(TEXTS)
    assert result[1] == [] and result[2] == []
    assert NerModel(tiny_model_dir).predict([]) == []


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_when_batch_size_changes_then_predictions_do_not(tiny_model_dir, batch_size):
    reference = NerModel(tiny_model_dir, batch_size=32).predict(TEXTS)
    got = NerModel(tiny_model_dir, batch_size=batch_size).predict(TEXTS)
    assert [[(s.start, s.end, s.label) for s in doc] for doc in got] == [
        [(s.start, s.end, s.label) for s in doc] for doc in reference
    ]


def test_when_predicting_then_spans_are_well_formed(tiny_model_dir):
    for text, spans in zip(
        TEXTS, NerModel(tiny_model_dir, max_length=32, stride=8).predict(TEXTS), strict=True
    ):
        for span in spans:
            assert isinstance(span, NerSpan)
            assert 0 <= span.start < span.end <= len(text)
            assert not text[span.start].isspace() and not text[span.end - 1].isspace()
            assert span.label in {"PERSON", "LOCATION", "DATE_TIME"}
            assert 0.0 <= span.score <= 1.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.text(ALPHABET, max_size=300), min_size=1, max_size=4),
    max_length=st.integers(8, 40),
    data=st.data(),
)
def test_when_a_model_is_context_free_then_windowing_changes_nothing(
    context_free_model_dir, texts, max_length, data
):
    stride = data.draw(st.integers(0, max_length - 3))
    model = _loaded(context_free_model_dir)
    model.max_length, model.stride, model.batch_size = 512, 0, 32
    whole = model.predict(texts)
    model.max_length, model.stride, model.batch_size = max_length, stride, 5
    windowed = model.predict(texts)
    strip = [[(s.start, s.end, s.label) for s in doc] for doc in windowed]
    assert strip == [[(s.start, s.end, s.label) for s in doc] for doc in whole]
    for text, spans in zip(texts, windowed, strict=True):
        for span in spans:
            assert 0 <= span.start < span.end <= len(text)


def test_when_metadata_is_missing_then_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not a deid NER model"):
        NerModel(tmp_path).predict(["x"])


def test_when_labels_disagree_with_config_then_model_load_error(tiny_model_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    meta = json.loads((broken / META_FILE).read_text())
    meta["labels"] = ["PERSON", "DATE_TIME", "LOCATION"]
    (broken / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="labels"):
        NerModel(broken).predict(["John"])


def test_when_threshold_is_overridden_then_fewer_spans_at_a_lower_threshold(tiny_model_dir):
    loose = NerModel(tiny_model_dir, o_threshold=0.99).predict(TEXTS[:1])[0]
    strict = NerModel(tiny_model_dir, o_threshold=0.01).predict(TEXTS[:1])[0]
    assert len(strict) <= len(loose)


def test_when_quantized_then_linear_layers_are_int8_and_predictions_stay_well_formed(tiny_model_dir):
    import torch

    model = NerModel(tiny_model_dir, precision="int8").load()
    _, network, _ = model._loaded
    assert not any(type(m) is torch.nn.Linear for m in network.modules())  # every Linear replaced
    assert any("quantized" in type(m).__module__ for m in network.modules())
    got = model.predict(TEXTS)
    assert len(got) == len(TEXTS) and got[1] == [] and got[2] == []
    for text, spans in zip(TEXTS, got, strict=True):
        for span in spans:
            assert 0 <= span.start < span.end <= len(text) and 0.0 <= span.score <= 1.0
    clone = pickle.loads(pickle.dumps(model))
    # activations are quantized per batch, so compare the same batch (the option's documented caveat)
    assert clone.precision == "int8" and clone.predict(TEXTS) == got


def test_when_precision_is_unknown_then_value_error(tiny_model_dir):
    with pytest.raises(ValueError, match="precision"):
        NerModel(tiny_model_dir, precision="fp4")


def test_when_bf16_then_weights_are_bfloat16_and_predictions_stay_well_formed(tiny_model_dir):
    import torch

    model = NerModel(tiny_model_dir, precision="bf16").load()
    _, network, _ = model._loaded
    assert {p.dtype for p in network.parameters()} == {torch.bfloat16}
    got = model.predict(TEXTS)
    assert len(got) == len(TEXTS) and got[1] == [] and got[2] == []
    for text, spans in zip(TEXTS, got, strict=True):
        for span in spans:
            assert 0 <= span.start < span.end <= len(text) and 0.0 <= span.score <= 1.0


def test_when_precision_is_auto_then_it_follows_the_cpu(monkeypatch):
    from deid.ner import inference

    monkeypatch.setattr(inference, "native_bf16", lambda: True)
    assert inference.resolve_precision("auto") == "bf16"
    monkeypatch.setattr(inference, "native_bf16", lambda: False)
    assert inference.resolve_precision("auto") == "fp32"
    assert inference.resolve_precision("int8") == "int8"


def _brute_force_cost(widths: list[int], max_rows: int, overhead: int) -> float:
    """Least cost over every cut of ``widths`` into contiguous batches (exponential: tiny inputs)."""
    if not widths:
        return 0.0
    return min(
        size * widths[size - 1] + overhead + _brute_force_cost(widths[size:], max_rows, overhead)
        for size in range(1, min(max_rows, len(widths)) + 1)
    )


@settings(max_examples=60, deadline=None)
@given(
    widths=st.lists(st.integers(min_value=3, max_value=258), max_size=9).map(sorted),
    max_rows=st.integers(min_value=1, max_value=5),
    overhead=st.integers(min_value=0, max_value=100),
)
def test_when_batches_planned_then_they_cover_in_order_within_max_rows_at_least_cost(
    widths: list[int], max_rows: int, overhead: int
) -> None:
    ranges = plan_batches(widths, max_rows, overhead)
    assert [i for first, last in ranges for i in range(first, last)] == list(range(len(widths)))
    assert all(0 < last - first <= max_rows for first, last in ranges)
    cost = sum((last - first) * widths[last - 1] + overhead for first, last in ranges)
    assert cost == _brute_force_cost(widths, max_rows, overhead)


def test_when_widths_differ_a_lot_then_short_rows_are_not_padded_to_long_ones() -> None:
    # 30 short windows and 2 full ones: one batch of 32 would compute 32 x 256 tokens
    widths = [12] * 30 + [256, 256]
    assert plan_batches(widths, 32, 64) == [(0, 30), (30, 32)]
    with pytest.raises(ValueError, match="ascending"):
        plan_batches([5, 3], 32)
