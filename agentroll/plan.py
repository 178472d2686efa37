"""The controller-side plan of a run: per host eligibility, standard name, rename and license grant.

Hosts probed in this run are judged by their fresh probe result; every other host by its latest
stored view, so that licenses already held elsewhere in a unit still count on a ``--limit`` rerun.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from agentroll.coverage import Move, advise_reallocation, license_grants
from agentroll.eligibility import Eligibility, Requirements, evaluate
from agentroll.model import Aspect, ContactStatus, Host, HostView, Inventory
from agentroll.naming import is_correctly_named, standard_names
from agentroll.observe import agent_from_probe, facts_from_probe, name_from_probe, reboot_from_probe

#: Reason given for a host whose eligibility has never been measured.
NEVER_PROBED = "eligibility unknown: never probed"


@dataclass(frozen=True)
class HostPlan:
    """What this run should do to one host, and why."""

    host: str
    unit: str
    eligible: bool
    reasons: tuple[str, ...]
    standard_name: str
    computer_name: str | None
    rename: bool
    installed: bool
    license_granted: bool
    install: bool
    license_reason: str | None
    #: The probe found the agent's service stopped or not starting automatically.
    repair_service: bool = False
    #: The probe found the agent installed and the PC waiting for a reboot.
    reboot: bool = False


@dataclass(frozen=True)
class Plan:
    """The plan of every inventory host plus the advised license moves between units."""

    hosts: dict[str, HostPlan]
    reallocation: tuple[Move, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: hosts keyed by name as plain dicts, moves as ``{from, to, licenses}``."""
        hosts = {}
        for name, host_plan in self.hosts.items():
            plain = asdict(host_plan)
            plain["reasons"] = list(host_plan.reasons)
            hosts[name] = plain
        return {"hosts": hosts, "reallocation": [move.as_dict() for move in self.reallocation]}


@dataclass(frozen=True)
class _Known:
    """What is known of a host before licenses are granted: measured or remembered."""

    eligibility: Eligibility | None
    installed: bool
    computer_name: str | None
    pending_name: str | None
    unmanageable: bool
    unmanageable_reason: str | None = None
    service_healthy: bool = True
    reboot_pending: bool = False

    @property
    def reasons(self) -> tuple[str, ...]:
        """Eligibility reasons; when never measured, why not."""
        if self.eligibility is not None:
            return self.eligibility.reasons
        if self.unmanageable:
            return (
                f"unmanageable: {self.unmanageable_reason}" if self.unmanageable_reason else "unmanageable",
            )
        return (NEVER_PROBED,)

    @property
    def known_eligible(self) -> bool:
        return self.eligibility is not None and self.eligibility.eligible

    @property
    def usable(self) -> bool:
        """Can this PC use a license? Only hosts known to be ineligible or unmanageable cannot.

        A PC that already runs the agent uses its license whatever the requirements say.
        """
        if self.installed:
            return True
        known_ineligible = self.eligibility is not None and not self.eligibility.eligible
        return not (known_ineligible or self.unmanageable)


def _from_probe(probe: Mapping[str, Any], requirements: Requirements) -> _Known:
    name, agent = name_from_probe(probe), agent_from_probe(probe)
    return _Known(
        eligibility=evaluate(requirements, facts_from_probe(probe)),
        installed=bool(agent["installed"]),
        computer_name=name["computer_name"],
        pending_name=name["pending_name"],
        unmanageable=False,
        # No service state means the profile names no service: nothing to repair.
        service_healthy=agent["service_state"] in (None, "running") and agent["start_mode"] in (None, "auto"),
        reboot_pending=bool(reboot_from_probe(probe)["pending"]),
    )


def _from_view(view: HostView | None, requirements: Requirements) -> _Known:
    """Knowledge from the store; stored facts are re-judged since the requirements may have changed."""
    if view is None:
        return _Known(None, installed=False, computer_name=None, pending_name=None, unmanageable=False)
    facts, stored = view.value(Aspect.FACTS), view.value(Aspect.ELIGIBILITY)
    eligibility: Eligibility | None = None
    if facts:
        eligibility = evaluate(requirements, facts)
    elif stored is not None:
        reasons = tuple(str(reason) for reason in stored.get("reasons") or ())
        eligibility = Eligibility(eligible=bool(stored.get("eligible")), reasons=reasons)
    agent, name = view.value(Aspect.AGENT) or {}, view.value(Aspect.NAME) or {}
    contact = view.value(Aspect.CONTACT) or {}
    return _Known(
        eligibility=eligibility,
        installed=bool(agent.get("installed")),
        computer_name=name.get("computer_name"),
        pending_name=name.get("pending_name"),
        unmanageable=contact.get("status") == ContactStatus.UNMANAGEABLE,
        unmanageable_reason=contact.get("reason"),
    )


