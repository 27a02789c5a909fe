"""Where data lives: local paths and URIs (``s3://``, ``gs://``, ``abfs://``, ``hdfs://``, ``file://``).

Every store goes through :mod:`pyarrow.fs` (fsspec fills in for schemes pyarrow lacks). Credentials
come from each store's standard chain, never from deid's command line: for S3 the AWS variables,
profile or instance role (and ``AWS_ENDPOINT_URL`` for an S3-compatible server), for GCS
``GOOGLE_APPLICATION_CREDENTIALS`` or the metadata server, for Azure the ``AZURE_*`` variables or a
managed identity, for HDFS the Hadoop configuration and Kerberos ticket.

Errors from a store become one line naming the location and the variable to set; the store's own
message is not quoted (it could hold a signed URL), only its category.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from deid.errors import DeidError, InputError

_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# The variable(s) a user sets to give deid access to each store.
CREDENTIAL_HINTS = {
    "s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (AWS_ENDPOINT_URL for an S3-compatible server)",
    "gs": "GOOGLE_APPLICATION_CREDENTIALS",
    "abfs": "AZURE_STORAGE_ACCOUNT_KEY, or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET",
    "hdfs": "HADOOP_HOME and CLASSPATH (and KRB5CCNAME with Kerberos)",
}
_SCHEME_ALIASES = {"s3a": "s3", "s3n": "s3", "gcs": "gs", "abfss": "abfs", "az": "abfs"}


class StoreError(DeidError):
    """A store cannot be reached or refuses access (credentials, bucket, network)."""


def is_uri(text: str | Path) -> bool:
    """Whether ``text`` is a URI (``scheme://...``) rather than a local path."""
    return bool(_URI.match(str(text)))


@dataclass(frozen=True)
class Location:
    """A file or directory on some filesystem.

    Attributes:
        filesystem: the :class:`pyarrow.fs.FileSystem` that holds it.
        path: its path inside ``filesystem`` (``bucket/key`` on object stores).
        uri: how messages name it (what the user wrote, or a child of it).
        scheme: ``s3``, ``gs``, ``abfs``, ``hdfs``, ``file``..., or ``""`` for a local path.
    """

    filesystem: pafs.FileSystem
    path: str
    uri: str
    scheme: str = ""

    @property
    def is_local(self) -> bool:
        """On this machine's filesystem (a local path or ``file://``)."""
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    @property
    def name(self) -> str:
        """The last path component."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    def join(self, relative: str) -> Location:
        """The location ``relative`` (``/``-separated) below this one."""
        relative = relative.strip("/")
        return Location(
            self.filesystem,
            f"{self.path.rstrip('/')}/{relative}",
            f"{self.uri.rstrip('/')}/{relative}",
            self.scheme,
        )

    def sibling(self, name: str) -> Location:
        """The location named ``name`` in the same directory."""
        parent_path, parent_uri = self.path.rstrip("/"), self.uri.rstrip("/")
        return Location(
            self.filesystem,
            f"{parent_path.rsplit('/', 1)[0]}/{name}" if "/" in parent_path else name,
            f"{parent_uri.rsplit('/', 1)[0]}/{name}" if "/" in parent_uri else name,
            self.scheme,
        )

    def local_path(self) -> Path:
        """The local path (only for local locations)."""
        assert self.is_local, self.uri
        return Path(self.path)

    def info(self) -> pafs.FileInfo:
        """The store's file info (type, size).

        Raises:
            StoreError: the store cannot be reached or refuses access.
        """
        with store_errors(self, "read"):
            return self.filesystem.get_file_info(self.path)

    def open_binary(self) -> Any:
        """A buffered binary stream that iterates by lines.

        Raises:
            InputError: a local file that cannot be opened (permissions).
            StoreError: the store refuses or cannot be reached.
        """
        if self.is_local:
            try:
                return open(self.path, "rb")
            except OSError as exc:
                raise InputError(self.uri, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
        with store_errors(self, "read"):
            return io.BufferedReader(self.filesystem.open_input_stream(self.path), 1 << 20)  # type: ignore[arg-type]

    def open_text(self, encoding: str = "utf-8", errors: str = "strict", newline: str | None = None) -> Any:
        """A text stream."""
        if self.is_local:
            try:
                return open(self.path, encoding=encoding, errors=errors, newline=newline)
            except OSError as exc:
                raise InputError(self.uri, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
        return io.TextIOWrapper(self.open_binary(), encoding=encoding, errors=errors, newline=newline)

    def open_random_access(self) -> Any:
        """A seekable binary file (for Parquet)."""
        with store_errors(self, "read"):
            return self.filesystem.open_input_file(self.path)

    def etag(self) -> str | None:
        """The object's ETag on S3 (``None`` elsewhere, or without boto3)."""
        if self.scheme != "s3":
            return None
        try:
            import boto3  # noqa: F401 - the client below needs it
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            return None
        bucket, _, key = self.path.partition("/")
        try:
            head = s3_client().head_object(Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise store_error(self, "read", OSError(type(exc).__name__ + " " + _client_code(exc))) from None
        return str(head.get("ETag", "")).strip('"') or None

    def sha256(self, chunk: int = 1 << 20) -> str:
        """Hex sha256 of the file's content, streamed."""
        digest = hashlib.sha256()
        with self.open_binary() as handle:
            while block := handle.read(chunk):
                digest.update(block)
        return digest.hexdigest()


def resolve(text: str | Path) -> Location:
    """The :class:`Location` of a local path or a URI.

    ``s3a://`` and ``s3n://`` (Hadoop's names) read as ``s3://``, ``gcs://`` as ``gs://``,
    ``abfss://`` and ``az://`` as ``abfs://``. Schemes that :mod:`pyarrow.fs` does not know are
    opened through fsspec when the matching package is installed.

    Raises:
        StoreError: an unknown scheme, or a store whose client is not installed.
    """
    text = str(text)
    match = _URI.match(text)
    if match is None:
        return Location(pafs.LocalFileSystem(), os.path.abspath(text), text, "")
    scheme = match.group(1).lower()
    canonical = _SCHEME_ALIASES.get(scheme, scheme)
    rest = text[match.end() :]
    if canonical == "s3":
        _check_s3_credentials(text)
        anonymous = os.environ.get("AWS_NO_SIGN_REQUEST", "").lower() in ("1", "true", "yes")
        return Location(_s3_filesystem(anonymous), rest.rstrip("/") or rest, text, "s3")
    if canonical in ("file", "gs", "abfs", "hdfs"):
        uri = text if scheme in ("file", "gs", "abfs", "abfss", "hdfs") else f"{canonical}://{rest}"
        try:
            filesystem, path = pafs.FileSystem.from_uri(uri)
        except (OSError, ValueError, ImportError) as exc:
            raise StoreError(
                f"{text}: cannot open the {canonical} store ({_category(exc)}); set {CREDENTIAL_HINTS.get(canonical, 'its credentials')}"
            ) from None
        return Location(filesystem, path.rstrip("/") or path, text, canonical)
    try:
        import fsspec

        fs_impl = fsspec.filesystem(scheme)
    except (ImportError, ValueError) as exc:
        raise StoreError(
            f"{text}: unknown store '{scheme}://' (pyarrow.fs has no such filesystem and fsspec cannot load one: "
            f"{type(exc).__name__}); install its fsspec package (s3fs, gcsfs, adlfs...)"
        ) from None
    filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(fs_impl))
    return Location(filesystem, fs_impl._strip_protocol(text).rstrip("/"), text, scheme)


def _check_s3_credentials(uri: str) -> None:
    """Stop with a one-line error when the standard AWS chain finds no credentials (needs boto3 to tell).

    Without this, pyarrow would send unsigned requests and the store's refusal would come later, less
    clearly. Anonymous access to a public bucket: set ``AWS_NO_SIGN_REQUEST=1``.
    """
    if os.environ.get("AWS_NO_SIGN_REQUEST", "").lower() in ("1", "true", "yes"):
        return
    try:
        import boto3
    except ImportError:  # pyarrow's own chain decides
        return
    try:
        credentials = boto3.Session().get_credentials()
    except Exception:  # a broken profile file: let pyarrow report what it finds
        return
    if credentials is None:
        raise StoreError(f"{uri}: no AWS credentials found; set {CREDENTIAL_HINTS['s3']}")


def _s3_filesystem(anonymous: bool = False) -> pafs.S3FileSystem:
    """An S3 filesystem configured by the standard AWS chain (``AWS_ENDPOINT_URL`` included)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    options: dict[str, Any] = {"anonymous": True} if anonymous else {}
    if endpoint:
        # Arrow reads AWS_ENDPOINT_URL itself; the scheme must be split off for a plain-HTTP server.
        scheme, _, host = endpoint.partition("://")
        if host:
            options.update(endpoint_override=host, scheme=scheme)
        else:
            options["endpoint_override"] = endpoint
        options["allow_bucket_creation"] = False
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["region"] = region
    return pafs.S3FileSystem(**options)


def _category(exc: BaseException) -> str:
    """What kind of failure ``exc`` is, in words that never quote the store's message."""
    text = str(exc).lower()
    checks = [
        (
            ("nosuchbucket", "no_such_bucket", "bucket does not exist", "containernotfound"),
            "the bucket does not exist",
        ),
        (
            (
                "access denied",
                "access_denied",
                "accessdenied",
                "forbidden",
                "invalidaccesskeyid",
                "signaturedoesnotmatch",
                "credential",
                "unauthorized",
                "authentication",
                "http status 403",
                "http status 401",
            ),
            "access denied or no credentials",
        ),
        (
            ("connection refused", "couldn't connect", "could not connect", "timed out", "resolve host"),
            "cannot reach the store",
        ),
        (("no such file", "not found", "nosuchkey", "does not exist"), "not found"),
        (("libhdfs", "hadoop_home", "classpath", "jni"), "the HDFS client library is missing"),
    ]
    for needles, category in checks:
        if any(n in text for n in needles):
            return category
    return type(exc).__name__


class store_errors:  # noqa: N801 - used as a context manager, reads as a phrase
    """Turn an ``OSError`` from a store into a one-line :class:`StoreError` naming the location.

    Local filesystem errors pass through unchanged (callers already explain them).
    """

    def __init__(self, location: Location, action: str) -> None:
        self.location = location
        self.action = action

    def __enter__(self) -> store_errors:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or self.location.is_local or not isinstance(exc, OSError | ValueError):
            return False
        raise store_error(self.location, self.action, exc) from None


def store_error(location: Location, action: str, exc: BaseException) -> StoreError:
    """A one-line error for ``exc`` raised while doing ``action`` at ``location``."""
    category = _category(exc)
    message = f"{location.uri}: cannot {action} ({category})"
    if category in ("access denied or no credentials", "the bucket does not exist", "cannot reach the store"):
        hint = CREDENTIAL_HINTS.get(location.scheme)
        if hint:
            message += f"; set {hint}"
    return StoreError(message)


def missing_bucket(location: Location) -> bool:
    """Whether ``location`` is on an object store whose bucket (or container) does not exist."""
    if location.is_local or location.scheme not in ("s3", "gs", "abfs"):
        return False
    bucket = location.path.split("/", 1)[0]
    with store_errors(location, "read"):
        return bool(location.filesystem.get_file_info(bucket).type == pafs.FileType.NotFound)


def s3_client() -> Any:
    """A boto3 S3 client for the current AWS settings (one per settings, reused: creating one is slow)."""
    keys = (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
    )
    return _s3_client(tuple(os.environ.get(k) for k in keys))


@functools.lru_cache(maxsize=4)
def _s3_client(settings: tuple[str | None, ...]) -> Any:
    import boto3

    return boto3.client("s3")


def _client_code(exc: BaseException) -> str:
    """The error code and HTTP status of a botocore error (never its message)."""
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    return f"{code} http status {status}"


def walk(location: Location) -> Iterator[pafs.FileInfo]:
    """Every file below ``location`` (recursively), as the store lists them."""
    selector = pafs.FileSelector(location.path, recursive=True, allow_not_found=True)
    with store_errors(location, "list"):
        infos = location.filesystem.get_file_info(selector)
    for info in infos:
        if info.type == pafs.FileType.File:
            yield info
