"""Task outcomes, by step, into observations of the shapes in docs/architecture.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from probe_samples import REQUIREMENTS
from probe_samples import probe_result as sample_probe

from agentroll.model import STRAGGLER_STATES, Aspect, Assessment, HostState, HostView, Observation
from agentroll.observe import Observer, Status, TaskOutcome, observations_from_probe
from agentroll.reasons import Reason
from agentroll.states import assess

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


def test_a_probe_that_checked_in_gives_its_check_in() -> None:
    checkin = {
        "server": "soc.example.gov.vn:8443",
        "reachable": False,
        "error": "refused",
        "last_contact": None,
    }
    observations = dict(observations_from_probe({**probe_result(), "checkin": checkin}))
    assert observations[Aspect.CHECKIN] == checkin
    assert Aspect.CHECKIN not in dict(observations_from_probe({**probe_result(), "checkin": None}))


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
    assert observations[Aspect.REBOOT] == {
        "pending": True,
        "reason": [{"code": "reboot_rename"}, {"code": "reboot_windows_update"}],
    }


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


# -- the Observer: task outcomes, by step, into observations ----------------------------------------

HOST = "snv-01"
AGENT_MISSING = {"installed": False, "version": None, "service_state": "missing", "service_start_mode": None}


def outcome(
    step: str | None, status: Status = Status.OK, result: dict[str, Any] | None = None, **extra: Any
) -> TaskOutcome:
    return TaskOutcome(host=HOST, step=step, status=status, result=result or {}, **extra)


def planned(observer: Observer, **plan: Any) -> None:
    """Feed the observer a probe (agent missing) and a plan for HOST."""
    observer.observe(outcome("probe", result=probe_result(agent=AGENT_MISSING)))
    entry = {"eligible": True, "reasons": [], "standard_name": "SNV-PHUONGNT", "install": True, **plan}
    observer.observe(outcome("plan", result={"hosts": {HOST: entry}}))


def view_of(*findings: dict[str, list[tuple[Aspect, dict[str, Any]]]], run_id: int = 7) -> HostView:
    """The host view those findings leave in the store, all from one run."""
    latest: dict[Aspect, Observation] = {}
    for found in findings:
        for aspect, value in found.get(HOST, []):
            latest[aspect] = Observation(HOST, aspect, value, datetime(2026, 11, 20, tzinfo=UTC), run_id)
    return HostView(HOST, latest, last_run_id=run_id)


def test_a_probe_and_a_plan_become_contact_facts_agent_name_reboot_eligibility_license_and_scope() -> None:
    observer = Observer()
    probed = observer.observe(outcome("probe", result=probe_result()))
    assert [aspect for aspect, _ in probed[HOST]] == [
        Aspect.CONTACT,
        Aspect.FACTS,
        Aspect.AGENT,
        Aspect.NAME,
        Aspect.REBOOT,
    ]
    plan = {
        HOST: {
            "eligible": True,
            "reasons": [],
            "license_granted": True,
            "license_reason": None,
            "rename_withheld": {"code": "rename_server", "product_type": "server"},
        },
        "snv-09": {"eligible": False, "reasons": ["never probed"], "license_granted": False},
    }
    found = observer.observe(outcome("plan", result={"hosts": plan}))
    # Only the PC this run probed: recording another would make this run its latest.
    assert found == {
        HOST: [
            (Aspect.ELIGIBILITY, {"eligible": True, "reasons": []}),
            (Aspect.LICENSE, {"granted": True, "reason": None}),
            (Aspect.RENAME_SCOPE, {"withheld": {"code": "rename_server", "product_type": "server"}}),
        ]
    }


def test_an_install_records_its_start_then_its_outcome() -> None:
    observer = Observer()
    planned(observer)
    started = observer.observe(outcome("install", Status.STARTED))
    assert started == {HOST: [(Aspect.STEP, {"step": "install", "status": "started"})]}
    done = observer.observe(
        outcome("install", result={"changed": True, "installed": True, "rc": 3010, "reboot_required": True})
    )
    assert done[HOST] == [
        (
            Aspect.AGENT,
            {
                "installed": True,
                "version": None,
                "service_name": None,
                "service_state": None,  # not the probe's "missing": the installer made the service
                "start_mode": None,
            },
        ),
        (Aspect.REBOOT, {"pending": True, "reason": {"code": "reboot_installer", "exit_code": 3010}}),
        (Aspect.STEP, {"step": "install", "status": "ok"}),
    ]
    assert assess(view_of(started, done), "SNV-PHUONGNT").state == HostState.REBOOT_PENDING


def test_an_install_whose_result_never_arrived_is_a_straggler_that_says_so() -> None:
    observer = Observer()
    planned(observer)
    started = observer.observe(outcome("install", Status.STARTED))
    assessment = assess(view_of(started), "SNV-PHUONGNT")
    assert assessment == Assessment(HostState.FAILED, (Reason("interrupted", {"step": "install"}),))
    assert assessment.reasons[0].english() == "interrupted during install; the next run checks"
    assert assessment.state in STRAGGLER_STATES


def test_an_interruption_in_an_older_run_is_forgotten_by_the_next_run() -> None:
    observer = Observer()
    planned(observer)
    started = observer.observe(outcome("install", Status.STARTED))
    view = view_of(started, run_id=7)
    later = view_of(Observer().observe(outcome("probe", result=probe_result(agent=AGENT_MISSING))), run_id=8)
    merged = HostView(HOST, {**view.latest, **later.latest}, last_run_id=8)
    assert assess(merged, "MAYPHUONG").state == HostState.NOT_INSTALLED


def test_no_start_is_recorded_where_the_plan_installs_nothing_or_in_check_mode() -> None:
    observer = Observer()
    planned(observer, install=False)
    assert observer.observe(outcome("install", Status.STARTED)) == {}
    assert observer.observe(outcome("install", Status.SKIPPED)) == {}
    planned(observer)
    assert observer.observe(outcome("install", Status.STARTED, check_mode=True)) == {}
    assert observer.observe(outcome("install", result={"changed": True}, check_mode=True)) == {}


def test_a_skipped_install_closes_its_recorded_start() -> None:
    observer = Observer()
    planned(observer)
    observer.observe(outcome("install", Status.STARTED))
    assert observer.observe(outcome("install", Status.SKIPPED)) == {
        HOST: [(Aspect.STEP, {"step": "install", "status": "skipped"})]
    }


def test_a_failed_install_is_a_failure_with_its_exit_code_and_closes_its_start() -> None:
    observer = Observer()
    planned(observer)
    observer.observe(outcome("install", Status.STARTED))
    found = observer.observe(
        outcome("install", Status.FAILED, {"msg": "installer exit code 1603", "rc": 1603})
    )
    assert found[HOST] == [
        (Aspect.STEP, {"step": "install", "status": "failed"}),
        (Aspect.FAILURE, {"task": "install", "reason": {"code": "installer_exit_code", "exit_code": 1603}}),
    ]


def test_the_agent_service_step_updates_the_agent_but_another_service_says_nothing() -> None:
    observer = Observer()
    observer.observe(outcome("probe", result=probe_result(agent=INSTALLED_AGENT)))
    stopped = {"changed": True, "exists": True, "state": "stopped", "start_mode": "manual", "name": "Spooler"}
    assert observer.observe(outcome(None, result=stopped, task="Stop the print spooler")) == {}
    running = {"changed": True, "exists": True, "state": "running", "start_mode": "delayed"}
    found = observer.observe(outcome("service", result=running))
    assert found[HOST] == [(Aspect.AGENT, {**dict(observations_from_probe(probe_result()))[Aspect.AGENT]})]


def test_a_rename_records_the_planned_name_as_pending_and_its_reboot() -> None:
    observer = Observer()
    planned(observer)
    found = observer.observe(
        outcome("rename", result={"changed": True, "old_name": "MAYPHUONG", "reboot_required": True})
    )
    assert found[HOST] == [
        (Aspect.NAME, {"computer_name": "MAYPHUONG", "pending_name": "SNV-PHUONGNT"}),
        (Aspect.REBOOT, {"pending": True, "reason": {"code": "reboot_rename"}}),
    ]
    assert observer.observe(outcome("rename", result={"changed": False, "old_name": "SNV-PHUONGNT"})) == {}


def test_a_reboot_clears_the_pending_reboot_and_one_that_never_came_back_says_how_long() -> None:
    observer = Observer()
    assert observer.observe(outcome("reboot", result={"changed": True, "rebooted": True})) == {
        HOST: [(Aspect.REBOOT, {"pending": False, "reason": None})]
    }
    timed_out = {"rebooted": True, "msg": "Timed out waiting for last boot time check (timeout=10.0)"}
    found = observer.observe(outcome("reboot", Status.FAILED, timed_out))
    failure = dict(found[HOST])[Aspect.FAILURE]
    assert failure == {"task": "reboot", "reason": {"code": "reboot_timeout", "seconds": 10}}
    assessment = assess(view_of(found), None)
    assert assessment.state == HostState.FAILED
    assert [reason.english() for reason in assessment.reasons] == [
        "reboot: did not come back within 10 s of its reboot"
    ]


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("basic: the specified credentials were rejected by the server", {"code": "credentials_rejected"}),
        (
            "ntlm: HTTPConnectionPool(...): Failed to establish a new connection: [Errno 111] refused",
            {"code": "connection_refused"},
        ),
        ("HTTPConnectionPool(host='x', port=5985): Read timed out. (read timeout=3)", {"code": "timed_out"}),
        (
            "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
            {"code": "connection_dropped"},
        ),
        (
            "ntlm: HTTPSConnectionPool(host='10.0.0.5', port=5986): Max retries exceeded with url: /wsman "
            "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate "
            "verify failed: self-signed certificate (_ssl.c:1020)')))",
            {"code": "certificate_untrusted"},
        ),
        (
            "ntlm: HTTPSConnectionPool(host='pc5', port=5986): Max retries exceeded with url: /wsman "
            '(Caused by SSLError(SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate '
            "verify failed: Hostname mismatch, certificate is not valid for 'pc5'. (_ssl.c:1020)\")))",
            {"code": "certificate_name_mismatch"},
        ),
        (
            "Task failed: something nobody foresaw\nsecond line",
            {"code": "text", "text": "something nobody foresaw"},
        ),
    ],
)
def test_an_unreachable_result_of_any_task_is_a_contact_observation_with_its_cause(
    message: str, cause: dict[str, str]
) -> None:
    found = Observer().observe(outcome(None, Status.UNREACHABLE, {"msg": message, "unreachable": True}))
    assert found == {HOST: [(Aspect.CONTACT, {"status": "unreachable", "reason": cause})]}


def test_a_probe_refused_for_its_old_powershell_is_unmanageable() -> None:
    found = Observer().observe(outcome("probe", Status.FAILED, {"msg": "Ansible requires PowerShell v5.1"}))
    assert found == {
        HOST: [
            (
                Aspect.CONTACT,
                {"status": "unmanageable", "reason": {"code": "powershell_too_old", "required": "5.1"}},
            )
        ]
    }


def test_another_tasks_failure_is_recorded_with_its_name_and_a_play_level_check_with_nothing() -> None:
    observer = Observer()
    failed = {"msg": "non-zero return code", "rc": 3}
    assert observer.observe(outcome(None, Status.FAILED, failed, task="Tidy the desktop")) == {
        HOST: [
            (
                Aspect.FAILURE,
                {
                    "task": "Tidy the desktop",
                    "reason": {"code": "text", "text": "non-zero return code (exit code 3)"},
                },
            )
        ]
    }
    assert observer.observe(outcome(None, Status.FAILED, {"msg": "checksum differs"}, run_once=True)) == {}


def test_a_no_log_result_yields_its_outcome_only() -> None:
    observer = Observer()
    secret = {"msg": "msiexec /i x.msi KEY=Secr3t failed", "censored": "hidden"}
    found = observer.observe(outcome("install", Status.FAILED, secret, censored=True))
    assert found == {
        HOST: [
            (
                Aspect.FAILURE,
                {"task": "install", "reason": {"code": "details_hidden"}},
            )
        ]
    }
    assert observer.observe(outcome("probe", result=probe_result(), censored=True)) == {}


WAKE_RESULT = {
    "changed": True,
    "invocation": {"module_args": {"mac": "02-4B-50-14-03-05", "broadcast": "127.20.3.255", "port": 9009}},
}


def test_wake_on_lan_answers_packets_and_silence() -> None:
    observer = Observer()
    answered = observer.observe(outcome("answer", result={"ping": "pong"}))
    assert answered == {HOST: [(Aspect.CONTACT, {"status": "ok", "reason": None})]}
    sent = observer.observe(outcome("wake", result=WAKE_RESULT))
    packet = {"mac": "02-4B-50-14-03-05", "address": "127.20.3.255", "port": 9009}
    assert sent == {HOST: [(Aspect.WAKE, {**packet, "answered": None})]}
    woken = observer.observe(outcome("wake_answer", result={"elapsed": 4}))
    assert woken == {
        HOST: [
            (Aspect.CONTACT, {"status": "ok", "reason": None}),
            (Aspect.WAKE, {**packet, "answered": True}),
        ]
    }


def test_a_woken_pc_that_stays_silent_is_unreachable_for_that_reason_not_failed() -> None:
    observer = Observer()
    sent = observer.observe(outcome("wake", result=WAKE_RESULT))
    silent = observer.observe(
        outcome(
            "wake_answer", Status.FAILED, {"failed": True, "msg": "timed out waiting for ping module test"}
        )
    )
    contact = {"status": "unreachable", "reason": {"code": "wol_no_answer"}}
    assert silent[HOST][0] == (Aspect.CONTACT, contact)
    assert silent[HOST][1][1]["answered"] is False
    assessment = assess(view_of(sent, silent), "SNV-PHUONGNT")
    assert assessment == Assessment(HostState.UNREACHABLE, (Reason("wol_no_answer"),))


def test_check_mode_sends_no_packet() -> None:
    assert Observer().observe(outcome("wake", result=WAKE_RESULT, check_mode=True)) == {}
