"""mmcheck: check that a multimodal projector (mmproj GGUF) fits a text-model GGUF.

The stable Python API (imported lazily, so ``import mmcheck`` stays cheap for launchers)::

    import mmcheck

    report = mmcheck.check_pair("model.gguf", "mmproj.gguf")   # never raises on bad files
    if not report.ok:
        print(report.verdict.value, [f.message for f in report.findings])

    mmcheck.scan(["models/"], recursive=True)    # which projector fits which model
    mmcheck.suggest("model.gguf", ["models/"])   # projectors that fit, best first
    mmcheck.read_header("file.gguf")             # the raw header (metadata + tensor infos)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "check_pair": "mmcheck.pair",
    "Report": "mmcheck.pair",
    "read_header": "mmcheck.header",
    "scan": "mmcheck.scan",
    "suggest": "mmcheck.scan",
    "ScanResult": "mmcheck.scan",
    "Verdict": "mmcheck.verdict",
    "FailOn": "mmcheck.verdict",
    "MMCheckError": "mmcheck.errors",
    "GGUFError": "mmcheck.errors",
}

__all__ = [
    "FailOn",
    "GGUFError",
    "MMCheckError",
    "Report",
    "ScanResult",
    "Verdict",
    "__version__",
    "check_pair",
    "read_header",
    "scan",
    "suggest",
]

if TYPE_CHECKING:
    from mmcheck.errors import GGUFError, MMCheckError
    from mmcheck.header import read_header
    from mmcheck.pair import Report, check_pair
    from mmcheck.scan import ScanResult, scan, suggest
    from mmcheck.verdict import FailOn, Verdict


def __getattr__(name: str) -> Any:
    """PEP 562: import the module that defines ``name`` on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mmcheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
