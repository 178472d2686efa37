"""agentroll.selftest: the probe compared with ansible.windows.setup and win_service_info, field by field."""

from __future__ import annotations

from typing import Any

import pytest
from plugin_files import load_plugin_file
from probe_samples import probe_result

from agentroll.selftest import RAM_TOLERANCE_MB, Check, compare, disagreements, render

AGENT = {
    "installed": True,
    "product_id": "{6D1C2F5A-7B3E-4C1A-9E55-A6E0C0FFEE01}",
    "display_name": "agentroll sample agent",
    "version": "1.0.0",
    "service_name": "AgentrollSample",
    "service_state": "running",
    "service_start_mode": "auto",
}
#: setup's ansible_facts for the same PC as ``probe_result`` describes (as setup.ps1 names them).
FACTS: dict[str, Any] = {
    "ansible_netbios_name": "KT-THANGPV",
    "ansible_hostname": "kt-thangpv",
    "ansible_distribution": "Microsoft Windows 10 Pro",
    "ansible_distribution_version": "10.0.19045.0",
    "ansible_os_product_type": "workstation",
    "ansible_architecture2": "x86_64",
    "ansible_memtotal_mb": 8192,
    "ansible_powershell_version": 5,
    "ansible_env": {"SystemDrive": "C:"},
    "ansible_reboot_pending": False,
}
SERVICE = {
    "changed": False,
    "exists": True,
    "services": [{"name": "AgentrollSample", "state": "started", "start_mode": "auto"}],
}


def probe(**changes: Any) -> dict[str, Any]:
    agent = {**AGENT, **changes.pop("agent", {})}
    return probe_result(changes.pop("computer_name", "KT-THANGPV"), agent, **changes)


def checks_of(field: str, checks: list[Check]) -> Check:
    return next(check for check in checks if check.field == field)


def verdicts(
    probe_changes: dict[str, Any] | None = None, facts: dict[str, Any] | None = None, service: Any = SERVICE
):
    checks = compare(probe(**(probe_changes or {})), {**FACTS, **(facts or {})}, service)
    return {check.field: check.agrees for check in checks}


def test_a_pc_read_alike_both_ways_agrees_on_everything_compared() -> None:
    checks = compare(probe(), FACTS, SERVICE)
    assert disagreements(checks) == []
    assert [check.field for check in checks if check.agrees is None] == ["system drive free space"]
    assert len(checks) == 14


@pytest.mark.parametrize(
    ("probe_changes", "facts", "field"),
    [
        ({}, {"ansible_netbios_name": "MAYPHUONG"}, "computer name"),
        ({}, {"ansible_hostname": "phong-ke-toan-may-01"}, "computer name (DNS host name)"),
        ({"os_caption": "Microsoft Windows 11 Pro"}, {}, "OS caption"),
        ({"os_build": 19044}, {}, "OS build"),
        ({"product_type": "unknown"}, {}, "product type"),
        ({"architecture": "x86"}, {}, "architecture"),
        ({"ram_mb": 8192 - RAM_TOLERANCE_MB - 1}, {}, "RAM (MB)"),
        ({"powershell_version": "7.4.1"}, {}, "PowerShell major version"),
        ({"system_drive": "D:"}, {}, "system drive"),
        ({"ram_mb": None}, {}, "RAM (MB)"),
    ],
)
def test_each_field_that_differs_is_a_disagreement(
    probe_changes: dict[str, Any], facts: dict[str, Any], field: str
) -> None:
    result = verdicts(probe_changes, facts)
    assert [name for name, agrees in result.items() if agrees is False] == [field]


def test_how_fields_are_compared() -> None:
    """Names case-insensitively, x86_64 as x64, RAM within the tolerance, PowerShell by major version."""
    assert verdicts({"computer_name": "kt-thangpv", "architecture": "x64"})["computer name"] is True
    assert verdicts({"ram_mb": 8192 - RAM_TOLERANCE_MB})["RAM (MB)"] is True
    assert verdicts({"powershell_version": "5.1.22621.2506"})["PowerShell major version"] is True
    assert verdicts({"architecture": "x86"}, {"ansible_architecture2": "i386"})["architecture"] is True


def test_facts_without_the_ansible_prefix_are_read_too() -> None:
    unprefixed = {key.removeprefix("ansible_"): value for key, value in FACTS.items()}
    assert disagreements(compare(probe(), unprefixed, SERVICE)) == []


