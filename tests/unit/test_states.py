"""Host state derivation: one test per rule of the precedence, and the order between rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agentroll.model import Aspect, HostState, HostView, Observation
from agentroll.reasons import Reason, text
from agentroll.states import assess, is_installed

STANDARD = "SNV-PHUONGNT"
LATEST_RUN = 7
WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)

CONTACT_OK = {"status": "ok", "reason": None}
AGENT_OK = {"installed": True, "version": "7.2", "service_state": "running", "start_mode": "auto"}
NAME_OK = {"computer_name": "SNV-PHUONGNT", "pending_name": None}
NO_REBOOT = {"pending": False, "reason": None}
ELIGIBLE = {"eligible": True, "reasons": []}


def view(values: dict[Aspect, dict[str, Any]], runs: dict[Aspect, int] | None = None) -> HostView:
    """A view whose observations all come from the latest run unless ``runs`` says otherwise."""
    runs = runs or {}
    latest = {
        aspect: Observation("snv-01", aspect, value, WHEN, runs.get(aspect, LATEST_RUN))
        for aspect, value in values.items()
    }
    return HostView("snv-01", latest, last_run_id=LATEST_RUN if latest else None)


def healthy(**changes: dict[str, Any]) -> HostView:
    """A compliant host, with some aspects replaced (keys are aspect values, e.g. ``agent=``)."""
    values = {
        Aspect.CONTACT: CONTACT_OK,
        Aspect.FACTS: {"os_build": 19045},
        Aspect.ELIGIBILITY: ELIGIBLE,
        Aspect.AGENT: AGENT_OK,
        Aspect.NAME: NAME_OK,
        Aspect.REBOOT: NO_REBOOT,
    }
    values.update({Aspect(key): value for key, value in changes.items()})
    return view(values)


def test_no_observation_is_unknown() -> None:
    assert assess(view({}), STANDARD).state == HostState.UNKNOWN


def test_compliant() -> None:
    assessment = assess(healthy(), STANDARD)
    assert (assessment.state, assessment.reasons) == (HostState.COMPLIANT, ())


def test_unreachable_carries_the_contact_reason() -> None:
    contact = {"status": "unreachable", "reason": "credentials rejected"}
    assessment = assess(healthy(contact=contact), STANDARD)
    assert (assessment.state, assessment.reasons) == (HostState.UNREACHABLE, (text("credentials rejected"),))


def test_a_structured_contact_reason_stays_structured() -> None:
    contact = {"status": "unreachable", "reason": {"code": "credentials_rejected"}}
    assessment = assess(healthy(contact=contact), STANDARD)
    assert assessment.reasons == (Reason("credentials_rejected"),)
    assert assessment.reasons[0].english() == "credentials rejected"


def test_unmanageable_carries_the_contact_reason() -> None:
    contact = {"status": "unmanageable", "reason": "PowerShell 2.0 < 5.1"}
    assessment = assess(healthy(contact=contact), STANDARD)
    assert (assessment.state, assessment.reasons) == (HostState.UNMANAGEABLE, (text("PowerShell 2.0 < 5.1"),))


def test_failure_of_the_latest_run_is_failed_with_task_and_reason() -> None:
    failure = {"task": "Install the agent", "reason": "installer exit code 1603"}
    assessment = assess(healthy(failure=failure), STANDARD)
    assert assessment.state == HostState.FAILED
    error = {"code": "text", "text": "installer exit code 1603"}
    assert assessment.reasons == (Reason("step_failed", {"step": "Install the agent", "error": error}),)
    assert assessment.reasons[0].english() == "Install the agent: installer exit code 1603"


@pytest.mark.parametrize(
    ("failure", "english"),
    [
        (
            {"task": "install", "reason": {"code": "installer_exit_code", "exit_code": 1603}},
            "install: installer exit code 1603",
        ),
        ({"task": "rename", "reason": None}, "rename failed"),
        ({"task": None, "reason": "no space left"}, "no space left"),
        ({}, "unknown failure"),
    ],
)
def test_a_failure_says_what_it_knows(failure: dict[str, Any], english: str) -> None:
    assessment = assess(healthy(failure=failure), STANDARD)
    assert (assessment.state, [reason.english() for reason in assessment.reasons]) == (
        HostState.FAILED,
        [english],
    )


def test_failure_of_an_earlier_run_no_longer_counts() -> None:
    values = {
        Aspect.CONTACT: CONTACT_OK,
        Aspect.AGENT: AGENT_OK,
        Aspect.NAME: NAME_OK,
        Aspect.REBOOT: NO_REBOOT,
    }
    values[Aspect.FAILURE] = {"task": "Install the agent", "reason": "installer exit code 1603"}
    old_failure = view(values, runs={Aspect.FAILURE: LATEST_RUN - 1})
    assert assess(old_failure, STANDARD).state == HostState.COMPLIANT


def test_reboot_pending_carries_the_reboot_reason() -> None:
    reboot = {"pending": True, "reason": "computer rename"}
    assessment = assess(healthy(reboot=reboot), STANDARD)
    assert (assessment.state, assessment.reasons) == (HostState.REBOOT_PENDING, (Reason("reboot_rename"),))


def test_reboot_causes_joined_by_the_probe_are_each_a_reason() -> None:
    reboot = {"pending": True, "reason": "windows update; computer rename; installer exit code 3010"}
    assessment = assess(healthy(reboot=reboot), STANDARD)
    assert assessment.reasons == (
        Reason("reboot_windows_update"),
        Reason("reboot_rename"),
        text("installer exit code 3010"),
    )


def test_structured_reboot_causes_are_read_as_they_are() -> None:
    causes = [{"code": "reboot_installer", "exit_code": 3010}, {"code": "reboot_servicing"}]
    assessment = assess(healthy(reboot={"pending": True, "reason": causes}), STANDARD)
    assert [reason.english() for reason in assessment.reasons] == [
        "installer requested a reboot (exit code 3010)",
        "component based servicing",
    ]


def test_reboot_pending_without_reason_still_says_so() -> None:
    assessment = assess(healthy(reboot={"pending": True, "reason": None}), STANDARD)
    assert assessment.reasons == (Reason("reboot_pending"),)


@pytest.mark.parametrize(
    ("agent_changes", "reason"),
    [
        ({"service_state": "stopped"}, Reason("agent_service_stopped")),
        ({"service_state": "missing"}, Reason("agent_service_missing")),
        ({"service_state": None}, Reason("agent_service_state_unknown")),
        (
            {"service_state": "stopped", "service_name": "WinMonAgent"},
            Reason("service_stopped", {"service": "WinMonAgent"}),
        ),
        (
            {"service_state": "missing", "service_name": "WinMonAgent"},
            Reason("service_missing", {"service": "WinMonAgent"}),
        ),
    ],
)
def test_agent_unhealthy_says_what_the_service_does(agent_changes: dict[str, Any], reason: Reason) -> None:
    assessment = assess(healthy(agent={**AGENT_OK, **agent_changes}), STANDARD)
    assert (assessment.state, assessment.reasons) == (HostState.AGENT_UNHEALTHY, (reason,))


def test_misnamed_names_both_names() -> None:
    assessment = assess(healthy(name={"computer_name": "MAYPHUONG", "pending_name": None}), STANDARD)
    assert assessment.state == HostState.MISNAMED
    assert assessment.reasons == (
        Reason("name_mismatch", {"computer_name": "MAYPHUONG", "standard_name": "SNV-PHUONGNT"}),
    )
    assert assessment.reasons[0].english() == 'computer name "MAYPHUONG" != standard "SNV-PHUONGNT"'


def test_name_comparison_ignores_case() -> None:
    assessment = assess(healthy(name={"computer_name": "snv-phuongnt", "pending_name": None}), STANDARD)
    assert assessment.state == HostState.COMPLIANT


def test_wrong_pending_name_is_misnamed_even_if_current_name_is_right() -> None:
    name = {"computer_name": "SNV-PHUONGNT", "pending_name": "OTHER"}
    assessment = assess(healthy(name=name), STANDARD)
    assert assessment.state == HostState.MISNAMED
    assert assessment.reasons == (
        Reason("pending_name_mismatch", {"pending_name": "OTHER", "standard_name": "SNV-PHUONGNT"}),
    )


def test_right_pending_name_counts_as_correct() -> None:
    name = {"computer_name": "MAYPHUONG", "pending_name": "SNV-PHUONGNT"}
    assert assess(healthy(name=name), STANDARD).state == HostState.COMPLIANT


def test_unknown_name_is_misnamed_but_no_standard_means_no_name_check() -> None:
    without_name = view({Aspect.CONTACT: CONTACT_OK, Aspect.AGENT: AGENT_OK, Aspect.REBOOT: NO_REBOOT})
    assert assess(without_name, STANDARD).state == HostState.MISNAMED
    assert assess(without_name, STANDARD).reasons == (Reason("name_unknown", {"standard_name": STANDARD}),)
    assert assess(healthy(name={"computer_name": "MAYPHUONG", "pending_name": None}), None).state == (
        HostState.COMPLIANT
    )


def test_ineligible_without_agent_carries_the_eligibility_reasons() -> None:
    ram = {"code": "ram", "measured": 1024, "required": 2048}
    eligibility = {"eligible": False, "reasons": [ram, "PowerShell 2.0 < 5.1"]}
    assessment = assess(healthy(agent={"installed": False}, eligibility=eligibility), STANDARD)
    assert assessment.state == HostState.INELIGIBLE
    # The second one as an older store wrote it: a sentence.
    assert assessment.reasons == (Reason.from_value(ram), text("PowerShell 2.0 < 5.1"))


def test_not_installed_without_a_reason() -> None:
    assessment = assess(healthy(agent={"installed": False, "service_state": None}), STANDARD)
    assert (assessment.state, assessment.reasons) == (HostState.NOT_INSTALLED, ())


def test_refused_license_is_a_reason_of_not_installed() -> None:
    waiting = {"code": "license_waiting", "unit": "SNV", "licenses": 6, "eligible": 8}
    license_ = {"granted": False, "reason": waiting}
    assessment = assess(healthy(agent={"installed": False}, license=license_), STANDARD)
    assert assessment.state == HostState.NOT_INSTALLED
    assert assessment.reasons == (Reason.from_value(waiting),)


def test_contact_only_is_not_installed() -> None:
    assert assess(view({Aspect.CONTACT: CONTACT_OK}), STANDARD).state == HostState.NOT_INSTALLED


# The order between rules: each pair shows the earlier rule winning over the later one.
@pytest.mark.parametrize(
    ("changes", "state"),
    [
        (
            {
                "contact": {"status": "unreachable", "reason": "timed out"},
                "failure": {"task": "t", "reason": "r"},
            },
            HostState.UNREACHABLE,
        ),
        (
            {
                "contact": {"status": "unmanageable", "reason": "Windows 7"},
                "failure": {"task": "t", "reason": "r"},
            },
            HostState.UNMANAGEABLE,
        ),
        (
            {"failure": {"task": "t", "reason": "r"}, "reboot": {"pending": True, "reason": "x"}},
            HostState.FAILED,
        ),
        (
            {"reboot": {"pending": True, "reason": "x"}, "agent": {**AGENT_OK, "service_state": "stopped"}},
            HostState.REBOOT_PENDING,
        ),
        (
            {
                "agent": {**AGENT_OK, "service_state": "stopped"},
                "name": {"computer_name": "X", "pending_name": None},
            },
            HostState.AGENT_UNHEALTHY,
        ),
        (
            {
                "name": {"computer_name": "X", "pending_name": None},
                "eligibility": {"eligible": False, "reasons": ["RAM 1 MB < 2048 MB"]},
            },
            HostState.MISNAMED,
        ),
        (
            {
                "agent": {"installed": False},
                "eligibility": {"eligible": False, "reasons": ["RAM 1 MB < 2048 MB"]},
                "license": {"granted": False, "reason": "waiting"},
            },
            HostState.INELIGIBLE,
        ),
        (
            {
                "agent": {"installed": False},
                "reboot": {"pending": True, "reason": "x"},
                "name": {"computer_name": "X", "pending_name": None},
            },
            HostState.NOT_INSTALLED,
        ),
    ],
)
def test_precedence_between_rules(changes: dict[str, dict[str, Any]], state: HostState) -> None:
    assert assess(healthy(**changes), STANDARD).state == state


def test_unreachable_host_with_the_agent_still_counts_as_installed() -> None:
    host = healthy(contact={"status": "unreachable", "reason": "connection refused"})
    assert assess(host, STANDARD).state == HostState.UNREACHABLE
    assert is_installed(host)


@pytest.mark.parametrize(
    ("values", "installed"),
    [
        ({}, False),
        ({Aspect.AGENT: {"installed": False}}, False),
        ({Aspect.AGENT: AGENT_OK}, True),
    ],
)
def test_is_installed(values: dict[Aspect, dict[str, Any]], installed: bool) -> None:
    assert is_installed(view(values)) is installed


SERVER_DOWN = {
    "server": "soc.example.gov.vn:8443",
    "reachable": False,
    "error": "no answer",
    "last_contact": None,
}


def test_an_agent_that_cannot_reach_its_server_is_unhealthy() -> None:
    assessment = assess(healthy(checkin=SERVER_DOWN), STANDARD)
    assert assessment.state == HostState.AGENT_UNHEALTHY
    assert assessment.reasons == (Reason("server_unreachable", {"server": "soc.example.gov.vn:8443"}),)


def test_a_stopped_service_comes_before_the_unreachable_server() -> None:
    stopped = {**AGENT_OK, "service_name": "Agent", "service_state": "stopped"}
    assessment = assess(healthy(agent=stopped, checkin=SERVER_DOWN), STANDARD)
    assert assessment.reasons == (Reason("service_stopped", {"service": "Agent"}),)


def test_the_server_says_nothing_without_an_agent() -> None:
    assessment = assess(healthy(agent={"installed": False}, checkin=SERVER_DOWN), STANDARD)
    assert assessment.state == HostState.NOT_INSTALLED


def test_a_check_in_older_than_the_latest_probe_no_longer_counts() -> None:
    host = healthy(checkin=SERVER_DOWN)
    earlier = Observation("snv-01", Aspect.CHECKIN, SERVER_DOWN, datetime(2026, 11, 1, tzinfo=UTC), 3)
    host.latest[Aspect.CHECKIN] = earlier
    assert assess(host, STANDARD).state == HostState.COMPLIANT


def reached_the_server(days_before_the_probe: float) -> dict[str, Any]:
    """A check-in whose server answers, the agent's own last contact that long before the probe."""
    contacted = WHEN - timedelta(days=days_before_the_probe)
    return {
        **SERVER_DOWN,
        "reachable": True,
        "error": None,
        "last_contact": contacted.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@pytest.mark.parametrize(
    ("days", "stale_days", "state"), [(7.5, 7, "compliant"), (8, 7, "agent_unhealthy"), (8, 10, "compliant")]
)
def test_an_agent_silent_longer_than_the_stale_days_is_unhealthy(
    days: float, stale_days: int, state: str
) -> None:
    assessment = assess(healthy(checkin=reached_the_server(days)), STANDARD, stale_days)
    assert assessment.state == state
    if state == "agent_unhealthy":
        assert assessment.reasons == (Reason("agent_silent", {"days": 8}),)


def test_an_unreachable_server_comes_before_the_agents_silence() -> None:
    silent_and_blocked = {**reached_the_server(20), "reachable": False}
    assessment = assess(healthy(checkin=silent_and_blocked), STANDARD)
    assert assessment.reasons == (Reason("server_unreachable", {"server": "soc.example.gov.vn:8443"}),)


@pytest.mark.parametrize("last_contact", [None, "", "yesterday", "2026-11-01T08:00:00"])
def test_a_last_contact_that_is_no_moment_in_time_says_nothing(last_contact: str | None) -> None:
    checkin = {**reached_the_server(0), "last_contact": last_contact}
    assert assess(healthy(checkin=checkin), STANDARD).state == HostState.COMPLIANT
