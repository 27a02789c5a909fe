"""An input dataset: one file, a directory of parts, a glob, or several of these, on any store.

What an input argument may be:

- a file (``notes.parquet``, ``s3://bucket/exports/notes.csv``);
- a directory, read recursively (``out/redacted/``, a Spark output, a Hive-partitioned table):
  :mod:`pyarrow.dataset` lists it, skipping hidden and underscore names (``_SUCCESS``,
  ``_manifest.json``, ``.part.crc``, ``_temporary/``), so deid's own output is a valid input;
- a glob (``exports/2026-11-*.csv``, ``lake/notes/date=*/``): ``*`` and ``?`` stay inside one path
  component, ``**`` crosses components; a match that is a directory is read as a directory.

The parts are read in path order (argument order first, then path order within each argument), so
the same input gives the same shards. Hive partition directories (``date=2026-11-30/``) become
columns, typed as pyarrow infers them (``int32`` when every value is an integer, else ``string``).

Shards never span two files: each file is cut into shards of ``shard_size`` rows and the shards
are numbered across files. Every part must hold the columns the job reads with the same types as
the first part (Parquet: the whole schema; CSV: the same header), else the job stops with the file
and the column named.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from deid.errors import InputError
from deid.io.fs import CREDENTIAL_HINTS, Location, StoreError, missing_bucket, resolve, store_errors, walk
from deid.io.readers import _EXTENSIONS, _READERS, FORMATS, ParquetReader, Reader, ReadOptions
from deid.io.shard import Shard

IGNORED_PREFIXES = (".", "_")
_MAGIC = re.compile(r"[*?\[]")
_INT32 = re.compile(r"^-?\d{1,10}$")
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class InputFile:
    """One part of the input.

    Attributes:
        location: where it is.
        display: how messages name it (the path or URI as the user would write it).
        name: its path relative to the input argument it came from (recorded in the manifest).
        size: bytes.
        partition: Hive partition values from its directories (``{"date": "2026-11-30"}``).
    """

    location: Location
    display: str
    name: str
    size: int
    partition: dict[str, Any] = field(default_factory=dict)


def _has_magic(text: str) -> bool:
    return bool(_MAGIC.search(text))


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``*``/``?`` within a component, ``**`` across components, ``[...]`` as in fnmatch."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + "\\Z")


def _hidden(relative: str) -> bool:
    return any(part.startswith(IGNORED_PREFIXES) for part in relative.split("/") if part)


def _expand(argument: str) -> tuple[Location, list[tuple[Location, str, int]], str]:
    """The base location, its files (location, path relative to the base, size) and the kind of argument."""
    if _has_magic(argument):
        head = _MAGIC.split(argument, maxsplit=1)[0]
        base_text = head.rsplit("/", 1)[0] if "/" in head else "."
        if "://" in argument and base_text.endswith(":/"):
            base_text = head  # the glob is in the bucket name: not supported, list what was given
        base = resolve(base_text)
        pattern = argument[len(base_text) :].lstrip("/") if base_text != "." else argument
        regex = _glob_regex(pattern)
        files = []
        for info in walk(base):
            relative = info.path[len(base.path.rstrip("/")) :].lstrip("/")
            if _hidden(relative):
                continue
            components = relative.split("/")
            if any(regex.match("/".join(components[:k])) for k in range(1, len(components) + 1)):
                files.append((base.join(relative), relative, int(info.size or 0)))
        if not files:
            raise InputError(argument, "no file matches this pattern (hidden and _ files are skipped)")
        return base, sorted(files, key=lambda f: f[1]), "glob"
    location = resolve(argument)
    info = location.info()
    if info.type == pafs.FileType.NotFound:
        if missing_bucket(location):
            hint = CREDENTIAL_HINTS.get(location.scheme, "")
            raise StoreError(
                f"{argument}: the bucket '{location.path.split('/', 1)[0]}' does not exist (or these credentials "
                f"cannot see it; they come from {hint})"
            )
        raise InputError(argument, "file not found")
    if info.type != pafs.FileType.Directory:
        return location, [(location, location.name, int(info.size or 0))], "file"
    # pyarrow.dataset walks the directory and skips hidden and underscore names, as Spark does.
    # (Imported here: it costs a third of a second, and a single input file does not need it.)
    import pyarrow.dataset as ds

    with store_errors(location, "list"):
        dataset = ds.dataset(
            location.path,
            filesystem=location.filesystem,
            format="parquet",
            schema=pa.schema([]),  # no file is opened here: formats and schemas are checked per part
            ignore_prefixes=list(IGNORED_PREFIXES),
            exclude_invalid_files=False,
        )
    prefix = location.path.rstrip("/") + "/"
    relatives = sorted(path[len(prefix) :] if path.startswith(prefix) else path for path in dataset.files)
    if not relatives:
        raise InputError(argument, "no data file in this directory (hidden and _ files are skipped)")
    sizes = {i.path: int(i.size or 0) for i in walk(location)}
    files = [(location.join(r), r, sizes.get(prefix + r, 0)) for r in relatives]
    return location, files, "directory"


def _partition_schema(relatives: Sequence[str]) -> pa.Schema:
    """The Hive partition fields of the directories in ``relatives``, typed as pyarrow infers them."""
    values: dict[str, list[str]] = {}
    for relative in relatives:
        for part in relative.split("/")[:-1]:
            key, sep, value = part.partition("=")
            if sep and key:
                values.setdefault(key, []).append(value)
    fields = []
    for key, seen in values.items():
        real = [v for v in seen if v != _HIVE_NULL]
        is_int = real and all(_INT32.match(v) and -(2**31) <= int(v) < 2**31 for v in real)
        fields.append(pa.field(key, pa.int32() if is_int else pa.string()))
    return pa.schema(fields)


def _partitions(base: Location, relatives: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each file's Hive partition values, parsed by pyarrow's Hive partitioning."""
    schema = _partition_schema(relatives)
    if not len(schema):
        return {r: {} for r in relatives}
    import pyarrow.dataset as ds

    prefix = base.path.rstrip("/") + "/"
    dataset = ds.dataset(
        [prefix + r for r in relatives],
        filesystem=base.filesystem,
        format="parquet",
        schema=schema,
        partitioning=ds.HivePartitioning(schema, null_fallback=_HIVE_NULL),
        partition_base_dir=base.path,
        exclude_invalid_files=False,
    )
    found: dict[str, dict[str, Any]] = {}
    for fragment in dataset.get_fragments():
        keys = ds.get_partition_keys(fragment.partition_expression)
        found[fragment.path[len(prefix) :]] = {name: keys.get(name) for name in schema.names}
    return found


