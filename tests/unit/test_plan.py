"""The controller-side plan on a small inventory: eligibility, names, renames, licenses, moves."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from plugin_files import load_plugin_file
from probe_samples import REQUIREMENTS, probe_result

from agentroll.coverage import Move
from agentroll.eligibility import Requirements
from agentroll.model import Aspect, Host, HostView, Inventory, Observation, Unit
from agentroll.observe import observations_from_probe
from agentroll.plan import build_plan, service_needs_repair
from agentroll.reasons import Reason

WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)

INVENTORY = Inventory(
    units=(
        Unit("SNV", "Phòng Nội vụ", 3, "phong_noi_vu"),
        Unit("VP", "Văn phòng HĐND và UBND", 2, "van_phong"),
        Unit("XA", "UBND xã Hiếu", 0, "xa_hieu"),
    ),
    hosts=(
        Host("snv-01", "SNV", owner="Nguyễn Thị Phương"),
        Host("snv-02", "SNV", owner="Phạm Văn Thắng"),
        Host("snv-03", "SNV"),
        Host("snv-04", "SNV"),
        Host("snv-05", "SNV"),
        Host("vp-01", "VP"),
        Host("vp-02", "VP"),
        Host("xa-01", "XA"),
        Host("xa-02", "XA"),
    ),
)


def probe(computer_name: str, installed: bool = False, **facts: Any) -> dict[str, Any]:
    """A probe result of a capable Windows 10 PC, with facts overridden by keyword."""
    agent = {
        "installed": installed,
        "version": "7.2" if installed else None,
        "service_state": "running" if installed else "missing",
        "service_start_mode": "auto" if installed else None,
    }
    return probe_result(computer_name, agent, **facts)


def stored_view(host: str, values: dict[Aspect, dict[str, Any]]) -> HostView:
    latest = {aspect: Observation(host, aspect, value, WHEN, 3) for aspect, value in values.items()}
    return HostView(host, latest, last_run_id=3)


def view_from_probe(host: str, result: dict[str, Any]) -> HostView:
    return stored_view(host, dict(observations_from_probe(result, REQUIREMENTS)))


PROBES = {
    "snv-01": probe("MAYPHUONG", installed=True),
    "snv-02": probe("SNV-THANGPV"),
    "snv-04": probe("DESKTOP-7F3K2LQ"),
    "snv-05": probe("KETOAN-PC", ram_mb=1024),
    "xa-01": probe("XA-PC01"),
    "xa-02": probe("XA-PC02"),
}
VIEWS = {
    # Probed in an earlier run only: the store remembers it as eligible.
    "snv-03": view_from_probe("snv-03", probe("SNV-PC01")),
    "vp-01": stored_view(
        "vp-01", {Aspect.CONTACT: {"status": "unmanageable", "reason": "PowerShell 2.0 < 5.1"}}
    ),
    # A stale view of a host probed now: the probe wins.
    "snv-05": view_from_probe("snv-05", probe("KETOAN-PC")),
}


def test_plan_of_a_small_inventory() -> None:
    plan = build_plan(INVENTORY, PROBES, VIEWS, REQUIREMENTS)
    hosts = plan.hosts
    assert list(hosts) == [host.name for host in INVENTORY.hosts]

    assert hosts["snv-01"].standard_name == "SNV-PHUONGNT"
    assert (hosts["snv-01"].installed, hosts["snv-01"].license_granted, hosts["snv-01"].install) == (
        True,
        True,
        False,
    )
    assert hosts["snv-01"].rename is True
    assert hosts["snv-01"].computer_name == "MAYPHUONG"

    assert (hosts["snv-02"].install, hosts["snv-02"].rename) == (True, False)
    assert hosts["snv-03"].license_granted is True
    assert hosts["snv-03"].install is True  # granted; the action plugin acts only on hosts in the play

    waiting = hosts["snv-04"]
    assert (waiting.eligible, waiting.license_granted, waiting.install) == (True, False, False)
    assert waiting.license_reason == Reason("license_waiting", {"unit": "SNV", "licenses": 3, "eligible": 4})
    assert waiting.license_reason.english() == "waiting for a license: SNV has 3 licenses, 4 eligible PCs"
    assert waiting.standard_name == "SNV-PC02"

    weak = hosts["snv-05"]
    assert (weak.eligible, weak.install, weak.license_reason) == (False, False, None)
    assert weak.reasons == (Reason("ram", {"measured": 1024, "required": 2048}),)

    assert hosts["vp-01"].eligible is False
    (unmanageable,) = hosts["vp-01"].reasons
    assert unmanageable.english() == "unmanageable: PowerShell 2.0 < 5.1"
    assert hosts["vp-02"].reasons == (Reason("never_probed"),)
    assert hosts["vp-02"].computer_name is None and hosts["vp-02"].rename is False

    assert [hosts[name].license_reason for name in ("xa-01", "xa-02")] == [
        Reason("license_waiting", {"unit": "XA", "licenses": 0, "eligible": 2})
    ] * 2

    # Need (known-eligible PCs beyond the licenses): SNV 4 - 3 = 1, XA 2 - 0 = 2. Spare: VP 2 licenses
    # - 0 eligible - 1 not known yet (vp-02; the unmanageable vp-01 counts for nothing) = 1, which
    # goes to the largest need, XA; no license is left to return.
    assert plan.reallocation == (Move("VP", "XA", 1),)
    assert plan.returnable == {}


def test_limit_rerun_keeps_licenses_used_by_hosts_not_in_this_run() -> None:
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 2, "phong_noi_vu"),),
        hosts=(Host("snv-01", "SNV"), Host("snv-02", "SNV"), Host("snv-03", "SNV")),
    )
    views = {
        "snv-02": view_from_probe("snv-02", probe("SNV-PC02", installed=True)),
        "snv-03": view_from_probe("snv-03", probe("SNV-PC03", installed=True)),
    }
    plan = build_plan(inventory, {"snv-01": probe("SNV-PC01")}, views, REQUIREMENTS)
    assert plan.hosts["snv-01"].install is False
    assert plan.hosts["snv-01"].license_reason == Reason(
        "license_waiting", {"unit": "SNV", "licenses": 2, "eligible": 3}
    )
    assert plan.reallocation == ()


def test_a_pc_not_probed_yet_keeps_its_license_place_so_job_slices_agree() -> None:
    """snv-01 belongs to another job slice (nothing known of it yet): it keeps the first license, so
    this slice grants the second to snv-02 and leaves snv-03 waiting, as the other slice does."""
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 2, "phong_noi_vu"),),
        hosts=(Host("snv-01", "SNV"), Host("snv-02", "SNV"), Host("snv-03", "SNV")),
    )
    probes = {"snv-02": probe("SNV-PC02"), "snv-03": probe("SNV-PC03")}
    hosts = build_plan(inventory, probes, {}, REQUIREMENTS).hosts
    assert [hosts[name].license_granted for name in ("snv-01", "snv-02", "snv-03")] == [True, True, False]
    assert (hosts["snv-01"].install, hosts["snv-02"].install) == (False, True)
    held = hosts["snv-03"].license_reason
    assert held == Reason("license_held", {"unit": "SNV", "licenses": 2, "unknown": 1})
    assert held.english() == "waiting for a license: SNV has 2 licenses, 1 held for PCs not probed yet"

    # Once snv-01 is known to be ineligible, its place goes to the next PC.
    views = {"snv-01": view_from_probe("snv-01", probe("SNV-PC01", ram_mb=1024))}
    hosts = build_plan(inventory, probes, views, REQUIREMENTS).hosts
    assert [hosts[name].license_granted for name in ("snv-01", "snv-02", "snv-03")] == [False, True, True]
    assert hosts["snv-03"].install is True


def test_stored_facts_are_judged_against_the_current_requirements() -> None:
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 1, "phong_noi_vu"),), hosts=(Host("snv-01", "SNV"),)
    )
    views = {"snv-01": view_from_probe("snv-01", probe("SNV-PC01", ram_mb=3000))}
    stricter = Requirements.from_mapping(
        {
            "os": {"windows10": 17763},
            "architectures": ["x64"],
            "min_ram_mb": 4096,
            "min_system_free_mb": 2048,
            "min_powershell": "5.1",
        }
    )
    host = build_plan(inventory, {}, views, stricter).hosts["snv-01"]
    assert (host.eligible, host.reasons) == (False, (Reason("ram", {"measured": 3000, "required": 4096}),))


def test_a_license_wait_carries_the_unit_figures() -> None:
    inventory = Inventory(units=(Unit("XA", "UBND xã Hiếu", 0, "xa_hieu"),), hosts=(Host("xa-01", "XA"),))
    host = build_plan(inventory, {"xa-01": probe("XA-PC01")}, {}, REQUIREMENTS).hosts["xa-01"]
    assert host.license_reason == Reason("license_waiting", {"unit": "XA", "licenses": 0, "eligible": 1})


def test_stored_eligibility_is_used_when_no_facts_are_stored() -> None:
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 1, "phong_noi_vu"),), hosts=(Host("snv-01", "SNV"),)
    )
    views = {
        "snv-01": stored_view("snv-01", {Aspect.ELIGIBILITY: {"eligible": False, "reasons": ["RAM unknown"]}})
    }
    host = build_plan(inventory, {}, views, REQUIREMENTS).hosts["snv-01"]
    # An older store's sentence reads back as it was written.
    assert (host.eligible, [reason.english() for reason in host.reasons]) == (False, ["RAM unknown"])
    assert build_plan(inventory, {}, views, REQUIREMENTS).reallocation == ()


def test_failed_probe_falls_back_to_the_store() -> None:
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 1, "phong_noi_vu"),), hosts=(Host("snv-01", "SNV"),)
    )
    views = {"snv-01": view_from_probe("snv-01", probe("SNV-PC01", installed=True))}
    plan = build_plan(inventory, {"snv-01": {"failed": True, "msg": "boom"}}, views, REQUIREMENTS)
    assert plan.hosts["snv-01"].installed is True


def test_installed_beyond_the_allocation_is_reported() -> None:
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 1, "phong_noi_vu"),),
        hosts=(Host("snv-01", "SNV"), Host("snv-02", "SNV")),
    )
    probes = {"snv-01": probe("SNV-PC01", installed=True), "snv-02": probe("SNV-PC02", installed=True)}
    host = build_plan(inventory, probes, {}, REQUIREMENTS).hosts["snv-02"]
    assert (host.license_granted, host.license_reason) == (
        False,
        Reason("over_allocation", {"unit": "SNV", "licenses": 1, "installed": 2}),
    )
    assert host.license_reason.english() == "over allocation: SNV has 1 licenses, 2 PCs with the agent"


def test_plan_as_dict_is_json_ready() -> None:
    plan = build_plan(INVENTORY, PROBES, VIEWS, REQUIREMENTS)
    data = json.loads(json.dumps(plan.as_dict()))
    assert data["reallocation"] == [{"from": "VP", "to": "XA", "licenses": 1}]
    assert data["hosts"]["snv-05"] == {
        "host": "snv-05",
        "unit": "SNV",
        "eligible": False,
        "reasons": [{"code": "ram", "measured": 1024, "required": 2048}],
        "standard_name": "SNV-PC03",
        "computer_name": "KETOAN-PC",
        # Ineligible: no agent now or in this run, so its name stays (the rename scope).
        "rename": False,
        "installed": False,
        "license_granted": False,
        "install": False,
        "license_reason": None,
        "repair_service": False,
        "reboot": False,
        "rename_withheld": {"code": "rename_no_agent"},
        "product_type": "workstation",
        "would_reboot": False,
    }


def test_a_pc_with_the_agent_stopped_or_waiting_for_a_reboot_gets_work() -> None:
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 3, "phong_noi_vu"),),
        hosts=(Host("snv-01", "SNV"), Host("snv-02", "SNV"), Host("snv-03", "SNV")),
    )
    stopped = probe("SNV-PC01", installed=True)
    stopped["agent"] = {**stopped["agent"], "service_state": "Stopped", "service_start_mode": "Manual"}
    waiting = probe("SNV-PC02", installed=True, reboot_pending=True, reboot_pending_reasons=["x"])
    # Without the agent a pending reboot is none of the toolkit's business.
    bare = probe("SNV-PC03", reboot_pending=True)
    probes = {"snv-01": stopped, "snv-02": waiting, "snv-03": bare}
    hosts = build_plan(inventory, probes, {}, REQUIREMENTS).hosts
    assert (hosts["snv-01"].repair_service, hosts["snv-01"].reboot) == (True, False)
    assert (hosts["snv-02"].repair_service, hosts["snv-02"].reboot) == (False, True)
    assert (hosts["snv-03"].repair_service, hosts["snv-03"].reboot) == (False, False)


@pytest.mark.parametrize(
    ("installed", "state", "start_mode", "needs_repair"),
    [
        (True, "Running", "Auto", False),
        (True, "running", "delayed-auto", False),
        (True, "Stopped", "Auto", True),
        (True, "Running", "Manual", True),
        (True, "Missing", None, True),
        # The profile names no service, or the probe could not read it: nothing to repair.
        (True, None, None, False),
        (False, "missing", None, False),
        (False, "Stopped", "Manual", False),
    ],
)
def test_the_service_rule_after_a_probe_is_the_plan_s(
    installed: bool, state: str | None, start_mode: str | None, needs_repair: bool
) -> None:
    found = probe("SNV-PC01", installed=installed)
    found["agent"] = {**found["agent"], "service_state": state, "service_start_mode": start_mode}
    assert service_needs_repair(found) is needs_repair
    unit = Unit("SNV", "Phòng Nội vụ", 1, "phong_noi_vu")
    inventory = Inventory(units=(unit,), hosts=(Host("snv-01", "SNV"),))
    plan = build_plan(inventory, {"snv-01": found}, {}, REQUIREMENTS).hosts["snv-01"]
    assert plan.repair_service is needs_repair


def test_an_unreachable_probe_needs_no_repair() -> None:
    assert service_needs_repair({"unreachable": True, "msg": "connection refused"}) is False


def test_the_filter_answers_with_the_library_s_rule() -> None:
    filters = load_plugin_file("filter/service.py").FilterModule().filters()
    needs_repair = filters["agentroll_service_needs_repair"]
    stopped = probe("SNV-PC01", installed=True)
    stopped["agent"] = {**stopped["agent"], "service_state": "Stopped"}
    assert (needs_repair(stopped), needs_repair(probe("SNV-PC02", installed=True))) == (True, False)


def test_custom_template_reaches_the_plan() -> None:
    plan = build_plan(INVENTORY, PROBES, VIEWS, REQUIREMENTS, template="{{ short }}-{{ unit_code }}")
    assert plan.hosts["snv-02"].standard_name == "THANGPV-SNV"
    assert plan.hosts["snv-02"].rename is True


SCOPE_INVENTORY = Inventory(
    units=(Unit("SNV", "Phòng Nội vụ", 5, "phong_noi_vu"),),
    hosts=tuple(Host(f"snv-0{n}", "SNV") for n in range(1, 6)),
)
SCOPE_PROBES = {
    # A workstation that gets the agent in this run: renamed, and so rebooted.
    "snv-01": probe("MAYPHUONG"),
    # Below the requirements: no agent now or later, so neither renamed nor rebooted.
    "snv-02": probe("KETOAN", ram_mb=1024),
    "snv-03": probe("FILESRV", installed=True, product_type="server"),
    "snv-04": probe("DC01", installed=True, product_type="domain_controller"),
    # Damaged WMI: the type is not known, so it may be a server.
    "snv-05": probe("NOTYPE", installed=True, product_type=None),
}


def test_only_workstations_with_the_agent_are_renamed_by_default() -> None:
    hosts = build_plan(SCOPE_INVENTORY, SCOPE_PROBES, {}, REQUIREMENTS).hosts
    assert {name: (host.rename, host.would_reboot) for name, host in hosts.items()} == {
        "snv-01": (True, True),
        "snv-02": (False, False),
        "snv-03": (False, False),
        "snv-04": (False, False),
        "snv-05": (False, False),
    }
    assert hosts["snv-01"].rename_withheld is None
    assert hosts["snv-02"].rename_withheld == Reason("rename_no_agent")
    assert hosts["snv-03"].rename_withheld == Reason("rename_server", {"product_type": "server"})
    assert hosts["snv-04"].rename_withheld == Reason("rename_server", {"product_type": "domain_controller"})
    assert hosts["snv-05"].rename_withheld == Reason("rename_type_unknown")
    assert hosts["snv-03"].rename_withheld.english() == (
        "not renamed: a server (set agentroll_hostname_rename_servers: true to rename servers)"
    )


def test_the_inventory_can_bring_servers_into_the_rename_scope() -> None:
    hosts = build_plan(SCOPE_INVENTORY, SCOPE_PROBES, {}, REQUIREMENTS, rename_servers=True).hosts
    assert [name for name, host in hosts.items() if host.rename] == ["snv-01", "snv-03", "snv-04"]
    # The opt-in is for servers: a PC without the agent or of unknown type still keeps its name.
    assert hosts["snv-02"].rename_withheld == Reason("rename_no_agent")
    assert hosts["snv-05"].rename_withheld == Reason("rename_type_unknown")


def test_a_server_known_only_from_the_store_is_not_renamed() -> None:
    views = {"snv-03": view_from_probe("snv-03", SCOPE_PROBES["snv-03"])}
    host = build_plan(SCOPE_INVENTORY, {}, views, REQUIREMENTS).hosts["snv-03"]
    assert (host.rename, host.product_type) == (False, "server")


def test_a_run_that_installs_nothing_renames_no_pc_without_the_agent() -> None:
    hosts = build_plan(SCOPE_INVENTORY, SCOPE_PROBES, {}, REQUIREMENTS, installs=False).hosts
    assert hosts["snv-01"].install is True  # what a deployment would do; rename.yml does not
    assert (hosts["snv-01"].rename, hosts["snv-01"].rename_withheld) == (False, Reason("rename_no_agent"))


def test_a_pc_this_run_could_not_probe_counts_as_remembered_and_gets_no_work() -> None:
    views = {"snv-01": view_from_probe("snv-01", probe("MAYPHUONG", installed=True))}
    inventory = Inventory(
        units=(Unit("SNV", "Phòng Nội vụ", 1, "phong_noi_vu"),), hosts=(Host("snv-01", "SNV"),)
    )
    remembered = build_plan(inventory, {}, views, REQUIREMENTS).hosts["snv-01"]
    assert remembered.rename is True  # outside the play (a --limit run): what the store says
    host = build_plan(inventory, {}, views, REQUIREMENTS, unreached=["snv-01"]).hosts["snv-01"]
    assert (host.installed, host.license_granted) == (True, True)
    assert (host.install, host.rename, host.repair_service, host.reboot) == (False, False, False, False)
