"""The reference oracle's environment: llama-cpp-python 0.3.36 in a dedicated venv.

Everything lives under the git-ignored cache ``<repo>/.cache/oracle/``:

* ``wheels/<key>/llama_cpp_python-0.3.36-*.whl`` -- built once per machine type from the sdist
  (``pip wheel --no-deps``, CPU only, ``CMAKE_BUILD_PARALLEL_LEVEL=2``). The build uses
  ``-march=native``, so ``<key>`` is ``platform.machine()`` plus a hash of the CPU flags in
  ``/proc/cpuinfo``: a wheel is never reused on a CPU that may lack its instructions.
* ``venv-<key>/`` -- a venv (not the project's ``.venv``) with that wheel and its dependencies.
* ``build-<key>.log`` / ``install-<key>.log`` -- the full logs of the last build / install.
* ``test-1.jpeg`` -- llama.cpp's ``tools/mtmd/test-1.jpeg``, extracted from the sdist.

A ``fcntl`` lock serialises the build between concurrent pytest workers. Any failure raises
:class:`OracleEnvError` with the reason and the tail of the log: the oracle suite must fail
loudly, never skip.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "oracle"
SDIST_DIR = REPO_ROOT / ".cache" / "sdist"
SDIST_NAME = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}.tar.gz"
SDIST_TOP = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}"
TEST_IMAGE_MEMBER = f"{SDIST_TOP}/vendor/llama.cpp/tools/mtmd/test-1.jpeg"
BUILD_TIMEOUT_S = 3600
LOG_TAIL_LINES = 60


class OracleEnvError(RuntimeError):
    """The oracle environment could not be prepared; the message carries the reason and log tail."""


def _log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError as exc:
        return f"(no log at {log}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def machine_key() -> str:
    """Return ``<machine>-<hash of CPU flags>``: the key of a wheel built with ``-march=native``."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("flags", "Features"):
                flags = " ".join(sorted(value.split()))
                break
    except OSError:
        flags = platform.processor()
    digest = hashlib.sha256(flags.encode()).hexdigest()[:12]
    return f"{platform.machine() or 'unknown'}-{digest}"


@contextmanager
def _locked(name: str) -> Iterator[None]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_logged(cmd: list[str], log: Path, *, env: dict[str, str] | None = None, what: str) -> None:
    """Run ``cmd`` with stdout+stderr into ``log``; raise OracleEnvError with the tail on failure."""
    with open(log, "w") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=BUILD_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OracleEnvError(f"{what} failed: {exc}\n--- tail of {log} ---\n{_log_tail(log)}") from exc
    if proc.returncode != 0:
        raise OracleEnvError(f"{what} failed with exit code {proc.returncode}\n--- tail of {log} ---\n{_log_tail(log)}")


def sdist_path() -> Path:
    """Return the llama-cpp-python sdist, downloading it from PyPI when it is absent."""
    sdist = SDIST_DIR / SDIST_NAME
    if sdist.is_file():
        return sdist
    SDIST_DIR.mkdir(parents=True, exist_ok=True)
    log = CACHE_DIR / "download.log"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    _run_logged(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}",
            "-d",
            str(SDIST_DIR),
        ],
        log,
        what="downloading the llama-cpp-python sdist",
    )
    if not sdist.is_file():
        raise OracleEnvError(f"pip download succeeded but {sdist} is absent\n{_log_tail(log)}")
    return sdist


def ensure_oracle_wheel() -> Path:
    """Return the cached llama-cpp-python wheel for this machine, building it once if needed."""
    key = machine_key()
    wheel_dir = CACHE_DIR / "wheels" / key
    pattern = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}-*.whl"
    with _locked("build"):
        found = sorted(wheel_dir.glob(pattern))
        if found:
            return found[0]
        sdist = sdist_path()
        tmp_dir = CACHE_DIR / "wheels" / f".{key}.tmp-{os.getpid()}"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["CMAKE_BUILD_PARALLEL_LEVEL"] = "2"
        # CPU only: no GPU backend, no BLAS; native instructions (hence the machine key).
        env["CMAKE_ARGS"] = "-DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF -DGGML_NATIVE=ON"
        env.pop("FORCE_CMAKE", None)
        log = CACHE_DIR / f"build-{key}.log"
        start = time.monotonic()
        try:
            _run_logged(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_dir), str(sdist)],
                log,
                env=env,
                what=f"building llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} from {sdist}",
            )
            built = sorted(tmp_dir.glob(pattern))
            if not built:
                raise OracleEnvError(f"pip wheel produced no {pattern} in {tmp_dir}\n{_log_tail(log)}")
            with open(log, "a") as out:
                out.write(f"\nbuild took {time.monotonic() - start:.0f} s\n")
            wheel_dir.mkdir(parents=True, exist_ok=True)
            final = wheel_dir / built[0].name
            os.replace(built[0], final)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        return final


def _venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def ensure_oracle_python() -> Path:
    """Return the python of the oracle venv, with llama-cpp-python 0.3.36 importable.

    Builds the wheel (once per machine type) and the venv (once) under ``.cache/oracle/``.
    Raises :class:`OracleEnvError` with the reason and the log tail if anything fails.
    """
    wheel = ensure_oracle_wheel()
    key = machine_key()
    venv_dir = CACHE_DIR / f"venv-{key}"
    python = _venv_python(venv_dir)
    stamp = venv_dir / ".oracle-ready"
    with _locked("venv"):
        if stamp.is_file() and stamp.read_text().strip() == wheel.name and python.exists():
            return python
        log = CACHE_DIR / f"install-{key}.log"
        try:
            venv.EnvBuilder(with_pip=True, clear=True, symlinks=True).create(venv_dir)
        except Exception as exc:  # venv creation errors come in many types
            raise OracleEnvError(f"creating the oracle venv {venv_dir} failed: {exc}") from exc
        _run_logged(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", str(wheel)],
            log,
            what=f"installing {wheel.name} into {venv_dir}",
        )
        _run_logged(
            [str(python), "-c", "import llama_cpp, llama_cpp.mtmd_cpp; print(llama_cpp.__version__)"],
            CACHE_DIR / f"import-{key}.log",
            what="importing llama_cpp in the oracle venv",
        )
        stamp.write_text(wheel.name + "\n")
        return python


def oracle_test_image() -> Path:
    """Return llama.cpp's ``tools/mtmd/test-1.jpeg``, extracted from the sdist into the cache."""
    image = CACHE_DIR / "test-1.jpeg"
    if image.is_file() and image.stat().st_size > 0:
        return image
    sdist = sdist_path()
    with _locked("image"):
        if image.is_file() and image.stat().st_size > 0:
            return image
        try:
            with tarfile.open(sdist, "r:gz") as tar:
                member = tar.extractfile(TEST_IMAGE_MEMBER)
                if member is None:
                    raise OracleEnvError(f"{TEST_IMAGE_MEMBER} is not a regular file in {sdist}")
                data = member.read()
        except (KeyError, OSError, tarfile.TarError) as exc:
            raise OracleEnvError(f"cannot extract {TEST_IMAGE_MEMBER} from {sdist}: {exc}") from exc
        tmp = image.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, image)
        return image


if __name__ == "__main__":
    print(ensure_oracle_python())
    print(oracle_test_image())
