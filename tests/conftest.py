"""Test-wide isolation (no test writes to a user's real state database or report folder) and the
state store backends every store test runs against."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentroll.store.scratch import ScratchPostgres

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


@pytest.fixture(scope="session")
def postgres() -> Iterator[ScratchPostgres]:
    """This test process's own throw-away PostgreSQL cluster (each xdist worker gets one)."""
    with ScratchPostgres() as cluster:
        yield cluster


_store_names = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty place for a state store, on each backend: a SQLite path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "state.sqlite")
    cluster: ScratchPostgres = request.getfixturevalue("postgres")
    return cluster.fresh_store(f"test_{os.getpid()}_{next(_store_names)}")
