"""Mapping a probe result onto observations of the shapes in docs/architecture.md."""

from __future__ import annotations

from typing import Any

import pytest
from probe_samples import REQUIREMENTS
from probe_samples import probe_result as sample_probe

from agentroll.model import Aspect
from agentroll.observe import observations_from_probe

INSTALLED_AGENT: dict[str, Any] = {
    "installed": True,
    "product_id": "{6F1C2B7E-0000-4000-8000-000000000001}",
    "display_name": "WinMon Agent",
    "version": "7.2.1",
    "service_name": "WinMonAgent",
    "service_state": "running",
    "service_start_mode": "auto",
}


def probe_result(agent: dict[str, Any] = INSTALLED_AGENT, **changes: Any) -> dict[str, Any]:
    """A probe module result as returned for a healthy, installed, misnamed PC."""
    return sample_probe("MAYPHUONG", agent, **changes)


def test_a_probe_yields_every_aspect_with_the_documented_shapes() -> None:
    observations = dict(observations_from_probe(probe_result(), REQUIREMENTS))
    assert list(observations) == [
        Aspect.CONTACT,
        Aspect.FACTS,
        Aspect.AGENT,
        Aspect.NAME,
        Aspect.REBOOT,
        Aspect.ELIGIBILITY,
    ]
    assert observations[Aspect.CONTACT] == {"status": "ok", "reason": None}
    assert observations[Aspect.FACTS] == {
        "os_caption": "Microsoft Windows 10 Pro",
        "os_build": 19045,
        "os_family": "windows10",
        "product_type": "workstation",
        "architecture": "x64",
        "ram_mb": 8192,
        "system_drive": "C:",
        "system_size_mb": 256000,
        "system_free_mb": 120000,
        "powershell_version": "5.1.19041.4648",
    }
    assert observations[Aspect.AGENT] == {
        "installed": True,
        "version": "7.2.1",
        "service_name": "WinMonAgent",
        "service_state": "running",
        "start_mode": "auto",
    }
    assert observations[Aspect.NAME] == {"computer_name": "MAYPHUONG", "pending_name": None}
    assert observations[Aspect.REBOOT] == {"pending": False, "reason": None}
    assert observations[Aspect.ELIGIBILITY] == {"eligible": True, "reasons": []}


def test_without_requirements_there_is_no_eligibility() -> None:
    aspects = [aspect for aspect, _ in observations_from_probe(probe_result())]
    assert Aspect.ELIGIBILITY not in aspects


def test_eligibility_reasons_come_from_the_probed_facts() -> None:
    observations = dict(observations_from_probe(probe_result(ram_mb=1024, system_free_mb=900), REQUIREMENTS))
    assert observations[Aspect.ELIGIBILITY] == {
        "eligible": False,
        "reasons": [
            {"code": "ram", "measured": 1024, "required": 2048},
            {"code": "disk", "drive": "C:", "measured": 900, "required": 2048},
        ],
    }


def test_pending_rename_and_reboot_reasons() -> None:
    probe = probe_result(
        pending_computer_name="SNV-PHUONGNT",
        reboot_pending=True,
        reboot_pending_reasons=["computer rename", "Windows Update"],
    )
    observations = dict(observations_from_probe(probe))
    assert observations[Aspect.NAME] == {"computer_name": "MAYPHUONG", "pending_name": "SNV-PHUONGNT"}
    assert observations[Aspect.REBOOT] == {"pending": True, "reason": "computer rename; Windows Update"}


def test_missing_agent_is_not_installed() -> None:
    probe = probe_result(
        agent={"installed": False, "version": None, "service_state": "missing", "service_start_mode": None}
    )
    assert dict(observations_from_probe(probe))[Aspect.AGENT] == {
        "installed": False,
        "version": None,
        "service_name": None,
        "service_state": "missing",
        "start_mode": None,
    }


@pytest.mark.parametrize(
    ("state", "mode", "expected_state", "expected_mode"),
    [
        ("Running", "Automatic", "running", "auto"),
        ("Stopped", "Manual", "stopped", "manual"),
        ("StartPending", "Disabled", "stopped", "disabled"),
        (None, None, None, None),
    ],
)
def test_windows_spellings_of_service_state_and_start_mode(
    state: str | None, mode: str | None, expected_state: str | None, expected_mode: str | None
) -> None:
    agent = {"installed": True, "version": "7", "service_state": state, "service_start_mode": mode}
    value = dict(observations_from_probe(probe_result(agent=agent)))[Aspect.AGENT]
    assert (value["service_state"], value["start_mode"]) == (expected_state, expected_mode)


def test_server_probe_and_stringly_numbers() -> None:
    probe = probe_result(
        os_caption="Microsoft Windows Server 2019 Standard",
        os_build="17763",
        product_type="Server",
        architecture="AMD64",
        ram_mb="4096",
    )
    facts = dict(observations_from_probe(probe))[Aspect.FACTS]
    assert facts["os_family"] == "server2019"
    assert facts["os_build"] == 17763
    assert facts["product_type"] == "server"
    assert facts["architecture"] == "x64"
    assert facts["ram_mb"] == 4096


def test_missing_facts_become_null_and_make_the_host_ineligible() -> None:
    probe = probe_result()
    del probe["ram_mb"]
    observations = dict(observations_from_probe(probe, REQUIREMENTS))
    assert observations[Aspect.FACTS]["ram_mb"] is None
    assert observations[Aspect.ELIGIBILITY] == {
        "eligible": False,
        "reasons": [{"code": "unknown_fact", "fact": "ram_mb", "required": 2048}],
    }
