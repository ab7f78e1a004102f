"""Server faults and refusals: one line on stderr (``mmcheck: error: URL: what``), exit 2, never a
traceback or a hang; transient faults are retried; Ctrl-C ends the process at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.remote.conftest import TOKEN, HubProcess, run

MODEL, PROJ = "hf://org/verdicts/llava-7b.gguf", "hf://org/verdicts/mmproj-llava-7b.gguf"
DATA = ("hf://org/data/text-20k.gguf", "hf://org/data/mmproj-fitted.gguf")


def _one_line_error(r: object, *needles: str) -> str:
    code, err = r.code, r.err  # type: ignore[attr-defined]
    assert code == 2, err
    assert err.startswith("mmcheck: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return str(err)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ((MODEL, "hf://org/verdicts/nope.gguf"), ("hf://org/verdicts/nope.gguf", "no such file in org/verdicts")),
        ((MODEL, "hf://org/missing-repo/x.gguf"), ("hf://org/missing-repo/x.gguf", "not found")),
        ((MODEL, "hf://org/verdicts@v9/mmproj-llava-7b.gguf"), ("revision not found",)),
        (("hf://priv/pair/llava-7b.gguf", PROJ), ("priv/pair", "private", "hf auth login")),
        (("hf://gated/pair/llava-7b.gguf", PROJ), ("gated repository gated/pair", "accept the conditions", "HF_TOKEN")),
        ((MODEL, "hf://org/broken/pointer.gguf"), ("Git LFS pointer",)),
        ((MODEL, "hf://org/verdicts"), ("names a repository, not a file",)),
        ((MODEL, "hf://bad"), ("not a valid hf:// path",)),
    ],
)
def test_refusals_are_one_line(env: dict[str, str], args: tuple[str, str], needles: tuple[str, ...]) -> None:
    _one_line_error(run(env, "pair", *args), *needles)


def test_a_token_opens_gated_and_private_repositories(env: dict[str, str]) -> None:
    with_token = {**env, "HF_TOKEN": TOKEN}
    for repo in ("gated/pair", "priv/pair"):
        r = run(with_token, "pair", f"hf://{repo}/llava-7b.gguf", f"hf://{repo}/mmproj-llava-7b.gguf", "-q")
        assert (r.code, r.out.strip()) == (0, "match"), r.err
    wrong = run({**env, "HF_TOKEN": "hf_wrong"}, "pair", "hf://gated/pair/llava-7b.gguf", PROJ, "--no-cache")
    _one_line_error(wrong, "your token has no access")


def test_the_login_token_file_is_used(env: dict[str, str], tmp_path: object) -> None:
    from pathlib import Path

    home = Path(env["HF_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "token").write_text(TOKEN)  # what `hf auth login` / `huggingface-cli login` writes
    r = run(env, "pair", "hf://gated/pair/llava-7b.gguf", "hf://gated/pair/mmproj-llava-7b.gguf", "-q")
    assert (r.code, r.out.strip()) == (0, "match"), r.err


@pytest.mark.parametrize(
    ("faults", "needles"),
    [
        ({"wrong_range": True}, ("wrong Content-Range",)),
        ({"truncate": {"count": -1, "match": "cdn:"}}, ("body shorter than asked",)),
        ({"html": {"count": -1, "match": "cdn:"}}, ("HTML page",)),
        ({"status": {"code": 503, "count": -1, "match": "cdn:"}}, ("server error (HTTP 503",)),
        ({"status": {"code": 429, "count": -1, "retry_after": 3600}}, ("rate limited (HTTP 429, retry after 3600 s)",)),
        ({"drop": {"count": -1, "match": "cdn:"}}, ("connection dropped",)),
        ({"status": {"code": 404, "count": -1, "match": "cdn:"}}, ("not found (HTTP 404)",)),
        ({"status": {"code": 403, "count": -1, "match": "hub:"}}, ("denied (HTTP 403",)),
    ],
)
def test_server_faults_are_one_line(hub: HubProcess, env: dict[str, str], faults: dict, needles: tuple) -> None:
    hub.faults(**faults)
    err = _one_line_error(run(env, "pair", MODEL, PROJ, "--no-smoke"), *needles)
    assert err.startswith("mmcheck: error: hf://org/verdicts/")


def test_a_file_that_changes_between_requests(hub: HubProcess, env: dict[str, str]) -> None:
    hub.faults(etag_change_after=1)  # the CDN's ETag changes after the first data response
    _one_line_error(run(env, "inspect", "hf://org/big/gemma-262k.gguf"), "changed on the server between requests")
    hub.reset()
    hub.faults(etag_change_after=3)  # ... or during the smoke test's reads
    _one_line_error(run(env, "pair", *DATA), "changed on the server between requests")


@pytest.mark.parametrize(
    "faults",
    [
        {"status": {"code": 500, "count": 2}},
        {"status": {"code": 429, "count": 1, "retry_after": 0}},
        {"drop": {"count": 1, "match": "cdn:"}},
        {"truncate": {"count": 1, "match": "cdn:"}},
    ],
)
def test_transient_faults_are_retried(hub: HubProcess, env: dict[str, str], faults: dict) -> None:
    hub.faults(**faults)
    r = run(env, "pair", MODEL, PROJ, "-f", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["verdict"] == "match"
    stats = hub.stats()
    assert stats["hub"] + stats["cdn"] == doc["model"]["remote"]["requests"] + doc["mmproj"]["remote"]["requests"]


def test_a_server_ignoring_range_costs_only_the_header(hub: HubProcess, env: dict[str, str]) -> None:
    from mmcheck.header import read_header

    hub.faults(no_range=True)
    r = run(env, "pair", "hf://org/big/gemma-262k.gguf", "hf://org/big/mmproj-gemma.gguf", "-f", "json")
    assert r.code in (0, 1), r.err
    doc = json.loads(r.out)
    big = read_header(hub.local("org/big/gemma-262k.gguf"))
    assert doc["model"]["remote"]["ranges"] == "none"
    assert doc["model"]["remote"]["bytes_fetched"] <= big.header_size + (2 << 20) < big.file_size
    data = run(env, "pair", *DATA, "-f", "json")
    smoke = json.loads(data.out)["smoke"]
    assert smoke["status"] == "skipped" and "ignores Range" in smoke["reason"]


def test_timeouts(hub: HubProcess, env: dict[str, str]) -> None:
    hub.faults(delay={"seconds": 5, "count": -1, "match": "cdn:"})
    t = time.monotonic()
    _one_line_error(run(env, "pair", MODEL, PROJ, "--timeout", "0.5"), "within 0.5 s", "--timeout")
    assert time.monotonic() - t < 4.5
    hub.reset()
    hub.faults(delay={"seconds": 0.3, "count": -1, "match": "cdn:"})
    assert run(env, "pair", MODEL, PROJ, "--timeout", "5", "-q").code == 0


def test_timeout_from_the_config_file(hub: HubProcess, env: dict[str, str], tmp_path: object) -> None:
    from pathlib import Path

    d = Path(str(tmp_path)) / "proj"
    d.mkdir()
    (d / "mmcheck.toml").write_text("timeout = 0.5\n")
    hub.faults(delay={"seconds": 5, "count": -1, "match": "cdn:"})
    proc = subprocess.run([sys.executable, "-m", "mmcheck", "pair", MODEL, PROJ], capture_output=True, text=True,
                          env=env, cwd=d, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and "within 0.5 s" in proc.stderr, proc.stderr


def test_ctrl_c_ends_a_hung_read_at_once(hub: HubProcess, env: dict[str, str]) -> None:
    hub.faults(delay={"seconds": 60, "count": -1, "match": "cdn:"})
    proc = subprocess.Popen([sys.executable, "-m", "mmcheck", "pair", MODEL, PROJ, "--timeout", "100"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(2.5)  # start-up, then blocked reading the CDN's answer
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=10)
    assert time.monotonic() - t < 3
    assert proc.returncode == 2
    assert "interrupted" in err and "Traceback" not in err


_PARALLEL = """
import sys
from mmcheck.header import read_header
h = read_header("hf://org/big/gemma-262k.gguf")
base = h.data_offset
print("ready", flush=True)
sys.stdin.readline()
h.source.read_spans([(base + i * 200_000, base + i * 200_000 + 64) for i in range(64)])
"""


def test_ctrl_c_during_parallel_reads(hub: HubProcess, env: dict[str, str]) -> None:
    # scattered reads far apart go out as single ranges over several connections; all of them hang
    hub.faults(no_multirange=True)
    proc = subprocess.Popen([sys.executable, "-c", _PARALLEL], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    hub.reset()  # count only the data reads; the multi-range try passes (and is refused), the rest hang
    hub.faults(no_multirange=True, delay={"seconds": 60, "count": -1, "match": "cdn:", "after": 1})
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while hub.stats()["cdn"] < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert hub.stats()["cdn"] >= 6  # parallel reads are under way
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=15)
    assert time.monotonic() - t < 3  # every blocked thread was released at once
