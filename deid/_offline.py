"""Environment set-up that must happen before Presidio, tldextract or transformers are imported.

Presidio pulls in tldextract, which fetches the public suffix list over the network unless told not
to; transformers and sentence-transformers try the Hugging Face hub. deid runs offline, so every
entry point calls :func:`ensure_offline` before importing those libraries.
"""

import os

_DEFAULTS = {
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def ensure_offline() -> None:
    """Set the offline environment variables unless the user already set them."""
    for name, value in _DEFAULTS.items():
        os.environ.setdefault(name, value)
