"""A lean spaCy engine for Presidio: tokens and context words without tagging or parsing.

Presidio uses spaCy for tokens, lemmas (context words such as "phone" near a number raise its
score) and, optionally, named entities. Its context matching is by substring ("call" matches
"called"), so a lower-cased token serves as well as a lemma, and the tagger, attribute ruler and
lemmatizer that produce real lemmas cost 90% of spaCy's time on clinical notes.

:class:`LeanSpacyNlpEngine` loads the spaCy package without the components detection does not use
(only the tokenizer, plus ``tok2vec`` and ``ner`` when spaCy's NER is wanted), and builds Presidio's
``NlpArtifacts`` from arrays instead of token objects: lemmas are the lower-cased tokens, read with
``Doc.to_array``; a token's context-keyword status (stop word, punctuation) is looked up once per
distinct word. :class:`LeanContextEnhancer` finds the token under a match by bisection instead of a
walk over every token. Both give exactly what Presidio computes from a pipeline whose lemma is the
lower-cased token (tests/detect/test_spacy_pipeline.py compares them).
"""

from __future__ import annotations

import bisect
import copy
from typing import Any

import spacy
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.attrs import IDX, LENGTH, LOWER
from spacy.language import Language
from spacy.tokens import Doc

LEMMA_COMPONENT = "deid_lowercase_lemma"
_NER_COMPONENTS = ("tok2vec", "ner")
# Components of the trained pipelines that detection never uses (names absent from a package are ignored).
_NEVER_NEEDED = ("tagger", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer")
# Past this many distinct words the keyword cache starts again (bounded memory on endless IDs).
_KEYWORD_CACHE_LIMIT = 200_000


@Language.component(LEMMA_COMPONENT)
def lowercase_lemma(doc: Doc) -> Doc:
    """Set each token's lemma to its lower-cased text (for pipelines used outside the lean engine)."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


class LeanNlpArtifacts(NlpArtifacts):
    """Presidio's ``NlpArtifacts`` whose keywords come from the engine's per-word cache."""

    @staticmethod
    def set_keywords(nlp_engine: Any, lemmas: list[str], language: str) -> list[str]:
        """The context keywords of ``lemmas``, as :meth:`NlpArtifacts.set_keywords` computes them."""
        if not nlp_engine:
            return []
        return nlp_engine.keywords(lemmas, language)


class LeanSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine with only the tokenizer (and spaCy's NER when ``keep_ner``).

    Args:
        model: the spaCy package name.
        language: Presidio language code.
        ner_model_configuration: as for Presidio's ``SpacyNlpEngine`` (entity mapping of spaCy's NER).
        keep_ner: load and run spaCy's ``tok2vec`` and ``ner``.
    """

    def __init__(
        self,
        model: str,
        language: str,
        ner_model_configuration: NerModelConfiguration | None = None,
        *,
        keep_ner: bool,
    ) -> None:
        super().__init__(
            models=[{"lang_code": language, "model_name": model}],
            ner_model_configuration=ner_model_configuration,
        )
        self.keep_ner = keep_ner
        self._keywords: dict[str, tuple[str, ...]] = {}

    def load(self) -> None:
        """Load the spaCy package without the components that are not used.

        Raises:
            OSError: the package is not installed (Presidio's engine would download it; deid is offline).
        """
        self.nlp = {}
        for model in self.models:
            self._validate_model_params(model)
            unused = [*_NEVER_NEEDED, *([] if self.keep_ner else _NER_COMPONENTS)]
            self.nlp[model["lang_code"]] = spacy.load(model["model_name"], exclude=unused)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        # One array read instead of a Token object per token and attribute.
        rows = doc.to_array([LOWER, IDX]).tolist() if len(doc) else []
        strings = doc.vocab.strings
        lemmas = [strings[row[0]] for row in rows]
        entities = self._get_entities(doc)
        scores = self._get_scores_for_entities(doc)
        entities, scores = self._get_updated_entities(entities, scores)
        return LeanNlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[row[1] for row in rows],
            lemmas=lemmas,
            nlp_engine=self,
            language=language,
            scores=scores,
        )

    def keywords(self, lemmas: list[str], language: str) -> list[str]:
        """Presidio's context keywords of ``lemmas`` (no stop words or punctuation, split at ``:``)."""
        cache = self._keywords
        if len(cache) > _KEYWORD_CACHE_LIMIT:
            cache.clear()
        out: list[str] = []
        for lemma in lemmas:
            parts = cache.get(lemma)
            if parts is None:
                keep = (
                    not self.is_stopword(lemma, language)
                    and not self.is_punct(lemma, language)
                    and lemma != "-PRON-"
                    and lemma != "be"
                )
                parts = tuple(lemma.lower().split(":")) if keep else ()
                cache[lemma] = parts
            out.extend(parts)
        return out


class _ShallowCopiedResults(list):  # type: ignore[type-arg]
    """Results whose ``copy.deepcopy`` copies each result, its metadata and its explanation only.

    Presidio's enhancer deep-copies the results before it raises scores; a deep copy walks every
    object graph (about 4% of detection time on short texts). A result's fields are numbers and
    strings except its ``recognition_metadata`` (a dict of strings and flags) and its
    ``analysis_explanation`` (numbers and strings), so copying those three levels is a full copy.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        copies = []
        for result in self:
            clone = copy.copy(result)
            if result.recognition_metadata is not None:
                clone.recognition_metadata = dict(result.recognition_metadata)
            if result.analysis_explanation is not None:
                clone.analysis_explanation = copy.copy(result.analysis_explanation)
            copies.append(clone)
        return copies


class LeanContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma context enhancer; the token under a match is found by bisection, and the
    results are copied without a deep copy's graph walk."""

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[Any],
        nlp_artifacts: Any,
        recognizers: list[Any],
        context: list[str] | None = None,
    ) -> list[Any]:
        """Presidio's enhancement over a cheaper (equivalent) copy of ``raw_results``."""
        return super().enhance_using_context(
            text, _ShallowCopiedResults(raw_results), nlp_artifacts, recognizers, context
        )

    @staticmethod
    def _find_index_of_match_token(word: str, start: int, tokens: Any, tokens_indices: list[int]) -> int:
        # Presidio walks the tokens for the first one that starts at ``start`` or ends after it;
        # token ends only grow, so that is the first end past ``start``.
        if isinstance(tokens, Doc) and len(tokens):
            lengths = tokens.to_array([LENGTH]).tolist()
            ends = [index + length for index, length in zip(tokens_indices, lengths, strict=True)]
            position = bisect.bisect_right(ends, start)
            if position < len(ends):
                return position
        return LemmaContextAwareEnhancer._find_index_of_match_token(word, start, tokens, tokens_indices)
