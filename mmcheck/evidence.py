"""The evidence model: every observation about a pair is evidence *for* or *against* it, with a strength.

A rule (``mmcheck.rules``) is one kind of observation; its registry entry says which direction and
strength its findings carry. The verdict follows from the evidence alone (docs/verdicts.md):

- ``mismatch``: certain evidence against: the runtime refuses the pair or crashes;
- ``likely-garbage``: strong evidence against, and none for;
- ``match``: strong (or certain) evidence for, and none against;
- ``unknown``: otherwise: nothing strong either way, or strong evidence both ways (a conflict).

Weak evidence (a converter-dependent difference such as a pre-tokenizer label, a padded or trimmed
vocabulary, a missing name) is shown, but never decides a verdict on its own.
"""

# No ``from __future__ import annotations``: NamedTuple fields stay cheap to create (docs/architecture.md).
from collections.abc import Iterable
from enum import Enum
from typing import Literal, NamedTuple

Effect = Literal["mismatch", "likely-garbage", "match"]


class Direction(str, Enum):
    """Whether an observation speaks for the pairing or against it."""

    FOR = "for"
    AGAINST = "against"


class Strength(str, Enum):
    """How much an observation weighs."""

    CERTAIN = "certain"  # what the runtime does: it refuses, or it crashes
    STRONG = "strong"  # enough to decide a verdict when nothing speaks the other way
    WEAK = "weak"  # shown, never decisive (converter-dependent details, missing names)


class Evidence(NamedTuple):
    """The direction and strength a rule's findings carry."""

    direction: Direction
    strength: Strength

    @property
    def effect(self) -> Effect | None:
        """The verdict this evidence pushes towards on its own, or None for weak evidence."""
        if self.strength == Strength.WEAK:
            return None
        if self.direction == Direction.FOR:
            return "match"
        return "mismatch" if self.strength == Strength.CERTAIN else "likely-garbage"

    @property
    def label(self) -> str:
        """``strong, against`` and the like."""
        return f"{self.strength.value}, {self.direction.value}"


CERTAIN_AGAINST = Evidence(Direction.AGAINST, Strength.CERTAIN)
STRONG_AGAINST = Evidence(Direction.AGAINST, Strength.STRONG)
WEAK_AGAINST = Evidence(Direction.AGAINST, Strength.WEAK)
STRONG_FOR = Evidence(Direction.FOR, Strength.STRONG)
WEAK_FOR = Evidence(Direction.FOR, Strength.WEAK)


class Balance(NamedTuple):
    """What a set of evidence adds up to."""

    certain_against: bool
    strong_against: bool
    strong_for: bool

    @property
    def conflict(self) -> bool:
        """Strong evidence both ways (and nothing certain): the verdict is ``unknown``."""
        return self.strong_for and self.strong_against and not self.certain_against


def weigh(evidence: Iterable[Evidence | None]) -> Balance:
    """Sum up the evidence of a set of findings (``None`` = a finding that is not evidence)."""
    items = [e for e in evidence if e is not None]
    return Balance(
        certain_against=any(e.direction == Direction.AGAINST and e.strength == Strength.CERTAIN for e in items),
        strong_against=any(e.direction == Direction.AGAINST and e.strength == Strength.STRONG for e in items),
        strong_for=any(e.direction == Direction.FOR and e.strength != Strength.WEAK for e in items),
    )


__all__ = [
    "CERTAIN_AGAINST",
    "STRONG_AGAINST",
    "STRONG_FOR",
    "WEAK_AGAINST",
    "WEAK_FOR",
    "Balance",
    "Direction",
    "Effect",
    "Evidence",
    "Strength",
    "weigh",
]
