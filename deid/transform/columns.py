"""Column policies: how a whole column is transformed, beside the free-text policy.

.. code-block:: yaml

    columns:
      patient_name: {entity: PERSON, operator: pseudonymize}
      email:        {entity: EMAIL_ADDRESS, operator: hash}
      dob:          {entity: DATE_TIME, operator: date_shift}   # keeps the column's date/timestamp type
      mrn:          {entity: ID, operator: encrypt}
      zip:          {operator: generalize, keep: 3}            # 02139 -> 021**
      free_comment: {text: true}                               # same as --text-column
      ssn:          {operator: drop}                           # column removed
    unlisted_columns: keep        # keep | drop | error

A whole-cell column is transformed without detection: the cell is one span of ``entity``, run
through the same operator, with the same key, as a span of that type in free text. So "John
Smith" in ``patient_name`` and inside ``note`` get the same pseudonym, and a date moves by the
same subject offset in ``dob`` as in the note.

This module holds only the pydantic models (it is imported by :mod:`deid.config`, so it imports
nothing from it at module level); :mod:`deid.transform.column_transform` applies them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Keys of a column entry that are not operator parameters.
_OWN_KEYS = frozenset({"entity", "text", "on_invalid", "spec"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeneralizeOperator(_Strict):
    """Coarsen a quasi-identifier: ZIP to its first digits, a date to its year, ages 90+ to "90+", numbers to bands."""

    operator: Literal["generalize"]
    kind: Literal["zip", "year", "age", "band"] | None = Field(
        None,
        description=(
            "zip | year | age | band; default: from the entity type (DATE_TIME -> year, AGE -> age) or the "
            "column type (date/timestamp -> year, number -> band), else zip"
        ),
    )
    keep: int = Field(3, ge=0, le=5, description="zip: digits kept (3: restricted prefixes become 000)")
    top: int = Field(90, ge=1, le=150, description="age: ages at or above this become '<top>+'")
    width: float = Field(10, gt=0, description="band: width of a band (37 -> 30-39 with width 10)")


class DropOperator(_Strict):
    """Remove the whole column from the output (columns only, not free-text spans)."""

    operator: Literal["drop"]


def _operator_adapter() -> Any:
    from functools import cache

    @cache
    def build() -> Any:
        from typing import Annotated

        from pydantic import TypeAdapter

        import deid.config as config

        members = [
            config.RedactOperator,
            config.ReplaceOperator,
            config.MaskOperator,
            config.HashOperator,
            config.EncryptOperator,
            config.KeepOperator,
            config.PseudonymizeOperator,
            config.DateShiftOperator,
            GeneralizeOperator,
            DropOperator,
        ]
        union = members[0]
        for member in members[1:]:
            union = union | member  # type: ignore[assignment]
        return TypeAdapter(Annotated[union, Field(discriminator="operator")])

    return build()


class ColumnPolicy(_Strict):
    """What happens to one column: free text (``text: true``) or a whole-cell operator.

    Written flat in YAML (``{entity: PERSON, operator: pseudonymize, locale: en_US}``); the operator
    and its parameters are validated into ``spec``, one of the policy operator models plus
    ``generalize`` and ``drop``.
    """

    entity: str | None = Field(
        None,
        description=(
            "entity type of every cell (PERSON, EMAIL_ADDRESS, DATE_TIME, ID...): picks the surrogate kind "
            "and must match the free-text type for values to get the same output in both; default: "
            "DATE_TIME for date_shift, else the column name in upper case"
        ),
    )
    text: bool = Field(False, description="free text: detect and transform spans, as --text-column")
    on_invalid: Literal["reject", "error"] = Field(
        "reject",
        description=(
            "a cell that is not a value of the entity (an e-mail column holding 'n/a'): reject the row "
            "(counted, listed in _rejects.jsonl) or stop the job"
        ),
    )
    spec: Any = None

    @model_validator(mode="before")
    @classmethod
    def _split_operator(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "spec" in data:
            return data
        own = {k: v for k, v in data.items() if k in _OWN_KEYS}
        params = {k: v for k, v in data.items() if k not in _OWN_KEYS}
        if params:
            if "operator" not in params:
                raise ValueError(f"unknown key(s) {sorted(params)}: give 'operator' with its parameters")
            own["spec"] = params
        return own

    @model_validator(mode="after")
    def _check(self) -> ColumnPolicy:
        if self.spec is not None and not isinstance(self.spec, BaseModel):
            try:
                spec = _operator_adapter().validate_python(self.spec)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"][1:]) or "operator"
                message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
                raise ValueError(f"{where}: {message}") from None
            object.__setattr__(self, "spec", spec)
        if self.text and self.spec is not None:
            raise ValueError("a column is either free text (text: true) or has an operator, not both")
        if self.text and self.entity is not None:
            raise ValueError("'entity' applies to whole-cell columns, not to free text (text: true)")
        if not self.text and self.spec is None:
            raise ValueError("give an operator (e.g. {operator: hash}) or text: true")
        if self.operator == "pseudonymize" and self.entity is None:
            raise ValueError(
                "pseudonymize needs 'entity' (PERSON, EMAIL_ADDRESS...) to pick the surrogate kind"
            )
        return self

    @property
    def operator(self) -> str | None:
        """The operator name, or ``None`` for a free-text column."""
        return None if self.spec is None else str(self.spec.operator)

    def entity_for(self, column: str) -> str:
        """The entity type of the column's cells."""
        if self.entity is not None:
            return self.entity
        if self.operator == "date_shift":
            return "DATE_TIME"
        return "".join(c if c.isalnum() else "_" for c in column).upper() or "VALUE"

    def needs_key(self) -> bool:
        """Whether the column's operator needs the secret key."""
        return self.operator in {"hash", "encrypt", "pseudonymize", "date_shift"}

    def to_yaml_dict(self) -> dict[str, Any]:
        """The flat form written in YAML (``{entity: ..., operator: ..., <params>}``)."""
        out: dict[str, Any] = {}
        if self.text:
            out["text"] = True
        if self.entity is not None:
            out["entity"] = self.entity
        if self.spec is not None:
            out.update(self.spec.model_dump(exclude_defaults=True))
            out["operator"] = self.spec.operator
        if self.on_invalid != "reject":
            out["on_invalid"] = self.on_invalid
        return out


UnlistedColumns = Literal["keep", "drop", "error"]
