"""Column policies: config validation, whole-cell transforms, types, invalid cells, consistency with free text."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from deid.config import parse_config
from deid.detect.spans import Span
from deid.errors import ConfigError
from deid.transform.column_transform import ColumnTransformer, check_column_type
from deid.transform.columns import ColumnPolicy
from deid.transform.keys import SecretKey
from deid.transform.policy import TextTransformer

KEY = SecretKey("unit-test-key-0123456789-abcdefghijklmnopqrstuvwxyz")


def policy(**entry: object) -> ColumnPolicy:
    return ColumnPolicy.model_validate(entry)


def column(name: str, entry: dict[str, object], values: list[object], arrow_type=None, subjects=None):  # type: ignore[no-untyped-def]
    transformer = ColumnTransformer({name: policy(**entry)}, KEY)
    return transformer.transform_column(name, values, arrow_type, subjects or ["p1"] * len(values))


ISSUE_YAML = {
    "columns": {
        "patient_name": {"entity": "PERSON", "operator": "pseudonymize"},
        "email": {"entity": "EMAIL_ADDRESS", "operator": "hash"},
        "dob": {"entity": "DATE_TIME", "operator": "date_shift"},
        "mrn": {"entity": "ID", "operator": "encrypt"},
        "zip": {"operator": "generalize", "keep": 3},
        "free_comment": {"text": True},
        "ssn": {"operator": "drop"},
    }
}


def test_when_issue_example_parsed_then_every_entry_is_typed() -> None:
    config = parse_config(ISSUE_YAML)
    ops = {name: p.operator for name, p in config.columns.items()}
    assert ops == {
        "patient_name": "pseudonymize",
        "email": "hash",
        "dob": "date_shift",
        "mrn": "encrypt",
        "zip": "generalize",
        "free_comment": None,
        "ssn": "drop",
    }
    assert config.columns["zip"].spec.keep == 3
    assert config.unlisted_columns == "keep"
    assert config.needs_key()
    assert parse_config({"columns": {"zip": {"operator": "generalize"}}}).needs_key() is False


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "give an operator"),
        ({"text": True, "operator": "hash"}, "either free text"),
        ({"operator": "pseudonymize"}, "pseudonymize needs 'entity'"),
        ({"operator": "hash", "length": 2}, "length"),
        ({"operator": "generalize", "kind": "decade"}, "kind"),
        ({"operator": "hash", "colour": "red"}, "colour: unknown key"),
        ({"entity": "PERSON"}, "give an operator"),
        ({"keep": 3}, "give 'operator'"),
    ],
)
def test_when_column_entry_wrong_then_config_error_names_the_column(entry: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"columns\.c: .*{message}"):
        parse_config({"columns": {"c": entry}})


def test_when_drop_used_in_the_free_text_policy_then_config_error() -> None:
    with pytest.raises(ConfigError, match="policy.default"):
        parse_config({"policy": {"default": {"operator": "drop"}}})


def test_when_unlisted_columns_wrong_then_config_error() -> None:
    with pytest.raises(ConfigError, match="unlisted_columns"):
        parse_config({"unlisted_columns": "ignore"})


# ---------------------------------------------------------------- same output in a column and in free text


@pytest.mark.parametrize(
    ("entity", "operator", "value"),
    [
        ("PERSON", "pseudonymize", "John Smith"),
        ("EMAIL_ADDRESS", "hash", "john.smith@example.com"),
        ("EMAIL_ADDRESS", "pseudonymize", "john.smith@example.com"),
        ("ID", "encrypt", "2379926"),
        ("PHONE_NUMBER", "mask", "(617) 555-0123"),
    ],
)
def test_when_value_in_column_and_in_text_then_same_output(entity: str, operator: str, value: str) -> None:
    spec = {"operator": operator}
    text_policy = parse_config({"policy": {"default": spec}}).policy
    text = f"Seen {value} today."
    in_text = TextTransformer(text_policy, KEY).transform(text, [Span(5, 5 + len(value), entity, 0.9)], "p1")
    (in_column,), _, invalid = column("c", {"entity": entity, **spec}, [value])
    assert not invalid
    assert in_column != value
    assert in_text == f"Seen {in_column} today."


def test_when_integer_id_in_column_and_in_text_then_same_token() -> None:
    text_policy = parse_config({"policy": {"default": {"operator": "encrypt"}}}).policy
    in_text = TextTransformer(text_policy, KEY).transform("MRN: 2379926", [Span(5, 12, "ID", 0.9)])
    values, arrow_type, _ = column("mrn", {"entity": "ID", "operator": "encrypt"}, [2379926], pa.int64())
    assert in_text == f"MRN: {values[0]}"
    assert arrow_type == pa.string()  # a token is text, so that it equals the token in the note


def test_when_date_in_column_and_in_text_then_same_subject_offset() -> None:
    text_policy = parse_config({"policy": {"default": {"operator": "date_shift"}}}).policy
    text = TextTransformer(text_policy, KEY)
    subjects = ["p1", "p2"]
    values, arrow_type, _ = column(
        "dob", {"operator": "date_shift"}, [dt.date(1992, 2, 14)] * 2, pa.date32(), subjects
    )
    assert arrow_type == pa.date32()
    for subject, shifted in zip(subjects, values, strict=True):
        assert shifted != dt.date(1992, 2, 14)
        assert text.transform("1992-02-14", [Span(0, 10, "DATE_TIME", 1)], subject) == shifted.isoformat()
    assert values[0] != values[1]  # subjects move independently


# ---------------------------------------------------------------- types


def test_when_timestamp_column_date_shifted_then_type_and_time_kept() -> None:
    tz = pa.timestamp("s", tz="UTC")
    value = dt.datetime(2023, 5, 1, 8, 30, tzinfo=dt.UTC)
    values, arrow_type, _ = column("t", {"operator": "date_shift"}, [value, None], tz)
    assert arrow_type == tz
    assert values[1] is None
    assert values[0].time() == value.time() and values[0] != value
    pa.array(values, type=arrow_type)  # still a valid timestamp column


@pytest.mark.parametrize(
    ("entry", "values", "arrow_type", "expected", "expected_type"),
    [
        (
            {"operator": "generalize", "keep": 3},
            ["02139", "03601", None],
            pa.string(),
            ["021**", "000**", None],
            pa.string(),
        ),
        ({"operator": "generalize", "keep": 3}, [2139], pa.int64(), ["021**"], pa.string()),
        ({"operator": "generalize"}, [2139], pa.int64(), ["2130-2139"], pa.string()),
        ({"operator": "generalize"}, [dt.date(1950, 7, 1)], pa.date32(), [1950], pa.int64()),
        ({"operator": "generalize", "entity": "AGE"}, [45, 93], pa.int64(), ["45", "90+"], pa.string()),
        (
            {"operator": "generalize", "kind": "band", "width": 10},
            [37.5],
            pa.float64(),
            ["[30, 40)"],
            pa.string(),
        ),
        ({"operator": "generalize", "kind": "year"}, ["14 Feb 1992"], pa.string(), [1992], pa.int64()),
        ({"operator": "keep"}, [True], pa.bool_(), [True], pa.bool_()),
        ({"operator": "redact", "entity": "PERSON"}, ["Ann Lee"], pa.string(), [None], pa.string()),
        ({"operator": "replace", "entity": "PERSON"}, ["Ann Lee"], pa.string(), ["<PERSON>"], pa.string()),
    ],
)
def test_when_column_transformed_then_values_and_type(
    entry: dict, values: list, arrow_type: pa.DataType, expected: list, expected_type: pa.DataType
) -> None:
    out, out_type, invalid = column("c", entry, values, arrow_type)
    assert not invalid
    assert out == expected
    assert out_type == expected_type


@pytest.mark.parametrize(
    ("entry", "arrow_type", "message"),
    [
        ({"operator": "generalize"}, pa.bool_(), "generalize \\(zip\\) cannot apply to a bool column"),
        ({"operator": "generalize", "kind": "year"}, pa.int64(), "cannot apply to a int64 column"),
        ({"operator": "generalize", "kind": "age"}, pa.date32(), "cannot apply"),
        ({"operator": "date_shift"}, pa.int64(), "date_shift cannot apply"),
        ({"operator": "hash", "entity": "ID"}, pa.bool_(), "hash cannot apply to a bool column"),
        ({"operator": "hash", "entity": "ID"}, pa.list_(pa.string()), "cannot apply"),
    ],
)
def test_when_operator_cannot_apply_to_the_type_then_reason(
    entry: dict, arrow_type: pa.DataType, message: str
) -> None:
    problem = check_column_type("flag", policy(**entry), arrow_type)
    assert problem is not None and problem.startswith("columns.flag: ")
    assert pytest.importorskip("re").search(message, problem)


@pytest.mark.parametrize(
    ("entry", "arrow_type"),
    [
        ({"operator": "generalize"}, pa.string()),
        ({"operator": "generalize"}, pa.int32()),
        ({"operator": "date_shift"}, pa.timestamp("ms")),
        ({"operator": "hash", "entity": "ID"}, pa.int64()),
        ({"operator": "drop"}, pa.bool_()),
        ({"operator": "keep"}, pa.list_(pa.int8())),
    ],
)
def test_when_operator_fits_the_type_then_no_problem(entry: dict, arrow_type: pa.DataType) -> None:
    assert check_column_type("c", policy(**entry), arrow_type) is None


# ---------------------------------------------------------------- invalid cells


@pytest.mark.parametrize(
    ("entry", "bad"),
    [
        ({"entity": "EMAIL_ADDRESS", "operator": "hash"}, "n/a"),
        ({"entity": "US_SSN", "operator": "hash"}, "unknown"),
        ({"entity": "PHONE_NUMBER", "operator": "pseudonymize"}, "none given"),
        ({"entity": "IP_ADDRESS", "operator": "encrypt"}, "localhost"),
        ({"operator": "date_shift"}, "n/a"),
        ({"operator": "generalize", "keep": 3}, "n/a"),
        ({"operator": "generalize", "keep": 3}, True),
        ({"entity": "PERSON", "operator": "pseudonymize"}, ["a list"]),
    ],
)
def test_when_cell_is_not_the_declared_entity_then_invalid_without_the_value(
    entry: dict, bad: object
) -> None:
    good = {"EMAIL_ADDRESS": "a@b.org", "US_SSN": "123-45-6789", "PHONE_NUMBER": "617-555-0123"}
    first = good.get(str(entry.get("entity")), "02139" if entry["operator"] == "generalize" else "Ann Lee")
    if entry["operator"] == "date_shift":
        first = "3/14/2021"
    if entry.get("entity") == "IP_ADDRESS":
        first = "10.0.0.1"
    out, _, invalid = column("c", entry, [first, bad, None])
    assert list(invalid) == [1]
    assert invalid[1].startswith("column 'c': ")
    assert str(bad) not in invalid[1]
    assert out[0] is not None and out[2] is None


def test_when_no_key_for_keyed_column_then_key_error() -> None:
    from deid.errors import KeyError_

    with pytest.raises(KeyError_):
        ColumnTransformer({"c": policy(operator="hash")}, None)
