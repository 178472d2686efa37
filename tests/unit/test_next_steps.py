"""What to do next about a PC: derived from its state and causes, and shown in every human report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentroll.i18n import catalog
from agentroll.next_steps import UNREACHABLE_STEPS, next_step
from agentroll.reasons import Reason, text
from agentroll.reports import render
from tests.unit.visible import visible_text

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"


@pytest.mark.parametrize(
    ("state", "causes", "expected"),
    [
        ("compliant", [], None),
        ("unknown", [], Reason("next_first_run")),
        ("not_installed", [], Reason("next_install")),
        (
            "not_installed",
            [{"code": "license_waiting", "unit": "VP", "licenses": 7, "eligible": 8}],
            Reason("next_wait_license", {"unit": "VP"}),
        ),
        ("agent_unhealthy", [{"code": "service_stopped", "service": "X"}], Reason("next_start_service")),
        ("agent_unhealthy", [{"code": "agent_silent", "days": 20}], Reason("next_check_registration")),
        (
            "misnamed",
            [{"code": "name_mismatch", "computer_name": "a", "standard_name": "B"}],
            Reason("next_rename"),
        ),
        # Out of the rename scope: the operator's move, no run's.
        (
            "misnamed",
            [
                {"code": "name_mismatch", "computer_name": "a", "standard_name": "B"},
                {"code": "rename_server", "product_type": "domain_controller"},
            ],
            Reason("next_rename_server_or_by_hand", {"product_type": "domain_controller"}),
        ),
        (
            "misnamed",
            [
                {"code": "name_mismatch", "computer_name": "a", "standard_name": "B"},
                {"code": "rename_type_unknown"},
            ],
            Reason("next_rename_by_hand"),
        ),
        # An older judgement that no longer holds (the agent is on it now): the next run renames it.
        (
            "misnamed",
            [
                {"code": "name_mismatch", "computer_name": "a", "standard_name": "B"},
                {"code": "rename_no_agent"},
            ],
            Reason("next_rename"),
        ),
        ("reboot_pending", [{"code": "reboot_rename"}], Reason("next_reboot_rename")),
        ("reboot_pending", [{"code": "reboot_windows_update"}], Reason("next_reboot")),
        (
            "ineligible",
            [
                {"code": "ram", "measured": 1536, "required": 2048},
                {"code": "disk", "drive": "C:", "measured": 350, "required": 2048},
            ],
            Reason(
                "next_fix_or_release",
                {
                    "fixes": [
                        {"code": "fix_ram", "required": 2048},
                        {"code": "fix_disk", "drive": "C:", "missing": 1698},
                    ]
                },
            ),
        ),
        ("ineligible", [text("a sentence of an older store")], Reason("next_release")),
        (
            "unmanageable",
            [text("Ansible requires PowerShell v5.1")],
            Reason("next_fix_or_release", {"fixes": [{"code": "fix_powershell", "required": "5.1"}]}),
        ),
        ("unmanageable", [], Reason("next_enable_remote_management")),
        (
            "failed",
            [
                {
                    "code": "step_failed",
                    "step": "install",
                    "error": {"code": "installer_exit_code", "exit_code": 1603},
                }
            ],
            Reason("next_installer_failed", {"exit_code": 1603}),
        ),
        (
            "failed",
            [
                {
                    "code": "step_failed",
                    "step": "install",
                    "error": {"code": "installer_exit_code", "exit_code": 1618},
                }
            ],
            Reason("next_installer_busy"),
        ),
        (
            "failed",
            [{"code": "step_failed", "step": "reboot", "error": {"code": "reboot_timeout", "seconds": 600}}],
            Reason("next_check_on_site"),
        ),
        (
            "failed",
            [{"code": "step_failed", "step": "install", "error": {"code": "details_hidden"}}],
            Reason("next_read_log", {"step": "install"}),
        ),
        ("failed", [{"code": "step_failed", "step": "x", "error": text("boom")}], Reason("next_fix_error")),
        # The outcomes of an install whose result never arrived, as a failure or a plain reason.
        (
            "failed",
            [{"code": "step_failed", "step": "install", "error": {"code": "interrupted", "step": "install"}}],
            Reason("next_interrupted", {"step": "install"}),
        ),
        (
            "not_installed",
            [{"code": "interrupted", "step": "install"}],
            Reason("next_interrupted", {"step": "install"}),
        ),
        ("unreachable", [text("connection refused")], Reason("next_switch_on_or_enable_winrm")),
        ("unreachable", [text("no route to the moon")], Reason("next_check_reachable")),
    ],
)
def test_next_step_of_each_state(state: str, causes: list[Any], expected: Reason | None) -> None:
    assert next_step(state, causes) == expected


@pytest.mark.parametrize("cause", sorted(UNREACHABLE_STEPS))
def test_every_unreachable_cause_has_its_own_action(cause: str) -> None:
    step = next_step("unreachable", [{"code": cause}])
    assert step == Reason(UNREACHABLE_STEPS[cause])
    assert next_step("unreachable", [Reason(cause).english()]) == step  # the same cause as a sentence


def test_the_unreachable_actions_are_distinct() -> None:
    assert len(set(UNREACHABLE_STEPS.values())) == len(UNREACHABLE_STEPS)


def test_the_onboarding_guide_is_the_readers_language() -> None:
    refused = Reason("next_switch_on_or_enable_winrm")
    assert "docs/onboarding.en.md" in refused.english()
    assert "docs/onboarding.vi.md" in refused.render(catalog("vi"))
    for path in ("docs/onboarding.en.md", "docs/onboarding.vi.md"):
        assert (Path(__file__).resolve().parents[2] / path).is_file()


# --- every unreachable cause, with its action, in every human report and both languages -----------


@pytest.fixture(scope="module")
def unreachable_report() -> dict[str, Any]:
    """The sample report with one unreachable PC per cause (the cause's code), next steps as the core
    would derive them."""
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    template = next(host for host in report["hosts"] if host["state"] == "unreachable")
    hosts = [host for host in report["hosts"] if host["state"] != "unreachable"]
    for index, cause in enumerate(sorted(UNREACHABLE_STEPS)):
        step = next_step("unreachable", [{"code": cause}])
        assert step is not None
        hosts.append(
            dict(
                template,
                host=f"off-{index:02d}",
                causes=[{"code": cause}],
                reasons=[Reason(cause).english()],
                next_step=step.as_value(),
            )
        )
    stragglers = sorted(
        {*report["stragglers"], *(host["host"] for host in hosts if host["host"].startswith("off-"))}
    )
    return dict(report, hosts=hosts, stragglers=stragglers)


def _visible_text(report: dict[str, Any], fmt: str, lang: str) -> str:
    return visible_text(fmt, render(report, fmt, lang=lang))


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("fmt", ["text", "md", "csv", "html", "xlsx"])
def test_every_unreachable_cause_carries_its_action_in_every_report(
    unreachable_report: dict[str, Any], fmt: str, lang: str
) -> None:
    shown = _visible_text(unreachable_report, fmt, lang)
    for cause in UNREACHABLE_STEPS:
        action = Reason(UNREACHABLE_STEPS[cause]).render(catalog(lang))
        assert action in shown, f"{cause}: {action!r} missing from the {lang} {fmt} report"
    if lang == "vi":
        assert Reason("next_check_credentials").english() not in shown
