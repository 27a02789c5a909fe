"""Evaluation metrics on hand-checked cases."""

from __future__ import annotations

import pytest

from deid.ner.metrics import ANY, PRF, format_table, score_documents

TEXT = "Seen by John Smith at Boston General on 3/4/2020."
#       0123456789012345678901234567890123456789012345678
JOHN_SMITH = (8, 18, "PERSON")  # 9 non-space chars
BOSTON = (22, 36, "LOCATION")  # "Boston General": 13 non-space chars
DATE = (40, 48, "DATE_TIME")  # 8 chars


def score(pred, gold=(JOHN_SMITH, BOSTON, DATE), text=TEXT):
    return score_documents([text], [list(gold)], [list(pred)])


def test_when_prediction_equals_gold_then_everything_is_perfect():
    s = score([JOHN_SMITH, BOSTON, DATE])
    assert s.leak_rate == 0.0 and s.char_precision == 1.0 and s.docs_leaking == 0
    for mode in ("exact", "overlap"):
        assert s.entity[mode][ANY].f_beta(1) == 1.0


def test_when_a_name_is_half_found_then_overlap_matches_and_exact_does_not():
    s = score([(8, 12, "PERSON"), BOSTON, DATE])
    assert s.entity["overlap"]["PERSON"].recall == 1.0
    assert s.entity["exact"]["PERSON"].recall == 0.0
    assert s.leaked_chars == 5  # "Smith"
    assert s.gold_chars == 9 + 13 + 8
    assert s.leak_rate == pytest.approx(5 / 30)
    assert s.docs_leaking == 1


def test_when_the_type_is_wrong_then_entity_scores_drop_but_chars_are_covered():
    s = score([(8, 18, "LOCATION"), BOSTON, DATE])
    assert s.entity["overlap"]["PERSON"].recall == 0.0
    assert s.entity["overlap"][ANY].recall == 1.0
    assert s.leak_rate == 0.0


def test_when_a_prediction_is_too_long_then_char_precision_counts_the_extra_chars():
    s = score([(0, 18, "PERSON"), BOSTON, DATE])  # "Seen by " adds 6 non-space chars
    assert s.pred_chars == 6 + 9 + 13 + 8
    assert s.char_precision == pytest.approx(30 / 36)
    assert s.entity["exact"]["PERSON"].precision == 0.0
    assert s.entity["overlap"]["PERSON"].precision == 1.0


def test_when_nothing_is_predicted_then_all_gold_leaks_and_precision_is_one():
    s = score([])
    assert s.leak_rate == 1.0 and s.char_precision == 1.0
    assert s.entity["overlap"][ANY].recall == 0.0


def test_when_a_document_has_no_gold_then_predictions_are_false_positives():
    s = score_documents(["nothing here"], [[]], [[(0, 7, "PERSON")]])
    assert s.gold_chars == 0 and s.leak_rate == 0.0
    assert s.char_precision == 0.0
    assert s.docs_with_gold == 0 and s.docs_leaking == 0
    assert s.entity["overlap"]["PERSON"].precision == 0.0


def test_when_predictions_overlap_then_chars_are_counted_once():
    s = score([(8, 18, "PERSON"), (8, 12, "LOCATION"), BOSTON, DATE])
    assert s.pred_chars == 30 and s.char_precision == 1.0


@pytest.mark.parametrize(
    "prf, p, r, f1, f2",
    [
        (PRF(tp_gold=1, n_gold=2, tp_pred=1, n_pred=1), 1.0, 0.5, 2 / 3, 5 * 0.5 / (4 + 0.5)),
        (PRF(), 1.0, 1.0, 1.0, 1.0),
        (PRF(tp_gold=0, n_gold=3, tp_pred=0, n_pred=2), 0.0, 0.0, 0.0, 0.0),
    ],
)
def test_when_counts_are_given_then_scores_follow_the_formulas(prf, p, r, f1, f2):
    assert prf.precision == pytest.approx(p)
    assert prf.recall == pytest.approx(r)
    assert prf.f_beta(1) == pytest.approx(f1)
    assert prf.f_beta(2) == pytest.approx(f2)


def test_when_scores_are_formatted_then_the_table_has_each_type_and_the_leak_rate():
    table = format_table(score([JOHN_SMITH]), title="demo")
    assert "PERSON" in table and "LOCATION" in table and "ANY" in table
    assert "leak rate 0.7000" in table


def test_when_lengths_differ_then_value_error():
    with pytest.raises(ValueError):
        score_documents(["a"], [[]], [])
