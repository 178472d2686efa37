"""The coverage callback and the plan action on a PostgreSQL store, through the real ansible-playbook.

Four PCs of two units on the simulated fleet: site.yml installs and renames, then a preflight limited
to one PC (its plan reads every other PC from PostgreSQL). The callback's report and
``agentroll report`` on the same URL agree; the runs carry their operator and controller; no secret
reaches the database.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from agentroll.sim.testing import PROJECT_ROOT, ansible_env, run_ansible, running_fleet
from agentroll.store import open_store
from agentroll.store.scratch import ScratchPostgres
from tests.integration.support import (
    INSTALL_ARGUMENTS,
    REGISTRATION_KEY,
    WINRM_PASSWORD,
    District,
    Pc,
    fleet_spec,
    write_inventory,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OPERATOR = "Trần Văn An (phòng VHTT)"
UNITS = {
    "snv": {"code": "SNV", "name": "Sở Nội vụ", "licenses": 3},
    "yte": {"code": "YTE", "name": "Trung tâm Y tế huyện", "licenses": 1},
}
PCS = [
    Pc("snv-01", "snv", {"computer_name": "mayphuong"}, {"agentroll_owner": "Nguyễn Thị Phương"}),
    Pc("snv-02", "snv", {"computer_name": "SNV-THANGPV"}, {"agentroll_owner": "Phạm Văn Thắng"}),
    Pc("snv-03", "snv", {"computer_name": "SNV-PC03", "faults": {"refuse_connections": True}}),
    Pc("yte-01", "yte", {"computer_name": "YTE-PC01", "ram_mb": 1024}),
]
PROFILE = {
    "agentroll_agent_install_arguments": INSTALL_ARGUMENTS,
    "agentroll_reboot_delay": 0,
    "agentroll_reboot_message": "agentroll test reboot",
}


class PostgresDistrict(District):
    """The district of ``support``, its state store a PostgreSQL URL."""

    def __init__(self, *args: Any, url: str) -> None:
        super().__init__(*args)
        self.url = url

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "AGENTROLL_STATE": self.url, "AGENTROLL_OPERATOR": OPERATOR}


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory, postgres: ScratchPostgres) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("postgresql-district")
    url = postgres.fresh_store("district")
    with running_fleet(fleet_spec(PCS), transport="basic") as handle:
        inventory = write_inventory(handle, workdir / "inventory", PCS, UNITS, extra_vars=PROFILE)
        district = PostgresDistrict(handle, inventory, workdir, url=url)
        site = district.play("site.yml")
        limited = district.play("preflight.yml", "--limit", "yte-01")
        report = subprocess.run(
            [
                str(PROJECT_ROOT / ".venv" / "bin" / "agentroll"),
                "report",
                "-i",
                str(inventory),
                "--format",
                "json",
            ],
            env=ansible_env(PROJECT_ROOT, district.env),
            capture_output=True,
            text=True,
            check=False,
        )
        yield {"site": site, "limited": limited, "report": report, "url": url, "district": district}


def test_the_callback_records_into_postgresql_and_reports_district_wide(district: dict[str, Any]) -> None:
    site, limited = district["site"], district["limited"]
    assert site.returncode == 4, site.output[-3000:]  # snv-03 is switched off
    assert limited.returncode == 0, limited.output[-3000:]
    assert "agentroll coverage:" not in site.output + limited.output, "no callback warning"
    states = {host["host"]: host["state"] for host in limited.report["hosts"]}
    assert states == {
        "snv-01": "compliant",
        "snv-02": "compliant",
        "snv-03": "unreachable",
        "yte-01": "ineligible",
    }
    assert limited.report["totals"]["installed"] == 2


def test_agentroll_report_on_the_url_is_the_callbacks_report(district: dict[str, Any]) -> None:
    done = district["report"]
    assert done.returncode == 0, done.stderr
    reread = json.loads(done.stdout)
    written = district["limited"].report
    assert {key: value for key, value in reread.items() if key != "generated_at"} == {
        key: value for key, value in written.items() if key != "generated_at"
    }
    assert [point["operator"] for point in reread["history"]] == [OPERATOR, OPERATOR]


def test_runs_carry_operator_controller_and_an_end(district: dict[str, Any]) -> None:
    with open_store(district["url"], readonly=True) as store:
        runs = store.runs()
    assert [(run.playbook, run.limit, run.status) for run in runs] == [
        ("site.yml", None, "failed"),
        ("preflight.yml", "yte-01", "ok"),
    ]
    assert {(run.operator, run.controller) for run in runs} == {(OPERATOR, socket.gethostname())}
    assert all(run.finished_at is not None and run.pid for run in runs)


def test_no_secret_reaches_the_database(district: dict[str, Any]) -> None:
    import psycopg

    with psycopg.connect(district["url"]) as db:
        rows = [*db.execute("SELECT * FROM runs"), *db.execute("SELECT * FROM observations")]
    stored = "\n".join(str(row) for row in rows)
    assert "SNV-PHUONGNT" in stored  # what was recorded is there; only the secrets are not
    for secret in (WINRM_PASSWORD, REGISTRATION_KEY, INSTALL_ARGUMENTS):
        assert secret not in stored


def test_an_unreachable_server_is_a_warning_that_never_shows_the_password(tmp_path: Path) -> None:
    playbook = tmp_path / "harmless.yml"
    playbook.write_text(
        "- name: Harmless play\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Say something\n      ansible.builtin.debug:\n        msg: still running\n",
        encoding="utf-8",
    )
    url = (
        f"postgresql://agentroll:Pw-9f8e7d@/agentroll?host={quote(str(tmp_path), safe='')}&connect_timeout=2"
    )
    done = run_ansible(
        ["ansible-playbook", str(playbook), "-c", "local"],
        inventory="localhost,",
        env={"AGENTROLL_STATE": url, "AGENTROLL_REPORT_DIR": str(tmp_path / "reports")},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "still running" in output
    assert "agentroll coverage: opening the state store" in output
    assert "postgresql://agentroll:***@/agentroll" in output and "Pw-9f8e7d" not in output
