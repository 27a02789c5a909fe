"""deid: de-identification of free-text corpora for batch jobs and compliance pipelines."""

__version__ = "0.1.0"
