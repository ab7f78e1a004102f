"""Where runtimes keep models: one reader per store behind one interface (``mmcheck.stores.base.Store``).

``STORES`` maps the ``--store`` ids to readers, in the order auto-detection tries them (the most
specific layouts first). ``mmcheck.stores.scanning`` turns what they read into a scan. The readers
are imported on first use: the command line needs only ``STORE_IDS`` to offer ``--store``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

STORE_IDS = ("ollama", "lmstudio", "hf-cache", "llama-cache", "jan", "textgen-webui")

if TYPE_CHECKING:
    from mmcheck.stores.base import Entry, Problem, Store, StoreFile, StoreScan

    STORES: dict[str, Store]

_BASE_NAMES = ("Entry", "Problem", "Store", "StoreFile", "StoreScan")


@cache
def _stores() -> dict[str, Store]:
    from mmcheck.stores import hf_cache, jan, llama_cache, lmstudio, ollama, textgen

    readers = (ollama.STORE, jan.STORE, textgen.STORE, lmstudio.STORE, llama_cache.STORE, hf_cache.STORE)
    return {s.id: s for s in readers}


def __getattr__(name: str) -> Any:
    """PEP 562: ``STORES`` and the base classes, imported on first use."""
    if name == "STORES":
        value: Any = _stores()
    elif name in _BASE_NAMES:
        from mmcheck.stores import base

        value = getattr(base, name)
    else:
        raise AttributeError(f"module 'mmcheck.stores' has no attribute {name!r}")
    globals()[name] = value
    return value


def get(store_id: str) -> Store:
    """The reader for ``store_id`` (one of ``STORE_IDS``)."""
    return _stores()[store_id]


__all__ = ["STORES", "STORE_IDS", "Entry", "Problem", "Store", "StoreFile", "StoreScan", "get"]
