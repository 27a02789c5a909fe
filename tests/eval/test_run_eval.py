"""eval/run_eval.py: per-set and per-type scores and the printed table, on fixed predictions."""

from __future__ import annotations

import pytest
from run_eval import EvalSet, format_table, leak_ratios, score_set, target_lines

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


def test_when_checking_targets_then_each_line_says_met_or_missed_and_org_f1_is_pooled() -> None:
    clinical = EvalSet("clinical", "held out", [Document("c", "Seen by Ann.", [(8, 11, "PERSON")])])
    # tweets: two organisations, one found as ORGANIZATION, one missed, plus one wrong ORGANIZATION guess
    tweets = EvalSet(
        "tweets",
        "held out",
        [Document("t", "Acme and Bolt met Ann", [(0, 4, "ORGANIZATION"), (9, 13, "ORGANIZATION")])],
        ("PERSON", "LOCATION", "ORGANIZATION"),
    )
    # sec_filings: its one organisation found
    sec = EvalSet(
        "sec_filings", "held out", [Document("s", "Acme Corp", [(0, 9, "ORGANIZATION")])], ("ORGANIZATION",)
    )
    results = {
        "deid": {
            "clinical": score_set(clinical, [[(8, 11, "PERSON")]]),
            "tweets": score_set(tweets, [[(0, 4, "ORGANIZATION"), (18, 21, "ORGANIZATION")]]),
            "sec_filings": score_set(sec, [[(0, 9, "ORGANIZATION")]]),
        },
        "presidio": {
            "clinical": score_set(clinical, [[]]),
            "tweets": score_set(tweets, [[]]),
            "sec_filings": score_set(sec, [[]]),
        },
    }
    lines = target_lines([clinical, tweets, sec], results, "deid", "presidio")
    assert lines[0] == "clinical: leak 0.000 < 0.04 at char P 1.000 >= 0.85: met"
    assert lines[1] == "clinical: leak 0.000 / presidio 1.000 = 0.00 <= 1/3: met"
    # tweets leak: Bolt's 4 of 8 characters, over Presidio's 8 of 8
    assert lines[2] == "tweets: leak 0.500 / presidio 1.000 = 0.50 <= 1/3: MISSED"
    assert lines[3] == "sec_filings: leak 0.000 / presidio 1.000 = 0.00 <= 1/3: met"
    assert lines[4] == "tweets: ORGANIZATION F1 0.500 >= 0.7: MISSED"  # P 1/2, R 1/2
    assert lines[5] == "sec_filings: ORGANIZATION F1 1.000 >= 0.7: met"
    # pooled: 2 of 3 gold found, 2 of 3 predictions right
    assert lines[6] == "general_ner pooled (3 organisations): ORGANIZATION F1 0.667 >= 0.7: MISSED"
    assert len(lines) == 7
    # without the baseline no ratio line is written
    assert not any("presidio" in line for line in target_lines([tweets], results, "deid", None))


@pytest.fixture()
def data_dir(tmp_path):  # type: ignore[no-untyped-def]
    """A miniature data directory with every file the suite reads."""
    import json

    (tmp_path / "physionet_deid").mkdir()
    for name, patients in (("physionet_train.jsonl", range(1, 11)), ("physionet_dev.jsonl", range(41, 44))):
        with open(tmp_path / "physionet_deid" / name, "w", encoding="utf-8") as handle:
            for p in patients:
                text = f"Seen by Dr Lee on 3/4 (patient {p})."
                spans = [
                    {"start": 11, "end": 14, "label": "PERSON"},
                    {"start": 18, "end": 21, "label": "DATE"},
                ]
                handle.write(json.dumps({"id": f"physionet-{p}-1", "text": text, "spans": spans}) + "\n")
    general = tmp_path / "general_ner"
    general.mkdir()
    wiki = "".join(f"-DOCSTART- O\n\nArt{i} O\nby O\nAnn I-PER\n\n" for i in range(8))
    (general / "wikigold.conll").write_text(wiki, encoding="utf-8")
    for name in ("btc_h.conll", "btc_a.conll"):
        (general / name).write_text("@\tB-PER\nbob\tB-PER\nin\tO\nParis\tB-LOC\n\n", encoding="utf-8")
    for name in ("sec_filings_test.conll", "sec_filings_train.conll"):
        (general / name).write_text(
            "-DOCSTART- -X- O O\n\nBorrower NNP - I-PER\nAcme NNP - I-ORG\n\n", encoding="utf-8"
        )
    (tmp_path / "wnut17").mkdir()
    (tmp_path / "wnut17" / "emerging.dev.conll").write_text("hi\tO\nAnn\tB-person\n\n", encoding="utf-8")
    return tmp_path


def test_when_building_the_held_out_sets_then_every_set_is_there_with_its_split(data_dir) -> None:  # type: ignore[no-untyped-def]
    from run_eval import build_sets

    sets = {s.name: s for s in build_sets(data_dir, split="held_out")}
    assert list(sets) == ["clinical", "tweets", "wikipedia", "sec_filings", "wnut17", "synthetic"]
    assert "chose between the v3 candidates" in sets["clinical"].split and len(sets["clinical"].docs) == 3
    assert [d.text.split()[0] for d in sets["wikipedia"].docs] == ["Art3", "Art7"]
    assert sets["sec_filings"].docs[0].spans == [(9, 13, "ORGANIZATION")]  # "Borrower" is not personal data
    assert sets["tweets"].docs[0].text == "@bob in Paris"
    assert sets["clinical"].types is None and sets["tweets"].types == ("PERSON", "LOCATION", "ORGANIZATION")
    assert len(sets["synthetic"].docs) == 400


def test_when_building_the_decision_sets_then_no_held_out_document_is_used(data_dir) -> None:  # type: ignore[no-untyped-def]
    from run_eval import build_sets

    held = {d.text for s in build_sets(data_dir, split="held_out") for d in s.docs}
    decision = build_sets(data_dir, split="decision", fold=1, quick=True)
    names = [s.name for s in decision]
    assert names == ["clinical", "tweets", "sec_filings", "wikipedia", "synthetic"]
    clinical = decision[0]
    assert clinical.split == "decision: CV fold 1"
    assert all(int(d.id.split("-")[1]) <= 10 for d in clinical.docs)
    wiki = next(s for s in decision if s.name == "wikipedia")
    assert not {d.text for d in wiki.docs} & held
    assert len(next(s for s in decision if s.name == "synthetic").docs) == 80  # --quick: a fifth


def test_when_writing_the_table_into_a_card_twice_then_the_section_is_replaced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from run_eval import write_card_section

    card = tmp_path / "README.md"
    card.write_text("# model\n\nintro\n", encoding="utf-8")
    write_card_section(card, "| a |")
    write_card_section(card, "| b |")
    text = card.read_text(encoding="utf-8")
    assert text.startswith("# model\n\nintro\n")
    assert "| b |" in text and "| a |" not in text and text.count("eval:start") == 1
