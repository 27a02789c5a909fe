"""Social-media handles (``@jsmith``, ``@Acme_Support``) as PERSON: an account names its holder.

A handle is an ``@`` that does not follow a word character (so not an e-mail address), then a letter
or underscore and up to 30 more letters, digits or underscores, not followed by ``.domain`` nor by
``(``, which makes it a spreadsheet function (``@SUM(1)``). The first character must not be a
digit: clinical notes write rates and doses as ``@75CC``, ``@5MG``, ``@3AM`` (21 such matches in the
PhysioNet train notes; with the letter rule 2 remain: ``@nd``, ``@KVO``).

The entity type is PERSON whether the account is a person's or a company's: Presidio has no
username type, and policies treat both as identifying. In the Broad Twitter Corpus training sections
(A, B, F, G) 74% of handles are annotated names (52% persons, 20% organisations, 2% places) and
handles are 30% of the annotated name characters; whether the recognizer is on by default was
decided on deid's dev sets (``python eval/run_eval.py --split dev``), see the README.

The score, 0.45, is above the default threshold (0.4) but below the 0.5 at which a pattern's type
wins an overlap (``deid/detect/spans.py``): where the NER model also finds the handle, the model's type
stands (``@AcmeCorp`` stays ORGANIZATION). Decided on the tweets dev set (Broad Twitter Corpus E):
with 0.6 instead, ORGANIZATION F1 0.592 and PERSON F1 0.672; with 0.45, 0.626 and 0.706; leak equal.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

HANDLE = r"(?<![\w@.+-])@[A-Za-z_][A-Za-z0-9_]{1,30}(?![\w@(])(?!\.[A-Za-z])"


class SocialHandleRecognizer(PatternRecognizer):
    """``@handles`` of social networks and chat tools (entity PERSON, score 0.45)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="PERSON",
            patterns=[Pattern("social handle", HANDLE, 0.45)],
            name="SocialHandleRecognizer",
            supported_language=supported_language,
        )
