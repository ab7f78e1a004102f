"""SARIF (validated against the official 2.1.0 schema), GitHub annotations and JUnit, parsed back."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from mmcheck.pair import Report, check_pair
from mmcheck.render import Format, RenderContext, render
from mmcheck.render.formats import repo_root, uri
from mmcheck.render.github import render_github, step_summary
from mmcheck.render.junit import render_junit
from mmcheck.render.sarif import render_sarif
from mmcheck.rules import RULES
from mmcheck.rules.base import Finding, Severity
from mmcheck.scan import scan
from mmcheck.verdict import FailOn, Verdict
from tests.cli_helpers import run_cli
from tests.hub_tree import build_hub

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mmcheck.db import load_db

    return build_hub(tmp_path_factory.mktemp("fmt") / "hub", load_db(), tmp_path_factory.getbasetemp() / "hub-unique")


@pytest.fixture(scope="module")
def reports(hub: Path, db) -> list[Report]:  # type: ignore[no-untyped-def]
    """Pair reports with errors, warnings and infos, plus the scanner's notes (LFS, unreadable)."""
    return scan([hub], recursive=True, db=db).reports()


def _validate(doc: dict) -> None:  # type: ignore[type-arg]
    jsonschema.Draft4Validator(SCHEMA).validate(doc)


def _tricky_report(root: Path) -> Report:
    """A report whose message and path need every escape the formats define."""
    f = Finding(
        "MM101",
        "projector-width-mismatch",
        Severity.ERROR,
        "100% wrong: outputs 4096,\nexpects 5120\r",
        "use the 13B projector",
        RULES["MM101"].evidence,
        str(root / "dir, with: odd" / "mmproj 100%.gguf"),
    )
    w = Finding("MM201", "marker-token-missing", Severity.WARNING, "no <image> token", "", None, None)
    i = Finding("MM007", "header-only-file", Severity.INFO, "header-only \x01 file", "", None, None)
    return Report(
        Verdict.MISMATCH, [f, w, i], str(root / "model.gguf"), str(root / "dir, with: odd" / "mmproj 100%.gguf")
    )


# ------------------------------------------------------------------------------------------------
# SARIF
# ------------------------------------------------------------------------------------------------


