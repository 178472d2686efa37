"""Test-wide isolation: no test may write to a user's real state database or report folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _isolated_state(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point the state store and report folder of every test (and every child process) at a temp dir."""
    scratch = tmp_path_factory.mktemp("agentroll-session")
    os.environ["AGENTROLL_STATE"] = str(scratch / "state.sqlite")
    os.environ["AGENTROLL_REPORT_DIR"] = str(scratch / "reports")
    os.environ["ANSIBLE_CONFIG"] = str(REPO_ROOT / "ansible.cfg")
    os.environ["ANSIBLE_FORCE_COLOR"] = "0"
    os.environ["PATH"] = f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"
