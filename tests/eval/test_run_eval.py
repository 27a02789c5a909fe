"""eval/run_eval.py: per-set and per-type scores and the printed table, on fixed predictions."""

from __future__ import annotations

import pytest
from run_eval import EvalSet, format_table, leak_ratios, score_set

from deid.ner.data import Document


@pytest.fixture()
def eval_set() -> EvalSet:
    #                 0123456789012345678901234
    doc = Document(
        "d1", "Ann Lee met Acme in Oslo.", [(0, 7, "PERSON"), (12, 16, "ORGANIZATION"), (20, 24, "LOCATION")]
    )
    return EvalSet("news", "held out", [doc], ("PERSON", "LOCATION", "ORGANIZATION"))


def test_when_scoring_then_leak_and_char_precision_are_label_agnostic(eval_set: EvalSet) -> None:
    # Ann Lee found as LOCATION, Oslo found, Acme missed, "met" wrongly flagged, a date ignored (type not scored)
    preds = [[(0, 7, "LOCATION"), (8, 11, "PERSON"), (20, 24, "LOCATION"), (12, 16, "DATE_TIME")]]
    rows = score_set(eval_set, preds)["rows"]
    # gold non-space chars: AnnLee 6 + Acme 4 + Oslo 4 = 14; Acme's 4 leak
    assert rows["all"]["leak"] == pytest.approx(4 / 14)
    # predicted chars: 6 + 3 + 4 (the DATE_TIME span is not scored on a general-text set)
    assert rows["all"]["char_p"] == pytest.approx(10 / 13)
    assert rows["ORGANIZATION"]["leak"] == 1.0
    assert rows["ORGANIZATION"]["pred_chars"] == 0
    assert rows["PERSON"]["leak"] == 0.0  # covered, whatever the label
    assert rows["PERSON"]["f2"] == 0.0  # typed: "met" is the only PERSON prediction
    assert rows["PERSON"]["char_p"] == 0.0
    assert rows["LOCATION"]["char_p"] == pytest.approx(10 / 10)


def test_when_formatting_then_one_row_per_type_and_missing_predictions_show_a_dash(eval_set: EvalSet) -> None:
    results = {
        "deid": {"news": score_set(eval_set, [[(0, 7, "PERSON")]])},
        "presidio": {"news": score_set(eval_set, [[(0, 7, "PERSON"), (20, 24, "LOCATION")]])},
    }
    table = format_table([eval_set], results, ["deid", "presidio"]).splitlines()
    assert table[0].startswith(
        "| set | split | type | gold | deid leak | deid char P | deid F2 | presidio leak"
    )
    assert len(table) == 2 + 4  # header, rule, all + three types
    org = next(line for line in table if "| ORGANIZATION |" in line)
    assert org.split("|")[6].strip() == "-"
    assert leak_ratios([eval_set], results, "deid", "presidio") == [
        "news: deid leak / presidio leak = 2.00"
    ]  # 8/14 over 4/14
