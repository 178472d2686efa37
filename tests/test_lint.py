"""The repository's linters as tests: ruff on all Python, ansible-lint's production profile on the content."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: scripts/bootstrap installs it into .venv")
    return found


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["NO_COLOR"] = "1"
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_ruff_check_is_clean() -> None:
    done = _run([_tool("ruff"), "check", "."], timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_of_the_whole_tree_is_clean() -> None:
    done = _run([_tool("ruff"), "format", "--check", "."], timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_ansible_lint_production_profile_is_clean() -> None:
    done = _run([_tool("ansible-lint"), "--profile", "production", "--nocolor"], timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert "Profile 'production' was required, and it passed" in done.stdout + done.stderr
