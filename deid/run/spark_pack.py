"""Pack deid's Python environment and models for ``spark-submit --archives``.

``deid spark pack`` writes two archives that Spark unpacks in every executor's working directory:

- ``deid-env.tar.gz`` (``#env``): the virtual environment deid runs in, packed with venv-pack
  (scripts' shebangs rewritten, activation scripts dropped). A deid installed in editable mode
  (``pip install -e .``) is packed as a regular copy of its source, so executors never import
  from the driver's checkout. pyspark is left out: executors import the pyspark of their own Spark
  installation (``$SPARK_HOME/python/lib/pyspark.zip`` comes first on their ``PYTHONPATH``).
- ``deid-models.tar.gz`` (``#models``): the model directories the configuration names, under their
  own names, so that the configuration's relative path ``models/<name>`` resolves on the driver
  (from the current directory or the deid checkout) and on the executors (in the unpacked
  archive) to a directory of the same name and content; executors check its fingerprint.

A venv is not self-contained: ``env/bin/python`` is a link to the base interpreter the venv was
created from (``pyvenv.cfg``'s ``home``), which must exist at the same path on every node (same
machine image), or at ``python_prefix``. For nodes without it, pack a conda environment with
conda-pack or ship a container image instead.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

import deid
from deid.config import DeidConfig, resolve_path
from deid.errors import ConfigError, DeidError, OutputError

logger = logging.getLogger(__name__)

ENV_ARCHIVE = "deid-env.tar.gz"
MODELS_ARCHIVE = "deid-models.tar.gz"
ENV_LINK = "env"  # the '#env' of --archives: executors run ./env/bin/python
MODELS_LINK = "models"  # the '#models' of --archives: executors resolve models/<name> in it


@dataclass
class PackResult:
    """What :func:`pack_for_spark` wrote.

    Attributes:
        env: the environment archive.
        models: the models archive, ``None`` when the configuration names no model directory.
        packed_models: the configuration paths of the models packed (``models/<name>``).
        node_models: absolute model paths left out: they must exist at that path on every node.
    """

    env: Path
    models: Path | None
    packed_models: list[str] = field(default_factory=list)
    node_models: list[str] = field(default_factory=list)

    @property
    def archives(self) -> str:
        """The value of ``spark-submit --archives`` for these archives."""
        value = f"{self.env}#{ENV_LINK}"
        if self.models is not None:
            value += f",{self.models}#{MODELS_LINK}"
        return value


def pack_for_spark(
    output_dir: Path,
    config: DeidConfig,
    *,
    prefix: Path | None = None,
    python_prefix: str | None = None,
    exclude: Sequence[str] = (),
    compress_level: int = 1,
    overwrite: bool = False,
) -> PackResult:
    """Write ``deid-env.tar.gz`` and (when the config names a model) ``deid-models.tar.gz``.

    Args:
        output_dir: where to write the archives (created if missing).
        config: the configuration the Spark job will run; its model directories are packed.
        prefix: the virtual environment to pack (default: the one running this).
        python_prefix: the base Python's prefix on the nodes, when it differs from this machine's.
        exclude: glob patterns (relative to the environment, e.g. ``lib/python3.11/site-packages/onnx*``)
            of files the executors never need.
        compress_level: gzip level, 0-9 (1: fast, nearly as small as 9 for wheels' binaries).
        overwrite: replace existing archives.

    Returns:
        The archives written and the models they hold.

    Raises:
        ConfigError: a model path the executors could not resolve, or a missing model directory.
        OutputError: an archive exists (without ``overwrite``) or cannot be written.
        DeidError: the environment is not a venv, holds another editable package, or venv-pack is missing.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    models, node_models = config_models(config)
    targets = [output_dir / ENV_ARCHIVE] + ([output_dir / MODELS_ARCHIVE] if models else [])
    for target in targets:
        if target.exists() and not overwrite:
            raise OutputError(f"{target}: already exists (use --overwrite to replace it)")
    models_archive = None
    if models:
        models_archive = pack_models(output_dir / MODELS_ARCHIVE, models, compress_level=compress_level)
    env_archive = pack_environment(
        output_dir / ENV_ARCHIVE,
        prefix=prefix,
        python_prefix=python_prefix,
        exclude=exclude,
        compress_level=compress_level,
    )
    return PackResult(env_archive, models_archive, sorted(models), node_models)


def config_models(config: DeidConfig) -> tuple[dict[str, Path], list[str]]:
    """The model directories a configuration names: ``{config path: local directory}``, absolute paths.

    Raises:
        ConfigError: a relative model path outside ``models/``, or a missing directory.
    """
    packed: dict[str, Path] = {}
    absolute: list[str] = []
    transformer = config.detection.transformer
    values = [("detection.transformer.model", transformer.model)] if transformer is not None else []
    for key, value in values:
        path = PurePosixPath(str(value))
        if path.is_absolute() or str(value).startswith("~"):
            absolute.append(str(value))
            continue
        if len(path.parts) < 2 or path.parts[0] != MODELS_LINK:
            raise ConfigError(
                f"{key}: '{value}' is relative but not under {MODELS_LINK}/: executors find models in the "
                f"unpacked models archive as {MODELS_LINK}/<name>; name it {MODELS_LINK}/<name> or give an "
                "absolute path that exists on every node"
            )
        local = resolve_path(str(value))
        if not local.is_dir():
            raise ConfigError(f"{key}: model directory '{value}' not found")
        packed[str(path)] = local.resolve()
    return packed, absolute


def pack_models(output: Path, models: dict[str, Path], *, compress_level: int = 1) -> Path:
    """Write a tar.gz holding each model directory as ``<path under models/>/...``.

    Args:
        output: the archive to write (replaced atomically).
        models: ``{config path models/<name>: local directory}``.
        compress_level: gzip level, 0-9.

    Returns:
        ``output``.
    """
    partial = _partial(output)
    try:
        with tarfile.open(partial, "w:gz", compresslevel=compress_level) as archive:
            for config_path, directory in sorted(models.items()):
                name = PurePosixPath(config_path).relative_to(MODELS_LINK).as_posix()
                for path in sorted(directory.rglob("*")):
                    if path.is_file():
                        archive.add(path, f"{name}/{path.relative_to(directory).as_posix()}", recursive=False)
        os.replace(partial, output)
    except OSError as exc:
        raise OutputError(f"{output}: cannot write the models archive ({exc.strerror or exc})") from None
    finally:
        partial.unlink(missing_ok=True)  # after an error or Ctrl-C; gone already after os.replace
    return output


def pack_environment(
    output: Path,
    *,
    prefix: Path | None = None,
    python_prefix: str | None = None,
    exclude: Sequence[str] = (),
    compress_level: int = 1,
) -> Path:
    """Pack a virtual environment with venv-pack, deid as a regular copy and without pyspark.

    Args:
        output: the archive to write (``.tar.gz``; replaced atomically).
        prefix: the venv (default: ``sys.prefix``).
        python_prefix: where the base Python lives on the nodes (default: where it lives here).
        exclude: glob patterns of files to leave out, relative to the venv.
        compress_level: gzip level, 0-9.

    Returns:
        ``output``.

    Raises:
        DeidError: not a venv, another editable package, or venv-pack missing.
        OutputError: the archive cannot be written.
    """
    try:
        from venv_pack import Env
        from venv_pack.core import File, VenvPackException
        from venv_pack.formats import archive as venv_archive
    except ImportError:
        raise DeidError("packing the environment needs venv-pack: pip install venv-pack") from None
    root = Path(prefix or sys.prefix).absolute()
    if not (root / "pyvenv.cfg").is_file():
        raise DeidError(
            f"{root}: not a virtual environment (no pyvenv.cfg); pack a conda environment with conda-pack, "
            "or run the executors from a container image that has deid"
        )
    site = _site_packages(root)
    editable = _editable_files(site)
    try:
        env = Env(str(root))
    except VenvPackException as exc:
        raise DeidError(f"{root}: {str(exc).splitlines()[0]}") from None
    site_rel = site.relative_to(root).as_posix()
    dropped = set(_pyspark_files(root, site)) | {f"{site_rel}/{name}" for name in editable}
    if editable:  # and the editable finder's bytecode
        exclude = [*exclude, f"{site_rel}/__pycache__/__editable__*deid[-_]*"]
    env.files[:] = [
        f
        for f in env.files
        if f.target not in dropped and not any(fnmatch.fnmatch(f.target, pattern) for pattern in exclude)
    ]
    if editable:
        # The editable finder maps 'deid' to the checkout; executors get a copy in site-packages.
        source = Path(deid.__file__).resolve().parent
        target = (site / "deid").relative_to(root).as_posix()
        env.files.extend(File(str(path), f"{target}/{rel}") for path, rel in _package_files(source))
    partial = _partial(output)
    try:
        # Env.pack's loop, with a packer that relinks the interpreter correctly (see _Packer) and
        # written straight to the output's directory (Env.pack stages the archive in $TMPDIR).
        with (
            open(partial, "wb") as handle,
            venv_archive(handle, "tar.gz", compress_level=compress_level) as arc,
        ):
            packer = _packer_class()(env._context, arc, python_prefix)
            for file in env.files:
                packer.add(file)
            packer.finish()
        os.replace(partial, output)
    except VenvPackException as exc:
        raise DeidError(f"{root}: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise OutputError(f"{output}: cannot write the environment archive ({exc.strerror or exc})") from None
    finally:
        partial.unlink(missing_ok=True)  # after an error or Ctrl-C; gone already after os.replace
    return output


def _packer_class() -> type:
    """venv-pack's packer, relinking ``bin/python3.X`` into ``python_prefix``'s ``bin/`` directory.

    venv-pack 0.2.0 replaces the prefix ``<base>/bin/python`` inside the link target with
    ``<python_prefix>/bin/python3.X``, which turns ``<base>/bin/python3.11`` into
    ``<python_prefix>/bin/python3.113.11``; the base's ``bin/`` directory is the prefix to replace.
    """
    from venv_pack.core import Packer

    class _Packer(Packer):  # type: ignore[misc]
        def __init__(self, context: object, archive: object, python_prefix: str | None) -> None:
            super().__init__(context, archive, python_prefix)
            if self.python_prefix is not None and getattr(context, "kind", None) == "venv":
                base = os.path.join(context.orig_prefix, "bin", "")  # type: ignore[attr-defined]
                self.rewrites = [(base, os.path.join(self.python_prefix, "bin", ""))]

    return _Packer


def _partial(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial-{os.getpid()}")


def _site_packages(root: Path) -> Path:
    candidates = sorted(root.glob("lib/python3*/site-packages"))
    if len(candidates) != 1:
        raise DeidError(f"{root}: expected one lib/python3.*/site-packages, found {len(candidates)}")
    return candidates[0]


def _editable_files(site: Path) -> list[str]:
    """Names of deid's editable-install hooks in ``site``; another editable package is an error."""
    names: list[str] = []
    for path in sorted(site.glob("__editable__*")):
        if fnmatch.fnmatch(path.name, "__editable__*deid[-_]*"):
            names.append(path.name)
            continue
        package = path.name.removeprefix("__editable__").strip("._").split("-")[0].split("_finder")[0]
        raise DeidError(
            f"{site}: '{package}' is installed in editable mode (pip install -e) and cannot be packed; "
            "install it without -e"
        )
    return names


def _pyspark_files(root: Path, site: Path) -> Iterable[str]:
    """pyspark's files relative to the venv (its RECORD: package, dist-info and bin scripts)."""
    found = [d for d in metadata.distributions(path=[str(site)]) if d.metadata["Name"] == "pyspark"]
    if not found:
        return []
    distribution = found[0]
    files: set[str] = set()
    for entry in distribution.files or []:
        path = Path(os.path.normpath(site / entry))
        try:
            files.add(path.relative_to(root).as_posix())
        except ValueError:
            logger.debug("pyspark file outside the venv: %s", path)
    return sorted(files)


def _package_files(source: Path) -> Iterable[tuple[Path, str]]:
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path, path.relative_to(source).as_posix()
