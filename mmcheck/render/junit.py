"""JUnit XML: ``<testsuites name="mmcheck">``, a ``<testsuite>`` per pair (or file), a ``<testcase
classname="mmcheck" name="MM101">`` per rule run, with ``<failure>`` when the rule fired with error or
warning severity. Info findings go to the test case's ``<system-out>``; smoke-test rules are
``<skipped>`` when the smoke test did not run; an unreadable file is an ``<error>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mmcheck.render.formats import display_path, full_message, pair_label, repo_root, rules_run
from mmcheck.rules.base import Severity

if TYPE_CHECKING:
    from mmcheck.pair import Report

_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_BAD.sub("?", text)


def _suite(report: Report, root: Path) -> ET.Element:
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
        smoke_ran = report.smoke is not None
        for code in rules_run(report):
            tests += 1
            case = ET.SubElement(suite, "testcase", classname="mmcheck", name=code)
            fired = [f for f in report.findings if f.rule == code]
            loud = [f for f in fired if f.severity != Severity.INFO]
            if loud:
                failures += 1
                fail = ET.SubElement(case, "failure", message=_clean(loud[0].message), type=loud[0].severity.value)
                fail.text = _clean("\n".join(f"{f.severity.value}: {full_message(f)}" for f in fired))
            elif fired:
                ET.SubElement(case, "system-out").text = _clean("\n".join(full_message(f) for f in fired))
            elif code.startswith("MM8") and not smoke_ran:
                skipped += 1
                ET.SubElement(case, "skipped", message="smoke test not run")
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", skipped)):
        suite.set(key, str(value))
    return suite


def render_junit(reports: Sequence[Report], *, root: Path | None = None) -> str:
    """The JUnit XML document for ``reports``."""
    root = root or repo_root()
    top = ET.Element("testsuites", name="mmcheck")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for report in reports:
        suite = _suite(report, root)
        top.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        top.set(key, str(value))
    ET.indent(top)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode")
