"""The README's walk, command by command, as written: every fenced ``sh`` block marked
``<!-- walk -->`` is read from the README itself and each of its lines runs with bash in a fresh
copy of the checkout (its tracked files, the set-up's ``.venv`` and collections), against the
example simulated fleet. A line's trailing comment ``# exit N: why`` is the exit status it
documents (0 otherwise). The README drifting from the code fails this test."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARK = re.compile(r"^<!-- walk\b.*-->$")
COMMENT = re.compile(r"\s+#\s(?P<comment>.*)$")
EXIT = re.compile(r"^exit (?P<status>\d+)\b")
#: The example fleet listens on fixed addresses (127.30.0.x): one walk at a time on this machine.
LOCK = Path("/tmp/agentroll-example-fleet.lock")


def walk_commands(text: str) -> list[tuple[str, int]]:
    """Each command of the marked blocks, in order, with the exit status its comment documents."""
    commands = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not MARK.match(line.strip()):
            continue
        assert lines[index + 1].strip() == "```sh", f"README line {index + 1}: a walk mark must precede ```sh"
        for body in lines[index + 2 :]:
            if body.strip() == "```":
                break
            found = COMMENT.search(body)
            command = body[: found.start()] if found else body
            if not command.strip():
                continue
            documented = EXIT.match(found["comment"]) if found else None
            commands.append((command.strip(), int(documented["status"]) if documented else 0))
    return commands


def test_the_walk_commands_are_read_from_the_readme() -> None:
    text = "<!-- walk -->\n```sh\nls -l   # exit 0: fine\n\necho `x`  # `not run`\nfalse  # exit 1: no\n```\n"
    assert walk_commands(text) == [("ls -l", 0), ("echo `x`", 0), ("false", 1)]


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    """A copy of the tracked files, with the set-up's virtual environment and collections."""
    copy = tmp_path / "agentroll"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    collections = copy / "collections" / "ansible_collections"
    collections.mkdir(parents=True, exist_ok=True)
    for namespace in ("ansible", "community"):
        (collections / namespace).symlink_to(ROOT / "collections" / "ansible_collections" / namespace)
    (collections / "agentroll").mkdir()
    (collections / "agentroll" / "toolkit").symlink_to("../../..")
    yield copy


def test_the_readme_walk_runs_as_written(checkout: Path, tmp_path: Path) -> None:
    commands = walk_commands(README.read_text(encoding="utf-8"))
    assert any(command.startswith(".venv/bin/agentroll roster import") for command, _ in commands)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "AGENTROLL_"))}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    LOCK.touch(exist_ok=True)
    with LOCK.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for command, expected in commands:
                done = subprocess.run(
                    ["bash", "-c", command],
                    cwd=checkout,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                assert done.returncode == expected, (
                    f"{command}\nexit {done.returncode}, the README says {expected}\n"
                    f"{done.stdout[-2500:]}\n{done.stderr[-2500:]}"
                )
        finally:
            subprocess.run(
                [".venv/bin/agentroll", "sim", "stop"],
                cwd=checkout,
                env=env,
                capture_output=True,
                check=False,
            )
