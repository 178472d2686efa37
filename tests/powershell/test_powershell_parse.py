"""Every shipped PowerShell script parses, but for the reviewed grammar gaps (ps_grammar_gaps.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ps_grammar_gaps import (
    BAREWORD_LIST_ARGUMENT,
    KNOWN_GAPS,
    NUMERIC_MULTIPLIER,
    KnownGap,
    gaps_of,
    spans,
    with_stand_ins,
)
from ps_syntax import REPO_ROOT, SyntaxProblem, shipped_scripts, syntax_problems

SCRIPTS = shipped_scripts()
PROBE = "plugins/modules/win_agentroll_probe.ps1"


def unexplained(path: str, source: str) -> list[str]:
    """What the grammar objects to in ``source`` that no reviewed gap of ``path`` explains."""
    gaps = gaps_of(path)
    missing = [
        f"{gap.construct!r} is not in the file any more" for gap in gaps if gap.construct not in source
    ]
    explained = [span for gap in gaps for span in spans(source, gap)]

    def covered(problem: SyntaxProblem) -> bool:
        return any(start < problem.end and problem.start < end for start, end in explained)

    direct = [str(p) for p in syntax_problems(source.encode()) if not p.missing and not covered(p)]
    # MISSING tokens are the grammar's repairs after an error; they must vanish with the stand-ins.
    left = [str(p) for p in syntax_problems(with_stand_ins(source, gaps).encode())]
    return missing + direct + [f"with the stand-ins of the reviewed gaps: {p}" for p in left]


def test_the_scripts_that_run_on_the_pcs_are_all_found() -> None:
    assert {PROBE, "scripts/windows/Enable-AgentrollWinRM.ps1"} <= {path.as_posix() for path in SCRIPTS}


@pytest.mark.parametrize("path", SCRIPTS, ids=str)
def test_script_parses_but_for_its_reviewed_grammar_gaps(path: Path) -> None:
    source = (REPO_ROOT / path).read_text(encoding="utf-8")
    assert unexplained(path.as_posix(), source) == []


@pytest.mark.parametrize("gap", KNOWN_GAPS, ids=lambda gap: f"{gap.path}: {gap.construct}")
def test_every_reviewed_gap_is_still_one(gap: KnownGap) -> None:
    """The grammar still flags the construct: without its stand-in, the file does not parse cleanly."""
    source = (REPO_ROOT / gap.path).read_text(encoding="utf-8")
    others = [other for other in gaps_of(gap.path) if other != gap]
    assert syntax_problems(with_stand_ins(source, others).encode()), (
        "the grammar parses it now: drop the entry"
    )


def test_a_real_syntax_error_is_not_excused_by_the_gaps() -> None:
    """A brace lost from the probe is reported, though the file has reviewed gaps."""
    source = (REPO_ROOT / PROBE).read_text(encoding="utf-8")
    broken = source.replace("    return @{ reasons = $reasons; pending_name = $pendingName }\n}", "", 1)
    assert broken != source
    assert any(
        "missing token" in problem or "cannot parse" in problem for problem in unexplained(PROBE, broken)
    )


def test_powershell_7_syntax_is_an_error() -> None:
    """The null-coalescing operator (PowerShell 7) does not parse."""
    assert syntax_problems(b"$value = $a ?? 'default'\n")


def test_a_changed_construct_is_no_longer_excused() -> None:
    """Reordering a reviewed argument list makes its entry stale and the new text unexplained."""
    source = (REPO_ROOT / PROBE).read_text(encoding="utf-8")
    problems = unexplained(PROBE, source.replace("-Property Size, FreeSpace", "-Property FreeSpace, Size"))
    assert "'-Property Size, FreeSpace' is not in the file any more" in problems
    assert any("cannot parse ', Size" in problem for problem in problems)


def test_stand_ins_keep_the_meaning_of_a_bareword_list() -> None:
    assert BAREWORD_LIST_ARGUMENT.stand_in("-Property Name, State") == "-Property 'Name', 'State'"


def test_stand_ins_keep_the_value_of_a_numeric_multiplier() -> None:
    assert NUMERIC_MULTIPLIER.stand_in("$x / 1MB + 1.5KB") == "$x / 1048576 + 1536"
