"""Where runtimes keep models: one reader per store behind one interface (``mmcheck.stores.base.Store``).

``STORES`` maps the ``--store`` ids to readers, in the order auto-detection tries them (the most
specific layouts first). ``mmcheck.stores.scanning`` turns what they read into a scan.
"""

from __future__ import annotations

from mmcheck.stores import hf_cache, jan, llama_cache, lmstudio, ollama, textgen
from mmcheck.stores.base import Entry, Problem, Store, StoreFile, StoreScan

STORES: dict[str, Store] = {
    s.id: s for s in (ollama.STORE, jan.STORE, textgen.STORE, lmstudio.STORE, llama_cache.STORE, hf_cache.STORE)
}
STORE_IDS = ("ollama", "lmstudio", "hf-cache", "llama-cache", "jan", "textgen-webui")


def get(store_id: str) -> Store:
    """The reader for ``store_id`` (one of ``STORE_IDS``)."""
    return STORES[store_id]


__all__ = ["STORES", "STORE_IDS", "Entry", "Problem", "Store", "StoreFile", "StoreScan", "get"]
