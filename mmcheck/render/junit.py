"""JUnit XML: ``<testsuites name="mmcheck">``, a ``<testsuite>`` per pair (or file), a ``<testcase
classname="mmcheck" name="MM101">`` per rule run, and a ``verdict`` test case. Failures match the exit
code: when the report fails ``--fail-on``, the ``verdict`` case fails, and so does every rule whose
finding is an error (or a warning, with ``--fail-on warning``); when it passes, nothing fails and the
findings go to ``<system-out>``. Smoke-test rules are ``<skipped>`` when the smoke test did not run;
an unreadable file is an ``<error>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mmcheck.errors import printable
from mmcheck.render.formats import display_path, full_message, pair_label, repo_root, rules_run
from mmcheck.rules.base import Finding, Severity
from mmcheck.verdict import FailOn

if TYPE_CHECKING:
    from mmcheck.pair import Report
    from mmcheck.render import RenderContext

_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_BAD.sub("?", printable(text))


def _suite(report: Report, root: Path, fail_on: FailOn) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(pair_label(report, root)))
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="verdict", value=report.verdict.value)
    ET.SubElement(props, "property", name="model", value=_clean(display_path(report.model_path, root)))
    if report.mmproj_path is not None:
        ET.SubElement(props, "property", name="mmproj", value=_clean(display_path(report.mmproj_path, root)))
    tests = failures = errors = skipped = 0
    if report.error is not None and not report.findings:
        case = ET.SubElement(suite, "testcase", classname="mmcheck", name="read")
        ET.SubElement(case, "error", message=_clean(report.error), type="unreadable").text = _clean(
            f"{report.error_path}: {report.error}"
        )
        tests, errors = 1, 1
    else:
        failing = report.fails(fail_on)
        loud = {Severity.ERROR, Severity.WARNING} if fail_on == FailOn.warning else {Severity.ERROR}
        # the verdict (or, for one file, its status) is a test case of its own: it fails exactly
        # when the run's exit code does
        tests += 1
        case = ET.SubElement(suite, "testcase", classname="mmcheck", name="verdict")
        outcome = report.lint_status() if report.single_file else report.verdict.value
        if failing:
            failures += 1
            ET.SubElement(case, "failure", message=_clean(f"{outcome}: {report.basis}"), type=outcome)
        else:
            ET.SubElement(case, "system-out").text = _clean(f"{outcome} (passes --fail-on {fail_on.value})")
        smoke_ran = report.smoke is not None
        for code in rules_run(report):
            tests += 1
            case = ET.SubElement(suite, "testcase", classname="mmcheck", name=code)
            fired = [f for f in report.findings if f.rule == code]
            failed = [f for f in fired if failing and _fails(f, loud)]
            if failed:
                failures += 1
                fail = ET.SubElement(case, "failure", message=_clean(failed[0].message), type=failed[0].severity.value)
                fail.text = _clean("\n".join(f"{f.severity.value}: {full_message(f)}" for f in fired))
            elif fired:
                ET.SubElement(case, "system-out").text = _clean(
                    "\n".join(f"{f.severity.value}: {full_message(f)}" for f in fired)
                )
            elif code.startswith("MM8") and not smoke_ran:
                skipped += 1
                ET.SubElement(case, "skipped", message="smoke test not run")
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", skipped)):
        suite.set(key, str(value))
    return suite


def _fails(finding: Finding, loud: set[Severity]) -> bool:
    return finding.severity in loud


def render(reports: Sequence[Report], context: RenderContext) -> str:
    """JUnit XML; a finding is a ``<failure>`` only when it makes the run fail under ``--fail-on``."""
    return render_junit(reports, root=context.root, fail_on=context.fail_on)


def render_junit(
    reports: Sequence[Report], *, root: Path | None = None, fail_on: FailOn = FailOn.likely_garbage
) -> str:
    """The JUnit XML document for ``reports``."""
    root = root or repo_root()
    top = ET.Element("testsuites", name="mmcheck")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for report in reports:
        suite = _suite(report, root, fail_on)
        top.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        top.set(key, str(value))
    ET.indent(top)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode")
