"""Token-classification (NER) models for personal data: data, alignment, training, evaluation, inference.

Importing this package is cheap; torch and transformers are imported by the modules that need them
(:mod:`deid.ner.inference`, :mod:`deid.ner.train`). See ``deid/ner/README.md`` for the model
directory layout.
"""
