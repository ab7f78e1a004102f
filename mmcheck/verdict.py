"""From findings to a verdict, and from a verdict to an exit code."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from mmcheck.evidence import weigh
from mmcheck.rules.base import Finding, Severity


class Verdict(str, Enum):
    """The four verdicts, best first."""

    MATCH = "match"
    UNKNOWN = "unknown"
    LIKELY_GARBAGE = "likely-garbage"
    MISMATCH = "mismatch"

    @property
    def rank(self) -> int:
        """0 for match ... 3 for mismatch."""
        return list(Verdict).index(self)


class FailOn(str, Enum):
    """``--fail-on``: the verdict (or ``warning``) from which the exit code is 1."""

    mismatch = "mismatch"
    likely_garbage = "likely-garbage"
    unknown = "unknown"
    warning = "warning"


def decide(findings: Iterable[Finding]) -> Verdict:
    """The verdict the findings' evidence adds up to (policy: :mod:`mmcheck.evidence`).

    ``mismatch`` on certain evidence against; ``likely-garbage`` on strong evidence against and
    none for; ``match`` on strong evidence for and none against; otherwise ``unknown`` (including
    strong evidence both ways). Weak evidence never decides.
    """
    balance = weigh(f.evidence for f in findings)
    if balance.certain_against:
        return Verdict.MISMATCH
    if balance.conflict:
        return Verdict.UNKNOWN
    if balance.strong_against:
        return Verdict.LIKELY_GARBAGE
    if balance.strong_for:
        return Verdict.MATCH
    return Verdict.UNKNOWN


def fails(verdict: Verdict, findings: Iterable[Finding], fail_on: FailOn) -> bool:
    """Whether a pair's result should exit 1 under ``fail_on``."""
    if fail_on == FailOn.warning:
        return verdict != Verdict.MATCH or any(f.severity != Severity.INFO for f in findings)
    return verdict.rank >= Verdict(fail_on.value).rank


def lint_fails(findings: Iterable[Finding], fail_on: FailOn) -> bool:
    """Whether a single file's result (``lint``, ``inspect``) should exit 1 under ``fail_on``.

    A file alone has no verdict (there is nothing to match it with): it fails on an error finding,
    whatever the threshold, and with ``--fail-on warning`` on a warning too. Info findings never fail.
    """
    loud = {Severity.ERROR, Severity.WARNING} if fail_on == FailOn.warning else {Severity.ERROR}
    return any(f.severity in loud for f in findings)


def lint_status(findings: Iterable[Finding]) -> str:
    """``error``, ``warning`` or ``ok``: the worst severity among a single file's findings."""
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return "error"
    return "warning" if Severity.WARNING in severities else "ok"