def test_what_setup_does_not_report_is_not_compared() -> None:
    """A non-admin setup has no distribution; the fact is skipped, not a disagreement."""
    facts = {key: value for key, value in FACTS.items() if key != "ansible_distribution"}
    check = checks_of("OS caption", compare(probe(), facts, SERVICE))
    assert (check.agrees, check.note) == (None, "not compared: setup did not report distribution")


@pytest.mark.parametrize(
    ("pending", "reasons", "setup_pending", "agrees"),
    [
        (False, [], False, True),
        (True, ["computer rename"], False, True),
        (True, ["windows update"], False, True),
        (True, ["pending file rename operations"], True, True),
        (True, ["pending file rename operations"], False, False),
        (False, [], True, False),
        (True, ["component based servicing", "computer rename"], False, False),
    ],
)
def test_reboot_pending_allows_for_the_causes_only_the_probe_checks(
    pending: bool, reasons: list[str], setup_pending: bool, agrees: bool
) -> None:
    result = verdicts(
        {"reboot_pending": pending, "reboot_pending_reasons": reasons},
        {"ansible_reboot_pending": setup_pending},
    )
    assert result["reboot pending"] is agrees


@pytest.mark.parametrize(
    ("agent", "entry", "field", "agrees"),
    [
        ({"service_start_mode": "auto"}, {"start_mode": "delayed"}, "agent service start mode", True),
        ({"service_start_mode": "manual"}, {"start_mode": "auto"}, "agent service start mode", False),
        ({"service_state": "stopped"}, {"state": "stopped"}, "agent service running", True),
        ({"service_state": "running"}, {"state": "stopped"}, "agent service running", False),
        ({"service_state": "stopped"}, {"state": "start_pending"}, "agent service running", True),
    ],
)
def test_the_agent_service_as_win_service_info_sees_it(
    agent: dict[str, Any], entry: dict[str, Any], field: str, agrees: bool
) -> None:
    service = {"exists": True, "services": [{**SERVICE["services"][0], **entry}]}
    assert verdicts({"agent": agent}, service=service)[field] is agrees


def test_a_service_one_side_does_not_see_is_a_disagreement() -> None:
    missing = {"exists": False, "services": []}
    assert verdicts(service=missing)["agent service exists"] is False
    both_missing = verdicts(
        {"agent": {"service_state": "missing", "service_start_mode": None}}, service=missing
    )
    assert both_missing["agent service exists"] is True and "agent service running" not in both_missing


def test_the_service_is_not_compared_when_the_probe_could_not_read_it_or_nothing_asked() -> None:
    unread = checks_of("agent service exists", compare(probe(agent={"service_state": None}), FACTS, SERVICE))
    assert unread.agrees is None and "could not read" in unread.note
    skipped = compare(probe(), FACTS, {"skipped": True, "changed": False})
    assert checks_of("agent service", skipped).note == "not compared: not run"
    unnamed = compare(probe(agent={"service_name": None}), FACTS, None)
    assert checks_of("agent service", unnamed).note == "not compared: no agent service name is configured"


def test_render_puts_disagreements_first_and_sums_up() -> None:
    lines = render(compare(probe(product_type="unknown"), FACTS, SERVICE))
    assert lines[0] == (
        "self-test: 1 disagreement(s), 12 agreement(s), 1 not compared: look at every DIFFERS line"
    )
    assert lines[1] == (
        "DIFFERS product type: probe 'unknown', ansible.windows.setup ansible_os_product_type 'workstation'"
    )
    assert lines[-1].startswith(
        "skipped system drive free space: probe 120000, ansible.windows.setup unknown"
    )


def _filter():
    return load_plugin_file("filter/selftest.py").FilterModule().filters()["agentroll_selftest"]


def test_the_filter_returns_the_count_and_the_lines() -> None:
    result = _filter()(probe(), FACTS, {"skipped": True})
    assert result["disagreements"] == 0 and result["lines"][0].startswith("self-test: 0 disagreement(s)")


@pytest.mark.parametrize(
    ("value", "facts", "message"),
    [
        ({"failed": True, "msg": "boom"}, FACTS, "the input must be the registered result of the probe"),
        (probe(), "not facts", "the first argument must be setup's ansible_facts"),
    ],
)
def test_the_filter_names_a_wrong_input(value: Any, facts: Any, message: str) -> None:
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match=message):
        _filter()(value, facts)
