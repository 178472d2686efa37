"""Valid PowerShell that the tree-sitter-powershell grammar cannot parse: the reviewed list.

Each entry names a file, the exact construct in it, and the kind of gap, which says why the
construct is valid Windows PowerShell 5.1 and gives the same meaning in a form the grammar does
parse (the stand-in). The shipped scripts are never changed to please the grammar: the tests
swap the stand-ins in, in memory, to check that nothing else in the file upsets the grammar and
to read its commands (see ``test_powershell_parse.py``).

An entry is kept only while the grammar still flags it: a test fails on one it no longer needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class GapKind:
    """A kind of construct the grammar gets wrong, why it is valid, and its stand-in."""

    name: str
    why_valid: str
    stand_in: Callable[[str], str]


_MULTIPLIERS = {"KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5}


def _expand_multipliers(text: str) -> str:
    """``1MB`` → ``1048576``: the value PowerShell gives the literal (the grammar reads ``(1MB)``
    as a command named 1MB, so parentheses will not do)."""

    def expand(match: re.Match[str]) -> str:
        value = float(match[1]) * _MULTIPLIERS[match[2]]
        return str(int(value)) if value.is_integer() else str(value)

    return re.sub(r"\b(\d+(?:\.\d+)?)(KB|MB|GB|TB|PB)\b", expand, text)


def _quote_bareword_list(text: str) -> str:
    """``-Property A, B`` → ``-Property 'A', 'B'``: argument mode reads barewords as strings."""
    parameter, _, values = text.partition(" ")
    return parameter + " " + ", ".join(f"'{value.strip()}'" for value in values.split(","))


NUMERIC_MULTIPLIER = GapKind(
    "numeric multiplier after an arithmetic operator",
    "KB, MB, GB, TB and PB are multiplier suffixes of numeric literals (about_Numeric_Literals); "
    "the grammar takes 1MB alone, or 1mb anywhere, but not an upper-case one after / or *",
    _expand_multipliers,
)
BAREWORD_LIST_ARGUMENT = GapKind(
    "comma-separated bareword arguments",
    "in argument mode, A, B is an array of the strings 'A' and 'B' (about_Parsing, about_Arrays), "
    "which is how Get-CimInstance -Property is documented to be called; the grammar parses such "
    "lists when the elements are quoted or variables, not when they are barewords",
    _quote_bareword_list,
)


@dataclass(frozen=True)
class KnownGap:
    """One reviewed construct of one file."""

    path: str
    construct: str
    kind: GapKind


_PROBE = "plugins/modules/win_agentroll_probe.ps1"
_KIT = "agentroll/kit_files/Install-Agent.ps1"

KNOWN_GAPS: tuple[KnownGap, ...] = (
    KnownGap(
        _PROBE,
        "-Property Caption, BuildNumber, ProductType, TotalVisibleMemorySize, SystemDrive",
        BAREWORD_LIST_ARGUMENT,
    ),
    KnownGap(_PROBE, "-Property Name, TotalPhysicalMemory", BAREWORD_LIST_ARGUMENT),
    KnownGap(_PROBE, "-Property Size, FreeSpace", BAREWORD_LIST_ARGUMENT),
    KnownGap(_PROBE, "-Property Name, State, StartMode", BAREWORD_LIST_ARGUMENT),
    KnownGap(_PROBE, "[double]$computer.TotalPhysicalMemory / 1MB", NUMERIC_MULTIPLIER),
    KnownGap(_PROBE, "[double]$os.TotalVisibleMemorySize / 1KB", NUMERIC_MULTIPLIER),
    KnownGap(_PROBE, "[double]$disk.instance.Size / 1MB", NUMERIC_MULTIPLIER),
    KnownGap(_PROBE, "[double]$disk.instance.FreeSpace / 1MB", NUMERIC_MULTIPLIER),
    KnownGap(_KIT, "[double]$computer.TotalPhysicalMemory / 1MB", NUMERIC_MULTIPLIER),
    KnownGap(_KIT, "[double]$disk.Size / 1MB", NUMERIC_MULTIPLIER),
    KnownGap(_KIT, "[double]$disk.FreeSpace / 1MB", NUMERIC_MULTIPLIER),
)


def gaps_of(path: str) -> list[KnownGap]:
    """The reviewed constructs of one file (a path relative to the repository root)."""
    return [gap for gap in KNOWN_GAPS if gap.path == path]


def with_stand_ins(source: str, gaps: list[KnownGap]) -> str:
    """The script with every occurrence of each construct replaced by its stand-in.

    Stand-ins never add a line, so line numbers of what is left stay those of the file.
    """
    for gap in gaps:
        source = source.replace(gap.construct, gap.kind.stand_in(gap.construct))
    return source


def spans(source: str, gap: KnownGap) -> list[tuple[int, int]]:
    """Byte ranges (start, end) of every occurrence of the construct in the UTF-8 source."""
    data, needle = source.encode(), gap.construct.encode()
    found, start = [], data.find(needle)
    while start != -1:
        found.append((start, start + len(needle)))
        start = data.find(needle, start + 1)
    return found