def _license_reason(
    host: Host, known: _Known, granted: bool, inventory: Inventory, holders: int
) -> str | None:
    """Why an eligible or installed host holds no license; None when it holds one or needs none."""
    if granted or not (known.installed or known.known_eligible):
        return None
    unit = inventory.unit(host.unit)
    # Fixed plural phrasing even for 1: translators match these reasons by pattern.
    if known.installed:
        return f"over allocation: {unit.code} has {unit.licenses} licenses, {holders} PCs with the agent"
    return f"waiting for a license: {unit.code} has {unit.licenses} licenses, {holders} eligible PCs"


def _needs_rename(known: _Known, standard_name: str) -> bool:
    """A rename is due when the name the PC will have after its next boot is not the standard."""
    effective = known.pending_name or known.computer_name
    return effective is not None and not is_correctly_named(effective, standard_name)


def build_plan(
    inventory: Inventory,
    probes: Mapping[str, Mapping[str, Any]],
    views: Mapping[str, HostView],
    requirements: Requirements,
    template: str | None = None,
) -> Plan:
    """Compute the plan of every inventory host (see the module docstring for what counts)."""
    names = standard_names(inventory, template)
    known = {
        host.name: _from_probe(probes[host.name], requirements)
        if _probe_succeeded(probes.get(host.name))
        else _from_view(views.get(host.name), requirements)
        for host in inventory.hosts
    }
    eligible = [name for name, k in known.items() if k.known_eligible]
    installed = [name for name, k in known.items() if k.installed]
    grants = license_grants(inventory, eligible, installed)
    with_agent, candidates = _unit_counts(inventory, known)

    hosts: dict[str, HostPlan] = {}
    for host in inventory.hosts:
        this = known[host.name]
        granted = grants.get(host.name, False)
        holders = with_agent[host.unit] if this.installed else candidates[host.unit]
        hosts[host.name] = HostPlan(
            host=host.name,
            unit=host.unit,
            eligible=this.known_eligible,
            reasons=this.reasons,
            standard_name=names[host.name],
            computer_name=this.computer_name,
            rename=_needs_rename(this, names[host.name]),
            installed=this.installed,
            license_granted=granted,
            install=this.known_eligible and granted and not this.installed,
            license_reason=_license_reason(host, this, granted, inventory, holders),
            repair_service=this.installed and not this.service_healthy,
            reboot=this.installed and this.reboot_pending,
        )
    reallocation = advise_reallocation(inventory, _usable_per_unit(inventory, known))
    return Plan(hosts=hosts, reallocation=tuple(reallocation))


def _probe_succeeded(probe: Mapping[str, Any] | None) -> bool:
    """A probe result worth trusting; a failed or unreachable one tells nothing new."""
    return probe is not None and not probe.get("failed") and not probe.get("unreachable")


def _unit_counts(inventory: Inventory, known: Mapping[str, _Known]) -> tuple[dict[str, int], dict[str, int]]:
    """Per unit code: PCs with the agent, and PCs competing for a license (with agent or eligible)."""
    with_agent = {unit.code: 0 for unit in inventory.units}
    candidates = dict(with_agent)
    for host in inventory.hosts:
        this = known[host.name]
        with_agent[host.unit] = with_agent.get(host.unit, 0) + int(this.installed)
        candidates[host.unit] = candidates.get(host.unit, 0) + int(this.installed or this.known_eligible)
    return with_agent, candidates


def _usable_per_unit(inventory: Inventory, known: Mapping[str, _Known]) -> dict[str, int]:
    """Per unit code, the PCs that could run the agent: all but those known not to."""
    usable = {unit.code: 0 for unit in inventory.units}
    for host in inventory.hosts:
        usable[host.unit] = usable.get(host.unit, 0) + int(known[host.name].usable)
    return usable
