"""Small shared fixtures for the unit tests: inventory directories and a recorded tiny district."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentroll.inventory import load_inventory
from agentroll.model import Aspect, Inventory
from agentroll.store import Store

#: A tiny district: 3 units, 10 PCs, one server outside ``units``. Exercised by the report and CLI tests.
TINY_DISTRICT: dict[str, Any] = {
    "all": {
        "children": {
            "units": {
                "vars": {"agentroll_deadline": "2026-12-31"},
                "children": {
                    "departments": {
                        "children": {
                            "unit_vp": {
                                "vars": {
                                    "agentroll_unit_code": "VP",
                                    "agentroll_unit_name": "Văn phòng UBND",
                                    "agentroll_licenses": 4,
                                },
                                "hosts": {
                                    "vp-01": {
                                        "ansible_host": "192.0.2.1",
                                        "agentroll_owner": "Phạm Văn Thắng",
                                    },
                                    "vp-02": {
                                        "ansible_host": "192.0.2.2",
                                        "agentroll_owner": "Nguyễn Thị Phương",
                                    },
                                    "vp-03": {"ansible_host": "192.0.2.3", "agentroll_owner": "Đặng Đức"},
                                    "vp-04": {"ansible_host": "192.0.2.4"},
                                    "vp-05": {"ansible_host": "192.0.2.5"},
                                    "vp-06": {"ansible_host": "192.0.2.6"},
                                },
                            },
                            "unit_tp": {
                                "vars": {
                                    "agentroll_unit_code": "TP",
                                    "agentroll_unit_name": "Phòng Tư pháp",
                                    "agentroll_licenses": 3,
                                },
                                "hosts": {
                                    "tp-01": {"ansible_host": "192.0.2.11", "agentroll_owner": "Trần Văn An"},
                                    "tp-02": {"ansible_host": "192.0.2.12", "agentroll_owner": "Lê Thị Bình"},
                                },
                            },
                        }
                    },
                    "unit_xa": {
                        "vars": {
                            "agentroll_unit_code": "XA",
                            "agentroll_unit_name": "UBND xã Măng Cành",
                            "agentroll_licenses": 2,
                            "agentroll_deadline": "2026-12-01",
                        },
                        "hosts": {
                            "xa-01": {"ansible_host": "192.0.2.21", "agentroll_owner": "Y Hoa"},
                            "xa-02": {"ansible_host": "192.0.2.22", "agentroll_owner": "A Nam"},
                        },
                    },
                },
            },
            "servers": {"hosts": {"dc01": {"ansible_host": "192.0.2.100"}}},
        }
    }
}

#: When the tiny district's report is generated (after the deadline of XA).
TINY_GENERATED_AT = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
TINY_RUN1_AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TINY_RUN2_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
#: Who ran the tiny district's two runs: an IT officer, then an AWX job.
TINY_OPERATORS = ("Phạm Văn Thắng", "AWX job 7 (https://awx.konplong.example)")

RUNNING_AGENT = {"installed": True, "version": "7.1", "service_state": "running", "start_mode": "auto"}
NO_AGENT = {"installed": False, "version": None, "service_state": None, "start_mode": None}
CONTACT_OK = {"status": "ok", "reason": None}
ELIGIBLE = {"eligible": True, "reasons": []}


def write_yaml(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def yaml_writer() -> Callable[[Path, Any], Path]:
    """``write(path, document)``: dump YAML (UTF-8, Vietnamese kept readable), creating directories."""
    return write_yaml


@pytest.fixture
def make_inventory_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write ``hosts.yml`` (and optional group_vars/host_vars files) into a fresh directory."""
    counter = iter(range(1000))

    def make(
        hosts: Mapping[str, Any],
        *,
        group_vars: Mapping[str, Any] | None = None,
        host_vars: Mapping[str, Any] | None = None,
    ) -> Path:
        directory = tmp_path / f"inventory{next(counter)}"
        write_yaml(directory / "hosts.yml", hosts)
        for name, document in (group_vars or {}).items():
            write_yaml(directory / "group_vars" / f"{name}.yml", document)
        for name, document in (host_vars or {}).items():
            write_yaml(directory / "host_vars" / f"{name}.yml", document)
        return directory

    return make


@pytest.fixture(scope="session")
def tiny_inventory_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tiny-district")
    write_yaml(directory / "hosts.yml", TINY_DISTRICT)
    return directory


@pytest.fixture(scope="session")
def tiny_inventory(tiny_inventory_dir: Path) -> Inventory:
    return load_inventory(tiny_inventory_dir)


