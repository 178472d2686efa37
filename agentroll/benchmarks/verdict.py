"""A row of ``make bench``'s goals table: a goal, its target, what was measured, pass or fail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """One goal as measured in this run; ``passed`` None when it was not measured."""

    goal: str
    target: str
    measured: str
    passed: bool | None

    def row(self) -> list[str]:
        """The row as printed."""
        return [self.goal, self.target, self.measured, {True: "pass", False: "FAIL", None: "-"}[self.passed]]
