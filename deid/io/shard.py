"""A shard: a slice of consecutive input rows, the unit of work, commit and resume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that could not be processed. Holds no cell content, only where and why."""

    row: int
    reason: str
    column: str | None = None
    id: Any = None
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The rejects-file form (``file`` only when the input has several parts; ``row`` counts within it)."""
        line = {"row": self.row, "id": self.id, "column": self.column, "reason": self.reason}
        if self.file is not None:
            line["file"] = self.file
        return line


@dataclass
class Shard:
    """Consecutive rows of the input.

    Rows are held either as an Arrow table (Parquet, CSV) or as a list of JSON objects (JSONL,
    which keeps JSON types as they were). ``row_numbers`` gives each kept row's 1-based data-row
    number in the input; rejected rows are listed in ``rejects`` and are not in the data.

    Attributes:
        index: shard number, from 0.
        table: the rows (Parquet/CSV input) or ``None``.
        records: the rows (JSONL input) or ``None``.
        row_numbers: 1-based input row number of each kept row.
        rejects: rows rejected while reading or validating.
    """

    index: int
    table: pa.Table | None = None
    records: list[dict[str, Any]] | None = None
    row_numbers: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        """Kept rows."""
        if self.table is not None:
            return int(self.table.num_rows)
        return len(self.records or [])

    @property
    def rows_in(self) -> int:
        """Kept plus rejected rows."""
        return self.num_rows + len(self.rejects)

    @property
    def first_row(self) -> int:
        """1-based number of the first input row of the shard (kept or rejected)."""
        candidates = [*self.row_numbers[:1], *(r.row for r in self.rejects)]
        return min(candidates) if candidates else 0

    def column(self, name: str) -> list[Any]:
        """The values of one column, as Python objects (``None`` where missing)."""
        if self.table is not None:
            return self.table.column(name).to_pylist()
        return [record.get(name) for record in self.records or []]

    def with_columns(self, updates: dict[str, Sequence[Any]]) -> Shard:
        """A copy with columns replaced (or appended, for new names), same rows."""
        if self.table is not None:
            table = self.table
            for name, values in updates.items():
                if name in table.column_names:
                    position = table.column_names.index(name)
                    old_type = table.schema.field(name).type
                    new_type = (
                        old_type
                        if pa.types.is_string(old_type) or pa.types.is_large_string(old_type)
                        else None
                    )
                    table = table.set_column(position, name, pa.array(list(values), type=new_type))
                else:
                    table = table.append_column(name, pa.array(list(values)))
            return Shard(self.index, table=table, row_numbers=self.row_numbers, rejects=self.rejects)
        records = [dict(r) for r in self.records or []]
        for name, values in updates.items():
            for record, value in zip(records, values, strict=True):
                record[name] = value
        return Shard(self.index, records=records, row_numbers=self.row_numbers, rejects=self.rejects)

    def without_rows(self, positions: set[int], rejects: Sequence[Reject]) -> Shard:
        """A copy without the rows at ``positions`` (0-based within the shard), adding their rejects."""
        if not positions:
            return self
        keep = [i for i in range(self.num_rows) if i not in positions]
        row_numbers = [self.row_numbers[i] for i in keep]
        all_rejects = sorted([*self.rejects, *rejects], key=lambda r: r.row)
        if self.table is not None:
            table = self.table.take(pa.array(keep, type=pa.int64()))
            return Shard(self.index, table=table, row_numbers=row_numbers, rejects=all_rejects)
        records = [self.records[i] for i in keep]  # type: ignore[index]
        return Shard(self.index, records=records, row_numbers=row_numbers, rejects=all_rejects)

    def select(self, positions: Sequence[int]) -> Shard:
        """A copy with only the rows at ``positions`` (0-based, in that order) and no rejects."""
        row_numbers = [self.row_numbers[i] for i in positions]
        if self.table is not None:
            table = self.table.take(pa.array(list(positions), type=pa.int64()))
            return Shard(self.index, table=table, row_numbers=row_numbers)
        records = [self.records[i] for i in positions]  # type: ignore[index]
        return Shard(self.index, records=records, row_numbers=row_numbers)

    def without_columns(self, names: Sequence[str]) -> Shard:
        """A copy without the columns ``names`` (those it has), same rows."""
        if self.table is not None:
            drop = [name for name in names if name in self.table.column_names]
            table = self.table.drop_columns(drop) if drop else self.table
            return Shard(self.index, table=table, row_numbers=self.row_numbers, rejects=self.rejects)
        records = [{k: v for k, v in r.items() if k not in names} for r in self.records or []]
        return Shard(self.index, records=records, row_numbers=self.row_numbers, rejects=self.rejects)

    def to_table(self) -> pa.Table:
        """The rows as an Arrow table."""
        if self.table is not None:
            return self.table
        return pa.Table.from_pylist(self.records or [])

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as JSON-like dicts."""
        if self.records is not None:
            return self.records
        return self.table.to_pylist() if self.table is not None else []