def record_tiny_history(store: Store) -> tuple[int, int]:
    """Two runs over the tiny district; return their ids. Expected states after run 2:

    vp-01 compliant, vp-02 misnamed, vp-03 ineligible, vp-04 and vp-06 not_installed waiting for a
    license, vp-05 unknown, tp-01 unreachable (agent seen installed in run 1), tp-02 failed,
    xa-01 unmanageable, xa-02 agent_unhealthy.
    """
    run1 = store.start_run(
        "preflight.yml", inventory="tiny", started_at=TINY_RUN1_AT, operator=TINY_OPERATORS[0]
    )
    at1 = TINY_RUN1_AT + timedelta(minutes=5)
    store.record(run1, "vp-01", [(Aspect.CONTACT, CONTACT_OK), (Aspect.AGENT, NO_AGENT)], at1)
    store.record(
        run1,
        "tp-01",
        [
            (Aspect.CONTACT, CONTACT_OK),
            (Aspect.AGENT, RUNNING_AGENT),
            (Aspect.NAME, {"computer_name": "TP-ANTV", "pending_name": None}),
        ],
        at1,
    )
    store.record(
        run1,
        "tp-02",
        [(Aspect.CONTACT, CONTACT_OK), (Aspect.AGENT, NO_AGENT), (Aspect.ELIGIBILITY, ELIGIBLE)],
        at1,
    )
    store.record(run1, "xa-02", [(Aspect.CONTACT, CONTACT_OK), (Aspect.AGENT, RUNNING_AGENT)], at1)
    store.finish_run(run1, "ok", finished_at=at1 + timedelta(minutes=1))

    run2 = store.start_run(
        "deploy.yml", inventory="tiny", limit="units", started_at=TINY_RUN2_AT, operator=TINY_OPERATORS[1]
    )
    at2 = TINY_RUN2_AT + timedelta(minutes=10)
    store.record(
        run2,
        "vp-01",
        [
            (Aspect.CONTACT, CONTACT_OK),
            (Aspect.AGENT, RUNNING_AGENT),
            (Aspect.ELIGIBILITY, ELIGIBLE),
            (Aspect.LICENSE, {"granted": True, "reason": None}),
            (Aspect.NAME, {"computer_name": "vp-thangpv", "pending_name": None}),
            (Aspect.REBOOT, {"pending": False, "reason": None}),
        ],
        at2,
    )
    store.record(
        run2,
        "vp-02",
        [
            (Aspect.CONTACT, CONTACT_OK),
            (Aspect.AGENT, RUNNING_AGENT),
            (Aspect.NAME, {"computer_name": "MAYPHUONG", "pending_name": None}),
        ],
        at2,
    )
    store.record(
        run2,
        "vp-03",
        [
            (Aspect.CONTACT, CONTACT_OK),
            (Aspect.AGENT, NO_AGENT),
            (
                Aspect.ELIGIBILITY,
                {"eligible": False, "reasons": [{"code": "ram", "measured": 1024, "required": 2048}]},
            ),
        ],
        at2,
    )
    waiting = {
        "granted": False,
        "reason": {"code": "license_waiting", "unit": "VP", "licenses": 4, "eligible": 5},
    }
    for host in ("vp-04", "vp-06"):
        store.record(
            run2,
            host,
            [
                (Aspect.CONTACT, CONTACT_OK),
                (Aspect.AGENT, NO_AGENT),
                (Aspect.ELIGIBILITY, ELIGIBLE),
                (Aspect.LICENSE, waiting),
            ],
            at2,
        )
    unreachable = {"status": "unreachable", "reason": "connection timed out"}
    store.record(run2, "tp-01", [(Aspect.CONTACT, unreachable)], at2)
    failure = {"task": "install agent", "reason": "installer exit code 1603"}
    store.record(run2, "tp-02", [(Aspect.CONTACT, CONTACT_OK), (Aspect.FAILURE, failure)], at2)
    unmanageable = {"status": "unmanageable", "reason": "PowerShell 2.0 < 5.1"}
    store.record(run2, "xa-01", [(Aspect.CONTACT, unmanageable)], at2)
    store.record(
        run2,
        "xa-02",
        [(Aspect.CONTACT, CONTACT_OK), (Aspect.AGENT, {**RUNNING_AGENT, "service_state": "stopped"})],
        at2,
    )
    store.finish_run(run2, "failed", finished_at=at2 + timedelta(minutes=1))
    return run1, run2


@pytest.fixture
def tiny_store(store_location: str) -> Iterator[Store]:
    """A state store holding the tiny district's two runs (see ``record_tiny_history``), on each backend."""
    store = Store(store_location)
    record_tiny_history(store)
    yield store
    store.close()


@pytest.fixture
def tiny_store_path(tmp_path: Path) -> Path:
    """A SQLite file holding the tiny district's two runs, for commands that open it themselves."""
    path = tmp_path / "tiny-state.sqlite"
    with Store(path) as store:
        record_tiny_history(store)
    return path


@pytest.fixture
def tiny_times() -> dict[str, datetime]:
    """The instants of the tiny district's history: its two runs and its report."""
    return {"run1": TINY_RUN1_AT, "run2": TINY_RUN2_AT, "generated_at": TINY_GENERATED_AT}
