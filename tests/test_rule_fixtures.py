"""Every rule's cases, one YAML file per rule (``tests/fixtures/rules/MMxxx.yml``), one runner.

A case builds a text model and a projector with the fixture builders (``model`` / ``mmproj``:
builder keyword arguments; ``preset`` writes a database variant or lineage; ``raw`` a hand-built
file from ``tests/gguf_bytes.py``; ``kind`` (``model``, ``mmproj``, ``lora``) writes another kind
of file into the slot; ``truncate: N`` cuts N bytes off the end), checks the pair, and compares
with ``expect``:

- ``fires``: whether the file's rule fires (default true);
- ``severity``, ``file`` (``model`` / ``mmproj``: the file the finding names), ``message``
  (a fragment of it), ``verdict`` (the pair's verdict);
- ``check``: ``check_pair`` arguments (``ignore``, ``select``, ``smoke``, ``options``).

A new rule is one new file here. YAML tags: ``!int32 N`` / ``!u16 N`` write a key with that exact
GGUF type; ``!vocab {special: [...], filler: N}`` a token list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf
import pytest
import yaml

from mmcheck.db import load_db
from mmcheck.pair import check_pair
from mmcheck.rules import RULES, Options
from mmcheck.testing import write_lora_adapter, write_projector, write_text_model
from mmcheck.testing.presets import write_family_projector, write_lineage_model
from tests import gguf_bytes as gb

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
DB = load_db()


class _Loader(yaml.SafeLoader):
    """YAML with the fixture tags."""


def _typed(kind: gguf.GGUFValueType) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[int, gguf.GGUFValueType]:
        return (int(loader.construct_scalar(node)), kind)  # type: ignore[arg-type]

    return construct


def _vocab(loader: yaml.SafeLoader, node: yaml.MappingNode) -> list[str]:
    spec = loader.construct_mapping(node, deep=True)
    return ["<unk>", "<s>", "</s>", *spec.get("special", []), *[f"t{i}" for i in range(int(spec["filler"]))]]


_Loader.add_constructor("!int32", _typed(gguf.GGUFValueType.INT32))
_Loader.add_constructor("!u16", _typed(gguf.GGUFValueType.UINT16))
_Loader.add_constructor("!vocab", _vocab)


def _raw(name: str) -> bytes:
    """Hand-built files the builders cannot write (the builders refuse malformed metadata)."""
    if name == "nested-array":
        kvs = [
            ("general.architecture", gb.STR, "llama"),
            ("llama.embedding_length", gb.U32, 64),
            ("llama.block_count", gb.U32, 2),
            ("tokenizer.ggml.tokens", gb.ARR, (gb.STR, ["<s>", "</s>", "a", "b"])),
            ("odd.nested", gb.ARR, (gb.ARR, [(gb.U32, [1, 2]), (gb.U32, [3])])),
        ]
        return gb.build(kvs, [gb.Tensor("token_embd.weight", (64, 4))])[0]
    raise KeyError(f"unknown raw file {name!r}")


def _write(path: Path, role: str, spec: dict[str, Any] | None) -> Path:
    spec = dict(spec or {})
    if "raw" in spec:
        path.write_bytes(_raw(spec["raw"]))
        return path
    truncate = spec.pop("truncate", 0)
    written = _build(path, spec.pop("kind", role), spec)
    if truncate:
        data = written.read_bytes()
        written.write_bytes(data[: len(data) - truncate])
    return written


def _build(path: Path, role: str, spec: dict[str, Any]) -> Path:
    if role == "lora":
        return write_lora_adapter(path, **spec)
    preset = spec.pop("preset", None)
    if preset is not None and role == "model":
        return write_lineage_model(path, DB.lineages[preset.pop("lineage")], **preset, **spec)
    if preset is not None:
        family = DB.families[preset.pop("family")]
        variant = next(v for v in family.variants if v.id == preset.pop("variant"))
        return write_family_projector(path, family, variant, DB, **preset, **spec)
    if role == "model":
        return write_text_model(path, **{"n_embd": 64, **spec})
    return write_projector(path, **{"n_embd_out": 64, **spec})


def _cases() -> list[Any]:
    out = []
    for f in sorted(FIXTURES.glob("MM*.yml")):
        doc = yaml.load(f.read_text(encoding="utf-8"), Loader=_Loader)
        assert doc["rule"] == f.stem, f"{f.name} describes {doc['rule']}"
        for i, case in enumerate(doc["cases"]):
            out.append(pytest.param(doc["rule"], case, id=f"{doc['rule']}-{i}-{case['name']}"))
    return out


CASES = _cases()


@pytest.mark.parametrize(("code", "case"), CASES)
def test_rule_case(tmp_path: Path, code: str, case: dict[str, Any]) -> None:
    model = _write(tmp_path / "model.gguf", "model", case.get("model"))
    mmproj = _write(tmp_path / "mmproj.gguf", "mmproj", case.get("mmproj"))
    check = dict(case.get("check") or {})
    check.setdefault("smoke", False)
    check["options"] = Options(**check.get("options", {}))
    report = check_pair(model, mmproj, **check)
    expect = case["expect"]
    found = [f for f in report.findings if f.rule == code]
    seen = [(f.rule, f.severity.value, f.message) for f in report.findings]
    if not expect.get("fires", True):
        assert not found, seen
    else:
        assert found, seen
        f = found[0]
        rule = RULES[code]
        assert f.severity == rule.severity and f.name == rule.name
        if "severity" in expect:
            assert f.severity.value == expect["severity"], seen
        if "message" in expect:
            assert expect["message"] in f.message, f.message
        if "file" in expect:
            assert f.file is not None and Path(f.file).name == f"{expect['file']}.gguf", f.file
    if "verdict" in expect:
        assert report.verdict.value == expect["verdict"], seen
    if "verdict_not" in expect:
        assert report.verdict.value != expect["verdict_not"], seen


def test_every_rule_file_has_a_failing_a_passing_and_an_ignored_case() -> None:
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for p in CASES:
        code, case = p.values
        by_rule.setdefault(code, []).append(case)
    for code, cases in by_rule.items():
        assert code in RULES, code
        fires = [c for c in cases if c["expect"].get("fires", True)]
        quiet = [c for c in cases if not c["expect"].get("fires", True)]
        ignored = [c for c in quiet if code in (c.get("check") or {}).get("ignore", [])]
        assert fires and quiet and ignored, code
    for code in ("MM008", "MM010", "MM301"):
        assert code in by_rule


# Rules whose cases need more than two builder files, tested where that set-up lives.
TESTED_ELSEWHERE = {
    "MM09": "scan rules: tests/test_scan.py, tests/test_stores.py (a folder of files)",
    "MM306": "tests/test_identify.py (real-world headers of co-trained families)",
    "MM307": "tests/test_identify.py",
    "MM308": "tests/test_identify.py",
    "MM406": "tests/test_runtimes.py (the runtime version table)",
    "MM511": "tests/test_encoder_tensors.py (header edits the builders refuse)",
    "MM512": "tests/test_encoder_tensors.py",
    "MM8": "smoke rules: tests/test_smoke_checks.py, tests/test_smoke_alignment.py (tensor data)",
}


def test_every_rule_has_a_fixture_file_or_says_where_it_is_tested() -> None:
    have = {p.stem for p in FIXTURES.glob("MM*.yml")}
    for code in RULES:
        elsewhere = [k for k in TESTED_ELSEWHERE if code.startswith(k)]
        assert (code in have) != bool(elsewhere), f"{code}: add tests/fixtures/rules/{code}.yml"
