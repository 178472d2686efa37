"""Every command the shipped PowerShell runs is a documented Windows PowerShell 5.1 cmdlet or its own
function: no aliases, nothing from PowerShell 7, nothing unknown (ps_commands.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ps_commands import ALLOWED, command_problem
from ps_grammar_gaps import gaps_of, with_stand_ins
from ps_syntax import REPO_ROOT, commands, defined_functions, pipeline_chains, shipped_scripts


def command_problems(path: str, source: str) -> list[str]:
    """Each disallowed command of a script with its line, read with the grammar gaps' stand-ins in."""
    readable = with_stand_ins(source, gaps_of(path)).encode()
    local = defined_functions(readable)
    problems = [
        f"line {use.line}: {problem}"
        for use in commands(readable)
        if (problem := command_problem(use.name, local)) is not None
    ]
    problems += [
        f"line {line}: && and || chain pipelines only in PowerShell 7" for line in pipeline_chains(readable)
    ]
    return problems


@pytest.mark.parametrize("path", shipped_scripts(), ids=str)
def test_script_uses_only_documented_windows_powershell_cmdlets(path: Path) -> None:
    source = (REPO_ROOT / path).read_text(encoding="utf-8")
    assert command_problems(path.as_posix(), source) == []


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("gci C:\\", "line 1: gci is an alias: write Get-ChildItem"),
        ("Get-Service | % { $_ }", "line 1: % is an alias: write ForEach-Object"),
        (
            "Get-Uptime",
            "line 1: Get-Uptime exists only in PowerShell 6.0 and later, not in Windows PowerShell 5.1",
        ),
        (
            "Invoke-Sqlcmd -Query x",
            "line 1: Invoke-Sqlcmd is not a Windows PowerShell 5.1 cmdlet on the allow-list "
            "(tests/powershell/ps_commands.py)",
        ),
        ("& $command", "line 1: invokes a command through a variable (& $x): the command cannot be checked"),
        ("get-childitem", "line 1: spell get-childitem as documented: Get-ChildItem"),
        (
            "Get-Service WinRM && Start-Service WinRM",
            "line 1: && and || chain pipelines only in PowerShell 7",
        ),
    ],
)
def test_what_the_check_refuses(script: str, problem: str) -> None:
    assert problem in command_problems("inline.ps1", script + "\n")


def test_a_script_may_call_its_own_functions_in_any_case() -> None:
    script = "Function Get-Thing { Get-Date }\nget-thing\n"
    assert command_problems("inline.ps1", script) == []


def test_every_allowed_cmdlet_is_used_by_some_script() -> None:
    """The allow-list stays the list of what the scripts need, not of everything that exists."""
    used = set()
    for path in shipped_scripts():
        used |= {use.name for use in commands((REPO_ROOT / path).read_bytes()) if use.name}
    assert sorted(set(ALLOWED) - used) == []
