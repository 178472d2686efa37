"""The demo's checks before anything runs: the inventory reaches the fleet, and the state starts empty."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentroll.demo.fleet import CONNECTION_VARS, connection_problems, load_demo
from agentroll.demo.settings import DEMO_STATE, DemoError, Settings, settings_from_args
from agentroll.demo.state import check_state_is_empty, set_aside_previous_kit, start_afresh
from agentroll.demo.summary import eligibility_summary
from agentroll.inventory import host_variables, load_inventory
from agentroll.sim.fleet import Fleet
from agentroll.store import Store

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "inventory" / "demo"


def settings(tmp_path: Path, *, state: Path | None = None, inventory: Path = DEMO) -> Settings:
    args = argparse.Namespace(inventory=inventory, fleet=None, forks=40, lang="en")
    environ = {"AGENTROLL_REPORT_DIR": str(tmp_path / "reports")}
    if state is not None:
        environ["AGENTROLL_STATE"] = str(state)
    return settings_from_args(args, environ)


def test_the_demo_inventory_reaches_its_fleet(tmp_path: Path) -> None:
    inventory, fleet = load_demo(settings(tmp_path))
    # The fleet also has the laptop the roster forgot (on the console, in no inventory).
    assert (len(inventory.hosts), len(fleet.addresses())) == (192, 193)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """The demo inventory and fleet, with some connection variables changed in group_vars/all."""

    def make(changes: dict[str, Any]) -> Path:
        copy = tmp_path / "demo"
        (copy / "group_vars" / "all").mkdir(parents=True)
        (copy / "hosts.yml").write_text((DEMO / "hosts.yml").read_text(encoding="utf-8"), encoding="utf-8")
        (copy / "fleet.yml").write_text((DEMO / "fleet.yml").read_text(encoding="utf-8"), encoding="utf-8")
        connection = yaml.safe_load(
            (DEMO / "group_vars" / "all" / "connection.yml").read_text(encoding="utf-8")
        )
        (copy / "group_vars" / "all" / "connection.yml").write_text(
            yaml.safe_dump({**connection, **changes}), encoding="utf-8"
        )
        return copy

    return make


def test_a_wrong_port_and_password_are_one_line_naming_the_files_never_the_password(
    tmp_path: Path, demo_copy: Callable[[dict[str, Any]], Path]
) -> None:
    copy = demo_copy({"ansible_port": 5986, "ansible_password": "wrong-password"})
    with pytest.raises(DemoError) as caught:
        load_demo(settings(tmp_path, inventory=copy))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{copy} does not match {copy / 'fleet.yml'}: ")
    assert "ansible_port is 5986, the fleet needs 5985 (192 PCs, e.g. vp-01)" in message
    assert "ansible_password differs from the fleet's credentials (192 PCs, e.g. vp-01)" in message
    fleet = yaml.safe_load((copy / "fleet.yml").read_text(encoding="utf-8"))
    assert "wrong-password" not in message and fleet["credentials"]["password"] not in message


def test_a_host_variable_overrides_the_group_and_a_stranger_is_named(
    tmp_path: Path, demo_copy: Callable[[dict[str, Any]], Path]
) -> None:
    copy = demo_copy({})
    (copy / "host_vars").mkdir()
    (copy / "host_vars" / "vp-02.yml").write_text("ansible_winrm_transport: kerberos\n", encoding="utf-8")
    (copy / "host_vars" / "vp-03.yml").write_text("ansible_host: 10.9.9.9\n", encoding="utf-8")
    inventory = load_inventory(copy)
    problems = connection_problems(
        inventory, host_variables(copy, CONNECTION_VARS), Fleet.from_file(DEMO / "fleet.yml")
    )
    assert problems == [
        "ansible_winrm_transport must be basic or ntlm for the simulated fleet (1 PC: vp-02)",
        "not in the fleet (1 PC: vp-03)",
    ]


def test_a_state_database_of_the_operator_with_runs_is_refused_and_kept(tmp_path: Path) -> None:
    state = tmp_path / "mine.sqlite"
    with Store(state) as store:
        store.finish_run(store.start_run("site.yml"), "ok")
    with pytest.raises(DemoError) as caught:
        check_state_is_empty(settings(tmp_path, state=state))
    assert str(caught.value).startswith(f"AGENTROLL_STATE names {state}, which holds 1 run(s) already")
    assert "\n" not in str(caught.value)
    with Store(state) as store:
        assert len(store.runs()) == 1


def test_a_new_or_empty_database_of_the_operator_is_used_as_it_is(tmp_path: Path) -> None:
    new = settings(tmp_path, state=tmp_path / "new.sqlite")
    check_state_is_empty(new)
    start_afresh(new)
    assert not Path(new.state).exists()
    Store(tmp_path / "empty.sqlite").close()
    check_state_is_empty(settings(tmp_path, state=tmp_path / "empty.sqlite"))


def test_the_demos_own_database_starts_afresh_keeping_the_previous_one(tmp_path: Path) -> None:
    own = dataclasses.replace(settings(tmp_path), root=tmp_path, state=str(tmp_path / DEMO_STATE))
    with Store(own.state) as store:
        store.finish_run(store.start_run("site.yml"), "ok")
    check_state_is_empty(own)
    start_afresh(own)
    assert not Path(own.state).exists()
    with Store(f"{own.state}.previous") as previous:
        assert len(previous.runs()) == 1


def test_the_previous_demos_kit_is_set_aside_and_a_stranger_folder_left_alone(tmp_path: Path) -> None:
    kit = tmp_path / "offline-kit" / "DAKTANG"
    kit.mkdir(parents=True)
    (kit / "kit.json").write_text("{}", encoding="utf-8")
    old = kit.with_name("DAKTANG.previous")
    old.mkdir()
    (old / "kit.json").write_text('{"old": 1}', encoding="utf-8")
    set_aside_previous_kit(kit)
    assert not kit.exists() and (old / "kit.json").read_text(encoding="utf-8") == "{}"

    stranger = tmp_path / "somebody"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine", encoding="utf-8")
    set_aside_previous_kit(stranger)
    assert (stranger / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_dry_run_summary_counts_reasons_old_strings_and_structured_alike() -> None:
    ram = {"code": "text", "text": "RAM 1024 MB < 2048 MB"}
    report = {
        "totals": {"eligible": 1, "installed": 0, "states": {"ineligible": 3, "unreachable": 1}},
        "hosts": [
            {"state": "ineligible", "reasons": ["RAM 1024 MB < 2048 MB"], "license": None},
            {"state": "ineligible", "reasons": [ram], "license": None},
            {"state": "ineligible", "reasons": [], "license": None},
            {"state": "unreachable", "reasons": ["connection refused"], "license": None},
            {"state": "not_installed", "reasons": [], "license": "waiting"},
        ],
    }
    assert eligibility_summary(report) == [
        "  eligible: 1 PCs (0 already have the agent)",
        "  ineligible: 3 PCs (RAM 1024 MB < 2048 MB: 2; no reason given: 1)",
        "  unmanageable: 0 PCs",
        "  unreachable: 1 PCs (connection refused: 1)",
        "  waiting for a license: 1 PCs",
    ]
