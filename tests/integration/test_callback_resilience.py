"""A problem inside the coverage callback becomes a warning: it never fails or stops the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentroll.sim.testing import run_ansible

pytestmark = [pytest.mark.integration]

PLAYBOOK = """\
- name: Harmless play
  hosts: all
  gather_facts: false
  tasks:
    - name: Say something
      ansible.builtin.debug:
        msg: still running
"""


def write_playbook(tmp_path: Path) -> Path:
    playbook = tmp_path / "harmless.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    return playbook


def test_a_broken_state_store_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    state.write_bytes(b"this is not an SQLite database, it is a spreadsheet someone renamed" * 20)
    result = run_ansible(
        ["ansible-playbook", str(write_playbook(tmp_path)), "-c", "local"],
        inventory="localhost,",
        env={"AGENTROLL_STATE": str(state), "AGENTROLL_REPORT_DIR": str(tmp_path / "reports")},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "still running" in output
    assert "agentroll coverage: opening the state store" in output
    assert str(state) in output
    assert state.read_bytes().startswith(b"this is not an SQLite database")


def test_no_district_inventory_to_report_on_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    result = run_ansible(
        ["ansible-playbook", str(write_playbook(tmp_path)), "-c", "local"],
        inventory="localhost,",
        env={"AGENTROLL_STATE": str(tmp_path / "state.sqlite"), "AGENTROLL_REPORT_DIR": str(tmp_path / "r")},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "agentroll coverage: writing the coverage report" in output
    assert not (tmp_path / "r" / "coverage.json").exists()