def _display(argument: str, base: Location, relative: str, kind: str) -> str:
    if kind == "file":
        return argument
    root = argument if kind == "directory" else _MAGIC.split(argument, maxsplit=1)[0].rsplit("/", 1)[0]
    return posixpath.join(root, relative) if root else relative


def resolve_inputs(
    arguments: Sequence[str | Path], input_format: str | None = None
) -> tuple[list[InputFile], str]:
    """List the parts of the input arguments and the one format they share.

    Raises:
        InputError: nothing to read, an unknown extension, or parts of different formats.
    """
    if not arguments:
        raise InputError("INPUT", "no input given")
    files: list[InputFile] = []
    seen: set[str] = set()
    for raw in arguments:
        argument = str(raw)
        base, listed, kind = _expand(argument)
        partitions = _partitions(base, [r for _, r, _ in listed]) if kind != "file" else {}
        for location, relative, size in listed:
            if location.uri in seen:
                continue
            seen.add(location.uri)
            files.append(
                InputFile(
                    location,
                    _display(argument, base, relative, kind),
                    relative,
                    size,
                    partitions.get(relative, {}),
                )
            )
    if input_format is not None and input_format not in FORMATS:
        raise InputError(
            arguments[0], f"unknown format '{input_format}' (expected one of {', '.join(FORMATS)})"
        )
    formats: dict[str, InputFile] = {}
    for item in files:
        suffixes = [s.lower() for s in Path(item.location.name).suffixes]
        known = next((_EXTENSIONS[s] for s in reversed(suffixes) if s in _EXTENSIONS), None)
        if known is None and input_format is None:
            raise InputError(
                item.display,
                "cannot tell the format from the extension: use --input-format parquet|csv|jsonl",
            )
        formats.setdefault(known or input_format or "", item)
    if input_format is not None:
        formats.pop(input_format, None)
        formats.pop("", None)
        if formats:
            other, example = next(iter(formats.items()))
            raise InputError(
                example.display,
                f"is {other}, but the input is read as {input_format}: a dataset holds parts of one format",
            )
        return files, input_format
    if len(formats) > 1:
        (first, a), (second, b) = list(formats.items())[:2]
        raise InputError(
            b.display,
            f"is {second}, but {a.display} is {first}: a dataset holds parts of one format (mixed formats)",
        )
    return files, next(iter(formats))


