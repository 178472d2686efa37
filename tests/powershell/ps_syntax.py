"""The shipped PowerShell, read with the tree-sitter-powershell grammar: syntax errors and commands.

No PowerShell runs on the controller, so this is how the tests see the scripts that run on the
PCs: every ``.ps1``/``.psm1`` of the repository (the unpacked ansible.windows collection and the
virtual environment are not ours), parsed into a syntax tree whose error nodes and command names
the tests check.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser, Tree

REPO_ROOT = Path(__file__).resolve().parents[2]
_PARSER = Parser(Language(tree_sitter_powershell.language()))


def shipped_scripts() -> list[Path]:
    """Every PowerShell script of the repository, as paths relative to its root, sorted.

    Git's view (tracked files and new ones it does not ignore): the unpacked ansible.windows
    collection, the virtual environment and ansible-lint's cache hold PowerShell that is not ours.
    """
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.ps1", "*.psm1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted({Path(line) for line in listed.stdout.splitlines() if (REPO_ROOT / line).is_file()})


def parse(source: bytes) -> Tree:
    """The syntax tree of a script."""
    return _PARSER.parse(source)


@dataclass(frozen=True)
class SyntaxProblem:
    """An ERROR node (text the grammar could not place) or a MISSING one (a token it had to invent)."""

    start: int
    end: int
    line: int
    column: int
    text: str
    missing: bool

    def __str__(self) -> str:
        what = "missing token" if self.missing else f"cannot parse {self.text[:80]!r}"
        return f"line {self.line}, column {self.column}: {what}"


def syntax_problems(source: bytes) -> list[SyntaxProblem]:
    """Every ERROR and MISSING node of the script, in source order."""
    problems = []
    for node in _walk(parse(source).root_node):
        if node.is_error or node.is_missing:
            problems.append(
                SyntaxProblem(
                    start=node.start_byte,
                    end=node.end_byte,
                    line=node.start_point.row + 1,
                    column=node.start_point.column + 1,
                    text=source[node.start_byte : node.end_byte].decode("utf-8", errors="replace"),
                    missing=node.is_missing,
                )
            )
    return problems


@dataclass(frozen=True)
class CommandUse:
    """One command invocation: the name as written (None for ``& $variable``) and where."""

    name: str | None
    line: int


def commands(source: bytes) -> list[CommandUse]:
    """Every command the script invokes, in source order."""
    uses = []
    for node in _walk(parse(source).root_node):
        if node.type != "command":
            continue
        name = node.child_by_field_name("command_name")
        literal = name is not None and name.type == "command_name"
        uses.append(CommandUse(_text(source, name) if literal else None, node.start_point.row + 1))
    return uses


@dataclass(frozen=True)
class CommandSite:
    """A command with the text of its arguments and what encloses it, innermost first: the
    condition of each ``if`` whose then-branch it is in (``"if $LocalAccount"``) and the command
    each script block it is in is an argument of (``"block of Set-Setting"``)."""

    name: str
    line: int
    text: str
    enclosed_by: tuple[str, ...]


def command_sites(source: bytes) -> list[CommandSite]:
    """Every command invoked by name, with its enclosing conditions and blocks."""
    sites = []
    for node in _walk(parse(source).root_node):
        name = node.child_by_field_name("command_name") if node.type == "command" else None
        if name is None or name.type != "command_name":
            continue
        enclosed_by = []
        in_block = False
        child, parent = node, node.parent
        while parent is not None:
            in_block = in_block or parent.type == "script_block_expression"
            if parent.type == "if_statement" and child.type == "statement_block":
                condition = next(c for c in parent.children if c.type == "pipeline")
                enclosed_by.append(f"if {_text(source, condition)}")
            if parent.type == "command" and child.type == "command_elements" and in_block:
                enclosed_by.append(f"block of {_text(source, parent.child_by_field_name('command_name'))}")
                in_block = False
            child, parent = parent, parent.parent
        sites.append(
            CommandSite(
                _text(source, name), node.start_point.row + 1, _text(source, node), tuple(enclosed_by)
            )
        )
    return sites


def defined_functions(source: bytes) -> set[str]:
    """The names of the functions the script defines, lower case (PowerShell ignores case)."""
    names = set()
    for node in _walk(parse(source).root_node):
        if node.type == "function_statement":
            name = next((child for child in node.children if child.type == "function_name"), None)
            if name is not None:
                names.add(_text(source, name).lower())
    return names


def pipeline_chains(source: bytes) -> list[int]:
    """Lines that chain pipelines with ``&&`` or ``||`` (PowerShell 7 only)."""
    return [
        node.start_point.row + 1
        for node in _walk(parse(source).root_node)
        if node.type == "pipeline_chain_tail"
    ]


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _text(source: bytes, node: Node | None) -> str:
    return "" if node is None else source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")
