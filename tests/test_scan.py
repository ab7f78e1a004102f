"""``mmcheck scan`` and ``suggest`` on folders laid out like the major publishers' repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmcheck.scan import Status, discover, scan, suggest
from mmcheck.verdict import FailOn, Verdict
from tests.cli_helpers import run_cli
from tests.hub_tree import build_hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mmcheck.db import load_db

    return build_hub(tmp_path_factory.mktemp("scan") / "hub", load_db(), tmp_path_factory.getbasetemp() / "hub-unique")


@pytest.fixture(scope="module")
def result(hub: Path, db):  # type: ignore[no-untyped-def]
    return scan([hub], recursive=True, db=db)


def _m(result, hub: Path) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The matrix with paths relative to the hub."""
    return {
        str(Path(p).relative_to(hub)): {str(Path(m).relative_to(hub)): v for m, v in row.items()}
        for p, row in result.matrix().items()
    }


def _rel(paths: list[Path], hub: Path) -> set[str]:
    return {str(p.relative_to(hub)) for p in paths}


def _chosen(result, hub: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {str(m.relative_to(hub)): c.mmproj.name for m, c in result.chosen().items()}


def test_two_sizes_with_look_alike_projector_names_pair_by_content(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    m = _m(result, hub)
    d = "ggml-org/llava-1.5-GGUF/"
    assert m[d + "mmproj-llava-v1.5-F16.gguf"] == {
        d + "llava-v1.5-13b-Q4_K_M.gguf": "match",
        d + "llava-v1.5-7b-Q4_K_M.gguf": "mismatch",
    }
    assert m[d + "mmproj-llava-v1.5-Q8_0.gguf"] == {
        d + "llava-v1.5-7b-Q4_K_M.gguf": "match",
        d + "llava-v1.5-13b-Q4_K_M.gguf": "mismatch",
    }
    chosen = _chosen(result, hub)
    assert chosen[d + "llava-v1.5-7b-Q4_K_M.gguf"] == "mmproj-llava-v1.5-Q8_0.gguf"
    assert chosen[d + "llava-v1.5-13b-Q4_K_M.gguf"] == "mmproj-llava-v1.5-F16.gguf"


def test_several_quantizations_and_a_split_quant_in_a_subfolder(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    d = "bartowski/llava-v1.5-7b-GGUF/"
    row = _m(result, hub)[d + "mmproj-llava-v1.5-7b-f16.gguf"]
    assert row == {
        d + "llava-v1.5-7b-Q4_K_M.gguf": "match",
        d + "llava-v1.5-7b-Q6_K.gguf": "match",
        d + "llava-v1.5-7b-Q8_0/llava-v1.5-7b-Q8_0-00001-of-00002.gguf": "match",
    }
    status = {str(f.path.relative_to(hub)): f.status for f in result.files}
    assert status[d + "llava-v1.5-7b-Q8_0/llava-v1.5-7b-Q8_0-00002-of-00002.gguf"] == Status.SHARD


def test_git_lfs_pointer_is_a_distinct_finding_and_fails_the_scan(hub: Path, db) -> None:  # type: ignore[no-untyped-def]
    res = scan([hub / "bartowski" / "llava-v1.5-7b-GGUF"], recursive=True, db=db)
    lfs = [f for f in res.files if f.path.name == "llava-v1.5-7b-Q2_K.gguf"]
    assert [f.status for f in lfs] == [Status.LFS_POINTER]
    codes = [(f.rule, Path(f.file or "").name) for n in res.notes for f in n.findings]
    assert ("MM090", "llava-v1.5-7b-Q2_K.gguf") in codes
    assert res.fails(FailOn.mismatch)
    # the rest of the folder is still paired
    assert len(res.chosen()) == 3


def test_unreadable_file_becomes_a_note_not_a_crash(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    notes = {(f.rule, Path(f.file or "").name) for n in result.notes for f in n.findings}
    assert ("MM091", "broken.gguf") in notes


def test_vision_named_projector_is_classified_by_content(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    d = "community/Qwen2-VL-2B-Instruct/"
    assert _m(result, hub)[d + "qwen2vl-2b-vision-f16.gguf"] == {d + "Qwen2-VL-2B-Instruct-Q4_K_M.gguf": "match"}


def test_unsloth_precisions_choose_f16_and_report_the_ambiguity(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    d = "unsloth/llava-1.5-7b-hf-GGUF/"
    assert _chosen(result, hub)[d + "llava-1.5-7b-hf-Q4_K_M.gguf"] == "mmproj-F16.gguf"
    notes = [f for n in result.notes for f in n.findings if f.rule == "MM094" and "mmproj-F16.gguf" in (f.file or "")]
    assert len(notes) == 1
    assert "mmproj-BF16.gguf" in notes[0].message and "mmproj-F32.gguf" in notes[0].message


def test_mradermacher_closest_precision_wins_and_i1_repo_has_no_projector(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    chosen = _chosen(result, hub)
    assert chosen["mradermacher/llava-v1.5-13b-GGUF/llava-v1.5-13b.Q4_K_M.gguf"] == "llava-v1.5-13b.mmproj-Q8_0.gguf"
    assert chosen["mradermacher/llava-v1.5-13b-GGUF/llava-v1.5-13b.f16.gguf"] == "llava-v1.5-13b.mmproj-f16.gguf"
    lonely = _rel(result.models_without_projector(), hub)
    assert "mradermacher/llava-v1.5-13b-i1-GGUF/llava-v1.5-13b.i1-Q4_K_M.gguf" in lonely
    excluded = _rel(result.paths(Status.EXCLUDED), hub)
    assert excluded == {"mradermacher/llava-v1.5-13b-i1-GGUF/llava-v1.5-13b.imatrix.gguf"}


def test_lmstudio_renamed_projector(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    d = "lmstudio-community/llava-v1.5-13b-GGUF/"
    assert _chosen(result, hub)[d + "llava-v1.5-13b-Q4_K_M.gguf"] == "mmproj-model-f16.gguf"


def test_text_only_model_orphan_projector_and_mixup(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    lonely = _rel(result.models_without_projector(), hub)
    assert lonely == {
        "bartowski/Mistral-7B-Instruct-v0.2-GGUF/Mistral-7B-Instruct-v0.2-Q4_K_M.gguf",
        "mradermacher/llava-v1.5-13b-i1-GGUF/llava-v1.5-13b.i1-Q4_K_M.gguf",
        "user-mixup/Mistral-7B-Instruct-v0.2-Q4_K_M.gguf",
    }
    orphans = _rel(result.projectors_without_model(), hub)
    assert orphans == {"koboldcpp/mmproj/mistral-7b-mmproj-v1.5-Q4_1.gguf", "user-mixup/mmproj-mistral-7b-f16.gguf"}
    by_rule: dict[str, set[str]] = {}
    for n in result.notes:
        for f in n.findings:
            by_rule.setdefault(f.rule, set()).add(str(Path(f.file or "").relative_to(hub)))
    assert by_rule["MM093"] == {"koboldcpp/mmproj/mistral-7b-mmproj-v1.5-Q4_1.gguf"}
    assert by_rule["MM092"] == {"user-mixup/mmproj-mistral-7b-f16.gguf"}
    assert by_rule["MM095"] == {"user-mixup/Mistral-7B-Instruct-v0.2-Q4_K_M.gguf"}  # not the text-only model
    assert _m(result, hub)["user-mixup/mmproj-mistral-7b-f16.gguf"] == {
        "user-mixup/Mistral-7B-Instruct-v0.2-Q4_K_M.gguf": Verdict.LIKELY_GARBAGE.value
    }


@pytest.mark.parametrize(
    ("folder", "fails_default", "fails_unknown"),
    [
        ("ggml-org", False, False),
        ("unsloth", False, False),
        ("koboldcpp", False, True),  # a projector with nothing to check is `unknown`
        ("user-mixup", True, True),
        ("bartowski/Mistral-7B-Instruct-v0.2-GGUF", False, False),  # text-only models never fail
    ],
)
def test_fail_on(hub: Path, db, folder: str, fails_default: bool, fails_unknown: bool) -> None:  # type: ignore[no-untyped-def]
    res = scan([hub / folder], recursive=True, db=db)
    assert res.fails(FailOn.likely_garbage) is fails_default
    assert res.fails(FailOn.unknown) is fails_unknown


def test_a_file_brings_its_folder_mates_like_the_pre_commit_hook(hub: Path, db) -> None:  # type: ignore[no-untyped-def]
    d = hub / "ggml-org" / "llava-1.5-GGUF"
    files = discover([d / "mmproj-llava-v1.5-F16.gguf"])
    assert {f.name for f in files} == {p.name for p in d.iterdir()}
    res = scan([d / "mmproj-llava-v1.5-F16.gguf"], db=db)
    assert len(res.pairs) == 4


def test_non_recursive_scan_stays_in_the_folder(hub: Path, db) -> None:  # type: ignore[no-untyped-def]
    res = scan([hub / "bartowski" / "llava-v1.5-7b-GGUF"], db=db)
    assert not any("00001-of" in str(f.path) for f in res.files)
    assert len(res.chosen()) == 2


def test_parallel_and_serial_reads_agree(hub: Path, db) -> None:  # type: ignore[no-untyped-def]
    a = scan([hub], recursive=True, db=db, jobs=1)
    b = scan([hub], recursive=True, db=db, jobs=4)
    assert a.to_dict() == b.to_dict()


def test_a_projector_s_own_findings_are_computed_once_and_are_the_same(
    hub: Path, db, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A scan runs projector-scope and text-scope rules once per file (``pair.evaluate``'s memo):
    the same reports as evaluating each pair on its own, and one call per file."""
    from mmcheck import rules as rules_mod
    from mmcheck.pair import evaluate
    from mmcheck.rules import Options, resolve

    folder = hub / "ggml-org" / "llava-1.5-GGUF"
    memo = scan([folder], db=db)
    assert len(memo.pairs) >= 4  # each projector is checked against two models
    for c in memo.pairs:  # differential: every pair evaluated without the memo
        alone = evaluate(c.report.model, c.report.mmproj, db, resolve(), Options(), smoke=False,
                         strict=False)  # fmt: skip
        assert alone.findings == c.report.findings and alone.verdict == c.report.verdict

    calls: dict[str, list[str]] = {"MM502": [], "MM702": []}
    for code, seen in calls.items():
        rule = rules_mod.RULES[code]

        def counting(ctx, check=rule.check, seen=seen, slot="mmproj" if code == "MM502" else "model"):  # type: ignore[no-untyped-def]
            seen.append(str(getattr(ctx, slot).path))
            return check(ctx)

        monkeypatch.setitem(rules_mod.RULES, code, rule._replace(check=counting))
    counted = scan([folder], db=db)
    projectors = {str(c.mmproj) for c in counted.pairs}
    models = {str(c.model) for c in counted.pairs}
    assert sorted(calls["MM502"]) == sorted(projectors)  # once per projector, not once per pair
    assert sorted(calls["MM702"]) == sorted(models)


def test_json_is_serialisable_and_complete(result, hub: Path) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["schema_version"] == 2
    assert len(doc["files"]) == 29
    assert {p["verdict"] for p in doc["pairs"]} == {"match", "mismatch", "likely-garbage"}


def test_suggest_ranks_fitting_projectors_best_first(hub: Path, db) -> None:  # type: ignore[no-untyped-def]
    model = hub / "unsloth" / "llava-1.5-7b-hf-GGUF" / "llava-1.5-7b-hf-Q4_K_M.gguf"
    ranked = suggest(model, [hub], recursive=True, db=db)
    names = [Path(r.mmproj_path or "").name for r in ranked]
    assert names[0] == "mmproj-F16.gguf"  # same folder, no BF16 warning, closest precision
    assert "mmproj-llava-v1.5-F16.gguf" not in names  # the 13B projector does not fit
    assert all(r.ok for r in ranked)
    assert "mmproj-llava-v1.5-Q8_0.gguf" in names  # the look-alike 7B one does, from another folder
    everything = suggest(model, [hub], recursive=True, db=db, include_all=True)
    assert len(everything) > len(ranked) and not everything[-1].ok


def test_suggest_for_a_projector_ranks_text_models(hub: Path, db) -> None:  # type: ignore[no-untyped-def]
    proj = hub / "koboldcpp" / "mmproj" / "mistral-7b-mmproj-v1.5-Q4_1.gguf"
    ranked = suggest(proj, [hub], recursive=True, db=db)
    assert ranked and all("7b" in Path(r.model_path).name.lower() for r in ranked)
    assert all("Mistral" not in r.model_path for r in ranked)


def test_cli_scan_exit_codes_and_formats(hub: Path) -> None:
    bad = run_cli("scan", hub, "-r", "--format", "json")
    assert bad.code == 1, bad.err
    assert json.loads(bad.out)["schema_version"] == 2
    good = run_cli("scan", hub / "ggml-org", "-r")
    assert good.code == 0, good.err
    assert "mmproj-llava-v1.5-Q8_0.gguf" in good.out and "match" in good.out
    assert run_cli("scan", hub, "-r", "--exit-zero").code == 0
    assert run_cli("scan", hub / "koboldcpp", "-r", "--fail-on", "unknown").code == 1
    missing = run_cli("scan", hub / "no-such-folder")
    assert missing.code == 2 and "no such file" in missing.err


def test_cli_suggest(hub: Path) -> None:
    model = hub / "ggml-org" / "llava-1.5-GGUF" / "llava-v1.5-7b-Q4_K_M.gguf"
    r = run_cli("suggest", model)
    assert r.code == 0, r.err
    assert "mmproj-llava-v1.5-Q8_0.gguf" in r.out and "mmproj-llava-v1.5-F16.gguf" not in r.out
    lonely = hub / "bartowski" / "Mistral-7B-Instruct-v0.2-GGUF" / "Mistral-7B-Instruct-v0.2-Q4_K_M.gguf"
    assert run_cli("suggest", lonely).code == 1
    assert run_cli("suggest", hub / "community" / "Qwen2-VL-2B-Instruct" / "broken.gguf").code == 2


def test_integration_files_are_wired_to_scan() -> None:
    import re

    import yaml

    root = Path(__file__).resolve().parents[1]
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert {"id", "name", "entry", "language"} <= set(hook) and hook["entry"] == "mmcheck scan"
    assert re.search(hook["files"], "models/mmproj-F16.gguf") and not re.search(hook["files"], "README.md")
    action = yaml.safe_load((root / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"path", "fail-on", "format", "upload-sarif"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    assert any("mmcheck scan" in s.get("run", "") for s in steps)