class DatasetReader:
    """Reads the parts of an input dataset as one sequence of shards.

    Args:
        arguments: files, directories, globs (local paths or URIs), read in this order.
        options: columns and shard size.
        input_format: ``parquet|csv|jsonl`` or ``None`` (from the parts' extensions).

    Attributes:
        files: the parts, in reading order.
        format: their format.
        columns: the columns of the first part, plus the partition columns.
        num_rows: total rows for Parquet (from the footers), else ``None``.

    Raises:
        InputError: see :func:`resolve_inputs`; a part that is unreadable, lacks a column the job
            reads, or whose schema differs from the first part's (naming the part and the column).
    """

    def __init__(
        self, arguments: Sequence[str | Path], options: ReadOptions, input_format: str | None = None
    ) -> None:
        self.options = options
        self.arguments = [str(a) for a in arguments]
        self.files, self.format = resolve_inputs(arguments, input_format)
        # One file named as such keeps the one-file forms (manifest digest, rejects without a file).
        self.single_file = len(self.files) == 1 and self.files[0].display == self.arguments[0]
        self.partition_types = {
            key: pa.int32() if any(isinstance(f.partition.get(key), int) for f in self.files) else pa.string()
            for item in self.files
            for key in item.partition
        }
        self.num_rows: int | None = 0 if self.format == "parquet" else None
        first: Reader | None = None
        for item in self.files:
            reader = self._reader(item)
            if first is None:
                first = reader
            else:
                _check_same_schema(first, reader)
            if self.num_rows is not None:
                self.num_rows += int(getattr(reader, "num_rows", 0))
        assert first is not None
        self.columns = list(first.columns)
        self.columns += [name for name in self.files[0].partition if name not in self.columns]
        self.shard_files: dict[int, InputFile] = {}

    def _reader(self, item: InputFile) -> Reader:
        return _READERS[self.format](item.location, self.options, item.display)

    @property
    def path_for_errors(self) -> str:
        """The first part's name, for errors about the input as a whole."""
        return self.files[0].display

    def shards(self) -> Iterator[Shard]:
        """Every part's shards, numbered from 0 across parts; rejects name their part when there are several."""
        index = 0
        for item in self.files:
            reader = self._reader(item)
            extra = {k: v for k, v in item.partition.items() if k not in reader.columns}
            for shard in reader.shards():
                shard.index = index
                if extra:
                    shard = _add_constants(shard, extra, self.partition_types)
                if not self.single_file:
                    shard.rejects = [r if r.file else replace(r, file=item.display) for r in shard.rejects]
                self.shard_files[index] = item
                index += 1
                yield shard

    def digest(self) -> dict[str, Any]:
        """What the manifest records of the input: format, and each part's name, size and sha256.

        A single local file keeps the one-file form (``name``, ``sha256``, ``bytes``). Objects on S3
        are identified by their ETag (no second read of the data) when boto3 is installed.
        """
        if self.single_file and self.files[0].location.is_local:
            item = self.files[0]
            return {
                "name": item.location.name,
                "format": self.format,
                "sha256": item.location.sha256(),
                "bytes": item.size,
            }
        parts = [{"path": f.name, "bytes": f.size, **_fingerprint(f.location)} for f in self.files]
        combined = hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()
        return {
            "name": ", ".join(a.rstrip("/").rsplit("/", 1)[-1] for a in self.arguments),
            "format": self.format,
            "sha256": combined,
            "bytes": sum(f.size for f in self.files),
            "files": parts,
        }


def _fingerprint(location: Location) -> dict[str, str]:
    """``{"etag": ...}`` for an S3 object (the store's content tag), else ``{"sha256": ...}`` of the bytes."""
    etag = location.etag()
    return {"etag": etag} if etag else {"sha256": location.sha256()}


def _add_constants(shard: Shard, values: dict[str, Any], types: dict[str, pa.DataType]) -> Shard:
    """``shard`` with a constant column per partition value (typed as the partition schema says)."""
    if shard.table is not None:
        table = shard.table
        for name, value in values.items():
            table = table.append_column(name, pa.array([value] * table.num_rows, type=types[name]))
        return Shard(shard.index, table=table, row_numbers=shard.row_numbers, rejects=shard.rejects)
    records = [{**record, **values} for record in shard.records or []]
    return Shard(shard.index, records=records, row_numbers=shard.row_numbers, rejects=shard.rejects)


def _check_same_schema(first: Reader, other: Reader) -> None:
    """Stop when ``other`` does not hold the same columns (and types, for Parquet) as ``first``."""
    if isinstance(first, ParquetReader) and isinstance(other, ParquetReader):
        a, b = first.schema, other.schema
        for field_ in a:
            if field_.name not in b.names:
                raise InputError(
                    other.path, f"this part has no such column, but {first.path} has it", column=field_.name
                )
            if not _same_type(field_.type, b.field(field_.name).type):
                raise InputError(
                    other.path,
                    f"type {b.field(field_.name).type} here, {field_.type} in {first.path}: the parts' schemas differ",
                    column=field_.name,
                )
        for field_ in b:
            if field_.name not in a.names:
                raise InputError(
                    other.path, f"column only in this part, not in {first.path}", column=field_.name
                )
        return
    if first.format == "csv" and first.columns != other.columns:
        for name in first.columns:
            if name not in other.columns:
                raise InputError(
                    other.path, f"this part has no such column, but {first.path} has it", column=name
                )
        for name in other.columns:
            if name not in first.columns:
                raise InputError(other.path, f"column only in this part, not in {first.path}", column=name)
        raise InputError(other.path, f"the columns are in another order than in {first.path}")


def _same_type(a: pa.DataType, b: pa.DataType) -> bool:
    """Equal types, counting a dictionary-encoded column as its values' type."""
    if pa.types.is_dictionary(a):
        a = a.value_type
    if pa.types.is_dictionary(b):
        b = b.value_type
    return bool(a.equals(b)) or pa.types.is_null(a) or pa.types.is_null(b)


def open_dataset(
    arguments: Sequence[str | Path] | str | Path, options: ReadOptions, input_format: str | None = None
) -> DatasetReader:
    """Open and validate the input dataset (see the module's docstring for what an argument may be)."""
    if isinstance(arguments, str | Path):
        arguments = [arguments]
    return DatasetReader(list(arguments), options, input_format)