def test_sarif_of_a_scan_validates_and_meets_github_requirements(reports: list[Report], hub: Path) -> None:
    root = hub.parent
    doc = json.loads(render_sarif(reports, root=root, properties={"scan": {"n": 1}}))
    _validate(doc)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "mmcheck"
    for r in rules:
        for key in ("shortDescription", "fullDescription", "help"):
            assert r[key]["text"].strip(), (r["id"], key)
        assert r["defaultConfiguration"]["level"] in ("note", "warning", "error")
    results = run["results"]
    assert results
    rule_ids = {res["ruleId"] for res in results}
    assert {"MM090", "MM091", "MM092", "MM303"} <= rule_ids
    # a 4B projector against the 12B model beside it is in the matrix, not an error in the repo
    errors = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results if r["level"] == "error"
    ]
    assert errors and not any(u.startswith(("hub/ggml-org/", "hub/unsloth/")) for u in errors)
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("note", "warning", "error") and res["message"]["text"].strip()
        loc = res["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith(("/", "file:")), loc
        assert (root / loc["artifactLocation"]["uri"]).exists()
        assert loc["region"] == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
    fingerprints = [res["partialFingerprints"]["mmcheck/v1"] for res in results]
    assert len(set(fingerprints)) == len(fingerprints)
    assert run["properties"]["verdict"] == "mismatch"
    assert run["properties"]["scan"] == {"n": 1}
    assert {p["verdict"] for p in run["properties"]["pairs"]} >= {"match", "likely-garbage"}


def test_sarif_levels_follow_severities(reports: list[Report], hub: Path) -> None:
    doc = json.loads(render_sarif(reports, root=hub.parent))
    want = {"error": "error", "warning": "warning", "info": "note"}
    table = RULES
    for res in doc["runs"][0]["results"]:
        assert res["level"] == want[table[res["ruleId"]].severity.value]


def test_sarif_rules_come_from_the_registry(hub: Path) -> None:
    doc = json.loads(render_sarif([], root=hub.parent))
    _validate(doc)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert set(RULES) <= set(rules)
    for code, rule in RULES.items():
        assert rules[code]["name"] == rule.name
        assert rules[code]["shortDescription"]["text"] == rule.summary


def test_sarif_escapes_paths_and_keeps_fingerprints_stable(tmp_path: Path) -> None:
    report = _tricky_report(tmp_path)
    a = json.loads(render_sarif([report], root=tmp_path))
    b = json.loads(render_sarif([report], root=tmp_path))
    _validate(a)
    assert a == b
    uris = [res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for res in a["runs"][0]["results"]]
    assert uris[0] == "dir%2C%20with%3A%20odd/mmproj%20100%25.gguf"
    assert " " not in "".join(uris)


def test_uri_outside_the_root_is_an_absolute_file_uri(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    assert uri(tmp_path / "elsewhere" / "m.gguf", tmp_path / "repo").startswith("file:///")
    assert uri(tmp_path / "repo" / "a b.gguf", tmp_path / "repo") == "a%20b.gguf"


def test_repo_root_is_the_git_toplevel(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "models" / "sub").mkdir(parents=True)
    assert repo_root(tmp_path / "models" / "sub") == tmp_path
    (tmp_path / ".git").rmdir()
    assert repo_root(tmp_path / "models" / "sub") == tmp_path / "models" / "sub"


def test_cli_pair_and_lint_sarif_validate(hub: Path) -> None:
    d = hub / "user-mixup"
    model, mmproj = d / "Mistral-7B-Instruct-v0.2-Q4_K_M.gguf", d / "mmproj-mistral-7b-f16.gguf"
    r = run_cli("pair", model, mmproj, "--format", "sarif", "--no-smoke", cwd=hub.parent)
    assert r.code == 1, r.err
    doc = json.loads(r.out)
    _validate(doc)
    assert doc["runs"][0]["properties"]["verdict"] == "likely-garbage"
    assert any(res["ruleId"] == "MM303" for res in doc["runs"][0]["results"])
    lint = run_cli("lint", d / "mmproj-mistral-7b-f16.gguf", "--format", "sarif", cwd=hub.parent)
    _validate(json.loads(lint.out))


def test_cli_scan_writes_sarif_to_a_file(hub: Path, tmp_path: Path) -> None:
    out = tmp_path / "mmcheck.sarif"
    r = run_cli("scan", "hub", "-r", "--format", "sarif", "-o", out, cwd=hub.parent)
    assert r.code == 1 and r.out == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    _validate(doc)
    assert "matrix" in doc["runs"][0]["properties"]["scan"]


# ------------------------------------------------------------------------------------------------
# GitHub workflow commands
# ------------------------------------------------------------------------------------------------

_COMMAND = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_annotations(text: str) -> list[tuple[str, dict[str, str], str]]:
    """(kind, properties, message) for each annotation; checks groups are balanced."""
    out = []
    depth = 0
    for line in text.splitlines():
        if line.startswith("::group::"):
            assert depth == 0
            depth += 1
        elif line == "::endgroup::":
            assert depth == 1
            depth -= 1
        elif line.startswith("::"):
            m = _COMMAND.match(line)
            assert m, line
            props = dict(p.split("=", 1) for p in m.group(2).split(","))
            out.append((m.group(1), {k: _unescape(v) for k, v in props.items()}, _unescape(m.group(3))))
    assert depth == 0
    return out


def test_github_annotations_round_trip_with_escapes(tmp_path: Path) -> None:
    report = _tricky_report(tmp_path)
    parsed = parse_annotations(render_github([report], root=tmp_path))
    assert [k for k, _, _ in parsed] == ["error", "warning", "notice"]
    _, props, msg = parsed[0]
    assert props["file"] == "dir, with: odd/mmproj 100%.gguf"
    assert props["line"] == "1" and props["endLine"] == "1" and props["col"] == "1"
    assert props["title"] == "MM101 projector-width-mismatch"
    assert msg.startswith("100% wrong: outputs 4096,\nexpects 5120\r — use the 13B projector")
    assert parsed[1][1]["file"] == "dir, with: odd/mmproj 100%.gguf"  # a pair finding is put on the projector


def test_github_format_of_a_scan(reports: list[Report], hub: Path) -> None:
    text = render_github(reports, root=hub.parent)
    parsed = parse_annotations(text)
    kinds = {(k, p["title"].split()[0]) for k, p, _ in parsed}
    assert ("error", "MM090") in kinds and ("error", "MM303") in kinds and ("notice", "MM093") in kinds
    assert all(not p["file"].startswith("/") for _, p, _ in parsed)
    assert text.splitlines()[-1].startswith("mmcheck: ")


def test_github_step_summary_is_appended_by_the_cli_not_the_reporter(
    reports: list[Report], hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    render(Format.github, reports, RenderContext(command="scan", root=hub.parent))
    assert summary.read_text() == "previous step\n"  # reporters only return text
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    for _ in range(2):
        run_cli("scan", "hub", "-r", "--format", "github", cwd=hub.parent, env=env)
    text = summary.read_text()
    assert text.startswith("previous step\n") and text.count("## mmcheck") == 2
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 2 * len(reports)
    assert "likely-garbage" in step_summary(reports)


def test_format_auto_is_github_under_actions(hub: Path, tmp_path: Path) -> None:
    import os

    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    r = run_cli("scan", "hub/user-mixup", "--format", "auto", cwd=hub.parent, env=env)
    assert r.code == 1
    parsed = parse_annotations(r.out)
    assert ("error", "MM303") in {(k, p["title"].split()[0]) for k, p, _ in parsed}
    assert "## mmcheck" in (tmp_path / "s.md").read_text()


# ------------------------------------------------------------------------------------------------
# JUnit
# ------------------------------------------------------------------------------------------------


def test_junit_parses_back_with_consistent_counts(reports: list[Report], hub: Path) -> None:
    root = ET.fromstring(render_junit(reports, root=hub.parent).encode())
    assert root.tag == "testsuites" and root.get("name") == "mmcheck"
    suites = root.findall("testsuite")
    assert len(suites) == len(reports)
    total = 0
    for suite, report in zip(suites, reports, strict=True):
        cases = suite.findall("testcase")
        total += len(cases)
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
        assert all(c.get("classname") == "mmcheck" for c in cases)
        props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
        assert props["verdict"] == report.verdict.value
        # a failure exactly when the report fails the default --fail-on (the exit code), never for
        # warnings or infos of a passing report
        failing = report.fails(FailOn.likely_garbage)
        errors = {f.rule for f in report.findings if f.severity == Severity.ERROR}
        failed = {c.get("name") for c in cases if c.find("failure") is not None}
        assert failed == ({"verdict"} | errors if failing else set())
    assert int(root.get("tests", "-1")) == total


def test_junit_pair_suite_has_a_case_per_rule_and_skips_smoke(hub: Path, db) -> None:  # type: ignore[no-untyped-def]
    d = hub / "user-mixup"
    report = check_pair(
        d / "Mistral-7B-Instruct-v0.2-Q4_K_M.gguf", d / "mmproj-mistral-7b-f16.gguf", smoke=False, db=db
    )
    suite = ET.fromstring(render_junit([report], root=hub.parent).encode()).find("testsuite")
    assert suite is not None
    names = [c.get("name") for c in suite.findall("testcase")]
    assert {code for code, r in RULES.items() if r.scope != "scan"} <= set(names)  # MM09x: scans only
    assert not {code for code, r in RULES.items() if r.scope == "scan"} & set(names)
    by_name = {c.get("name"): c for c in suite.findall("testcase")}
    assert by_name["verdict"].find("failure") is not None
    assert by_name["MM303"].find("failure") is not None
    assert by_name["MM101"].find("failure") is None
    assert by_name["MM801"].find("skipped") is not None


def test_junit_escapes_and_unreadable_pairs(tmp_path: Path, db) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "model.gguf").write_text("<html>not a model</html>")
    broken = check_pair(tmp_path / "model.gguf", tmp_path / "mmproj.gguf", db=db)
    xml = render_junit([_tricky_report(tmp_path), broken], root=tmp_path)
    root = ET.fromstring(xml.encode())
    assert root.get("errors") == "1"
    fail = root.find("testsuite/testcase[@name='MM101']/failure")
    assert fail is not None and "100% wrong" in (fail.get("message") or "")


def test_junit_of_a_passing_scan_has_no_failures(hub: Path, tmp_path: Path, db) -> None:  # type: ignore[no-untyped-def]
    import shutil

    for src in (
        "unsloth/llava-1.5-7b-hf-GGUF/llava-1.5-7b-hf-Q4_K_M.gguf",
        "unsloth/llava-1.5-7b-hf-GGUF/mmproj-F16.gguf",
        "user-mixup/Mistral-7B-Instruct-v0.2-Q4_K_M.gguf",
    ):
        shutil.copy(hub / src, tmp_path)
    result = scan([tmp_path], db=db)  # the projector fits its model; the Mistral model fits nothing (MM095)
    assert not result.fails(FailOn.likely_garbage)
    warned = [f for r in result.reports() for f in r.findings if f.severity == Severity.WARNING]
    root = ET.fromstring(render_junit(result.reports(), root=hub.parent).encode())
    assert root.get("failures") == "0"
    assert warned, "the folder must give warnings for this test to mean something"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="xml"):
        Format("xml")
