"""Apply a policy to a text: one operator per entity type, run by Presidio's ``AnonymizerEngine``.

Spans arrive already merged (non-overlapping). Keyed operators get a sub-key derived for their
purpose; ``date_shift`` (and ``pseudonymize`` on DATE_TIME, which shifts dates rather than
inventing them) gets the offset of the row's subject. Under ``pseudonymize``, PERSON and LOCATION
spans are first widened for readable surrogates (:mod:`deid.transform.coherence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deid.config import PolicyConfig
from deid.detect.spans import Span
from deid.errors import KeyError_
from deid.transform.coherence import coherent_spans
from deid.transform.keys import SecretKey

_DATE_TYPES = frozenset({"DATE_TIME", "DATE"})
_COHERENT_TYPES = ("PERSON", "LOCATION")


class TextTransformer:
    """Transforms texts by a policy.

    Args:
        policy: the ``policy`` part of the configuration.
        key: the secret key; required when the policy uses keyed operators.

    Raises:
        KeyError_: a keyed operator without a key.
    """

    def __init__(self, policy: PolicyConfig, key: SecretKey | None) -> None:
        if policy.needs_key() and key is None:
            raise KeyError_("the policy uses keyed operators but no key was given")
        self.policy = policy
        self._key = key
        self._engine: Any = None
        self._subkeys: dict[str, bytes] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"policy": self.policy, "_key": self._key, "_engine": None, "_subkeys": {}}

    def _build(self) -> None:
        from presidio_anonymizer import AnonymizerEngine

        from deid.transform.operators import OPERATORS

        engine = AnonymizerEngine()
        for _, operator_class in OPERATORS.values():
            if operator_class is not None:
                engine.add_anonymizer(operator_class)
        self._engine = engine
        if self._key is not None:
            for purpose in ("hash", "encrypt", "pseudonymize", "date_shift"):
                self._subkeys[purpose] = self._key.derive(purpose)

    def _operator_config(self, entity_type: str, subject: str | None) -> Any:
        from presidio_anonymizer.entities import OperatorConfig

        from deid.transform.operators import OPERATORS, subject_offset_days

        spec = self.policy.operator_for(entity_type)
        name = spec.operator
        params = spec.model_dump(exclude={"operator"})
        if name == "pseudonymize" and entity_type in _DATE_TYPES:
            name, params = "date_shift", {"max_days": 365, "fallback": "replace"}
        if name == "replace" and params.get("new_value") is None:
            params = {"new_value": f"<{entity_type}>"}
        if name == "date_shift":
            params = {
                "offset_days": subject_offset_days(
                    self._subkeys["date_shift"], subject, params.pop("max_days")
                ),
                "fallback": params["fallback"],
            }
        if name in self._subkeys:
            params["key"] = self._subkeys[name]
        return OperatorConfig(OPERATORS[name][0], params)

    def transform(self, text: str, spans: Sequence[Span], subject: str | None = None) -> str:
        """Return ``text`` with every span replaced by its operator's output.

        Args:
            text: the original text.
            spans: non-overlapping spans (as :func:`deid.detect.spans.merge_spans` returns them).
            subject: the row's subject (for date shifting), or ``None``.
        """
        if not spans:
            return text
        if self._engine is None:
            self._build()
        from presidio_anonymizer.entities import RecognizerResult

        pseudonymized = {t for t in _COHERENT_TYPES if self.policy.operator_for(t).operator == "pseudonymize"}
        if pseudonymized:
            spans = coherent_spans(text, spans, pseudonymized)
        types = {s.entity_type for s in spans}
        operators = {t: self._operator_config(t, subject) for t in types}
        results = [RecognizerResult(s.entity_type, s.start, s.end, s.score) for s in spans]
        return str(
            self._engine.anonymize(
                text=text, analyzer_results=results, operators=operators, merge_entities_with_spaces=False
            ).text
        )
