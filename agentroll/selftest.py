"""The self-test an operator runs on one real PC first: does the probe read it as ansible.windows does?

``playbooks/selftest.yml`` runs ``agentroll.toolkit.win_agentroll_probe`` beside
``ansible.windows.setup`` and ``ansible.windows.win_service_info`` and hands the three results to
``compare``; every field the probe and a module both report becomes a ``Check``, and ``render``
prints them, disagreements first. The modules read Windows through other APIs than the probe
(GetVersionEx, GlobalMemoryStatusEx, the service control manager, IPGlobalProperties), so a
disagreement points at something to look at before trusting the probe on every PC: a probe bug,
a damaged WMI repository, or a PC whose DNS name is not its NetBIOS name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agentroll.eligibility import normalize_architecture

SETUP = "ansible.windows.setup"
SERVICE_INFO = "ansible.windows.win_service_info"

#: setup rounds the memory size up, the probe down, and they read it through different APIs.
RAM_TOLERANCE_MB = 16
#: The pending-reboot causes setup.ps1 checks too; a rename or Windows Update only the probe sees.
_REBOOT_CAUSES_SETUP_SEES = frozenset({"pending file rename operations", "component based servicing"})
_UNREADABLE = "the probe could not read it (see its warnings)"


@dataclass(frozen=True)
class Check:
    """One field read both ways: the probe's value, the module's, and whether they agree.

    ``agrees`` is None when the field could not be compared; ``note`` then says why, and
    otherwise how the two were compared when that is not plain equality.
    """

    field: str
    probe: Any
    source: str
    other: Any
    agrees: bool | None
    note: str = ""


def compare(
    probe: Mapping[str, Any], facts: Mapping[str, Any], service: Mapping[str, Any] | None = None
) -> list[Check]:
    """Every check of one PC: the probe result, setup's ``ansible_facts`` (with or without the
    ``ansible_`` prefix) and win_service_info's result for the agent service (None or a skipped
    result when no service name is configured)."""
    checks = [
        _same(
            "computer name", probe.get("computer_name"), "netbios_name", facts, _casefold, "case-insensitive"
        ),
        _same(
            "computer name (DNS host name)",
            probe.get("computer_name"),
            "hostname",
            facts,
            _casefold,
            "case-insensitive; differs when the DNS name is longer than 15 characters or set apart",
        ),
        _same("OS caption", probe.get("os_caption"), "distribution", facts, _stripped),
        _same("OS build", probe.get("os_build"), "distribution_version", facts, _build_of),
        _same("product type", probe.get("product_type"), "os_product_type", facts, _stripped),
        _same(
            "architecture",
            probe.get("architecture"),
            "architecture2",
            facts,
            _architecture,
            "x86_64 = x64, i386 = x86",
        ),
        _same(
            "RAM (MB)",
            probe.get("ram_mb"),
            "memtotal_mb",
            facts,
            int,
            f"within {RAM_TOLERANCE_MB} MB",
            tolerance=RAM_TOLERANCE_MB,
        ),
        _same(
            "PowerShell major version",
            probe.get("powershell_version"),
            "powershell_version",
            facts,
            _major,
        ),
        _same(
            "system drive",
            probe.get("system_drive"),
            "env.SystemDrive",
            facts,
            _casefold,
            "case-insensitive",
        ),
        _reboot(probe, _fact(facts, "reboot_pending")),
        Check(
            "system drive free space",
            probe.get("system_free_mb"),
            SETUP,
            None,
            None,
            "not compared: ansible.windows has no disk facts",
        ),
    ]
    return checks + _service_checks(probe.get("agent") or {}, service)


def disagreements(checks: list[Check]) -> list[Check]:
    """The checks where the probe and ansible.windows disagree."""
    return [check for check in checks if check.agrees is False]


def render(checks: list[Check]) -> list[str]:
    """One line per check, disagreements first, then agreements, then what was not compared."""
    order = {False: 0, True: 1, None: 2}
    lines = [_summary(checks)]
    for check in sorted(checks, key=lambda c: order[c.agrees]):
        mark = {False: "DIFFERS", True: "agrees ", None: "skipped"}[check.agrees]
        values = f"probe {_shown(check.probe)}, {check.source} {_shown(check.other)}"
        lines.append(f"{mark} {check.field}: {values}" + (f" ({check.note})" if check.note else ""))
    return lines


def _summary(checks: list[Check]) -> str:
    differ = len(disagreements(checks))
    agree = sum(check.agrees is True for check in checks)
    skipped = sum(check.agrees is None for check in checks)
    verdict = (
        "the probe reads this PC as ansible.windows does" if not differ else "look at every DIFFERS line"
    )
    return f"self-test: {differ} disagreement(s), {agree} agreement(s), {skipped} not compared: {verdict}"


def _shown(value: Any) -> str:
    return "unknown" if value is None else repr(value) if isinstance(value, str) else str(value)


def _fact(facts: Mapping[str, Any], name: str) -> Any:
    """A setup fact by its name without the prefix; ``env.SystemDrive`` reaches into a mapping."""
    head, _, key = name.partition(".")
    value = facts.get(f"ansible_{head}", facts.get(head))
    if key:
        return value.get(key) if isinstance(value, Mapping) else None
    return value


def _same(
    field: str,
    probe_value: Any,
    fact: str,
    facts: Mapping[str, Any],
    normalize: Callable[[Any], Any],
    note: str = "",
    *,
    tolerance: int = 0,
) -> Check:
    """Compare after normalizing both sides (numbers within ``tolerance``); a side setup did not
    report is not compared, one the probe could not read (null, with its warning) disagrees."""
    other = _fact(facts, fact)
    source = f"{SETUP} ansible_{fact}"
    if other is None:
        return Check(field, probe_value, source, None, None, f"not compared: setup did not report {fact}")
    if probe_value is None:
        return Check(field, None, source, other, False, _UNREADABLE)
    mine, theirs = normalize(probe_value), normalize(other)
    agrees = abs(mine - theirs) <= tolerance if tolerance else mine == theirs
    return Check(field, probe_value, source, other, agrees, note)


def _reboot(probe: Mapping[str, Any], setup_pending: Any) -> Check:
    """setup checks fewer causes than the probe: it must not see a reboot the probe misses, and a
    cause both check must show on both sides."""
    source = f"{SETUP} ansible_reboot_pending"
    pending = probe.get("reboot_pending")
    note = "setup looks only at file renames and component servicing"
    if setup_pending is None or pending is None:
        return Check("reboot pending", pending, source, setup_pending, None, "not compared: not reported")
    shared_cause = bool(_REBOOT_CAUSES_SETUP_SEES & set(probe.get("reboot_pending_reasons") or ()))
    agrees = (bool(pending) or not setup_pending) and (bool(setup_pending) or not shared_cause)
    return Check("reboot pending", pending, source, setup_pending, agrees, note)


def _service_checks(agent: Mapping[str, Any], service: Mapping[str, Any] | None) -> list[Check]:
    """The agent service, as win_service_info sees it: exists, running, start mode."""
    name = agent.get("service_name")
    if not name or service is None or service.get("skipped") or "services" not in service:
        reason = "not compared: no agent service name is configured" if not name else "not compared: not run"
        return [Check("agent service", agent.get("service_state"), SERVICE_INFO, None, None, reason)]
    entries = service.get("services") or []
    entry: Mapping[str, Any] = entries[0] if entries else {}
    state = agent.get("service_state")
    source = f"{SERVICE_INFO} {name}"
    exists = Check(
        "agent service exists",
        None if state is None else state != "missing",
        source,
        bool(entries),
        None if state is None else (state != "missing") == bool(entries),
        "" if state is not None else f"not compared: {_UNREADABLE}",
    )
    if state is None or state == "missing" or not entries:
        return [exists]
    return [
        exists,
        Check(
            "agent service running",
            state,
            f"{source} state",
            entry.get("state"),
            (state == "running") == (entry.get("state") in ("started", "running")),
            "win_service_info says started for running",
        ),
        Check(
            "agent service start mode",
            agent.get("service_start_mode"),
            f"{source} start_mode",
            entry.get("start_mode"),
            _start_mode(agent.get("service_start_mode")) == _start_mode(entry.get("start_mode")),
            "delayed start is auto to WMI",
        ),
    ]


def _casefold(value: Any) -> str:
    return str(value).strip().casefold()


def _stripped(value: Any) -> str:
    return str(value).strip()


def _build_of(value: Any) -> int | None:
    """The build of ``19045`` or of setup's ``10.0.19045.0``."""
    text = str(value).strip()
    parts = text.split(".")
    candidate = parts[2] if len(parts) >= 3 else text
    return int(candidate) if candidate.isdigit() else None


def _architecture(value: Any) -> str:
    return normalize_architecture(str(value))


def _major(value: Any) -> int | None:
    head = str(value).strip().split(".")[0]
    return int(head) if head.isdigit() else None


def _start_mode(value: Any) -> str:
    """WMI reports a delayed automatic start as Auto; win_service_info as delayed."""
    text = str(value).strip().lower()
    return "auto" if text == "delayed" else text
