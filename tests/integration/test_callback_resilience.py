"""A problem inside the coverage callback becomes a warning: it never fails or stops the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agentroll.inventory import load_inventory
from agentroll.sim.testing import PROJECT_ROOT, run_ansible

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


CHANGING_PLAYBOOK = """\
- name: A play that changes the inventory under the run
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Add a host the district does not have
      ansible.builtin.add_host:
        name: stranger
        groups: units
    - name: Overwrite the inventory file with what no loader can read
      ansible.builtin.copy:
        content: "[units\\n"
        dest: "{{ inventory_file_to_break }}"
        mode: "0644"
"""


def test_the_report_is_on_the_inventory_as_the_run_started_not_as_it_ends(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(PROJECT_ROOT / "inventory" / "example", inventory)
    playbook = tmp_path / "changing.yml"
    playbook.write_text(CHANGING_PLAYBOOK, encoding="utf-8")
    district = load_inventory(inventory)
    result = run_ansible(
        [
            "ansible-playbook",
            str(playbook),
            "-c",
            "local",
            "-e",
            f"inventory_file_to_break={inventory / 'hosts.yml'}",
        ],
        inventory=inventory,
        env={"AGENTROLL_STATE": str(tmp_path / "state.sqlite"), "AGENTROLL_REPORT_DIR": str(tmp_path / "r")},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert (inventory / "hosts.yml").read_text(encoding="utf-8") == "[units\n"
    assert "agentroll coverage" not in output, output
    report = json.loads((tmp_path / "r" / "coverage.json").read_text(encoding="utf-8"))
    assert sorted(host["host"] for host in report["hosts"]) == sorted(host.name for host in district.hosts)
    assert report["totals"]["licenses"] == sum(unit.licenses for unit in district.units)
