"""A lean spaCy pipeline for Presidio: tokens and context words without tagging or parsing.

Presidio uses spaCy for tokens, lemmas (context words such as "phone" near a number raise its
score) and, optionally, named entities. Its context matching is by substring ("call" matches
"called"), so a lower-cased token serves as well as a lemma, and the tagger, attribute ruler and
lemmatizer that produce real lemmas cost 90% of spaCy's time on clinical notes. This module
replaces them with :func:`lowercase_lemma` and disables what detection does not use.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

LEMMA_COMPONENT = "deid_lowercase_lemma"
_NEVER_NEEDED = ("parser", "tagger", "attribute_ruler", "lemmatizer", "senter")


@Language.component(LEMMA_COMPONENT)
def lowercase_lemma(doc: Doc) -> Doc:
    """Set each token's lemma to its lower-cased text."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def make_lean(nlp: Any, *, keep_ner: bool) -> None:
    """Disable the components detection does not use and add the lower-case lemma component.

    Args:
        nlp: the spaCy pipeline Presidio loaded.
        keep_ner: keep spaCy's NER (and the tok2vec it listens to).
    """
    unused = list(_NEVER_NEEDED)
    if not keep_ner:
        unused += ["ner", "tok2vec"]
    for name in unused:
        if name in nlp.pipe_names:
            nlp.disable_pipe(name)
    if LEMMA_COMPONENT not in nlp.pipe_names:
        nlp.add_pipe(LEMMA_COMPONENT, first=True)
