"""Continued masked-language-model (MLM) pretraining of the base encoder.

``adapt_encoder`` adapts the pinned sentence encoder to an unlabelled corpus; the result is a plain
model directory that ``AutoModel*`` and ``SentenceTransformer`` load, so both the document
classifiers (``deid.classify``) and the NER trainer can start from it.
"""

from deid.mlm.encoder import PINNED_ENCODER, encoder_fingerprint, resolve_encoder

__all__ = ["PINNED_ENCODER", "adapt_encoder", "encoder_fingerprint", "resolve_encoder"]


def __getattr__(name: str) -> object:
    # adapt.py imports nothing heavy at module level either, but keep the package import trivial.
    if name == "adapt_encoder":
        from deid.mlm.adapt import adapt_encoder

        return adapt_encoder
    raise AttributeError(name)
