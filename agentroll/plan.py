"""The controller-side plan of a run: per host eligibility, standard name, rename and license grant.

Hosts probed in this run are judged by their fresh probe result; every other host by its latest
stored view, so that licenses already held elsewhere in a unit still count on a ``--limit`` rerun.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from agentroll.coverage import Knowledge, Move, advise_reallocation, knowledge, license_grants, unit_demand
from agentroll.eligibility import Eligibility, Requirements, evaluate
from agentroll.model import Aspect, ContactStatus, Host, HostView, Inventory
from agentroll.naming import is_correctly_named, standard_names
from agentroll.observe import agent_from_probe, facts_from_probe, name_from_probe, reboot_from_probe
from agentroll.reasons import Reason

WORKSTATION = "workstation"
#: Product types renamed only when the inventory opts in.
SERVER_TYPES = frozenset({"server", "domain_controller"})


@dataclass(frozen=True)
class HostPlan:
    """What this run should do to one host, and why."""

    host: str
    unit: str
    eligible: bool
    reasons: tuple[Reason, ...]
    standard_name: str
    computer_name: str | None
    rename: bool
    installed: bool
    license_granted: bool
    install: bool
    license_reason: Reason | None
    #: The probe found the agent's service stopped or not starting automatically.
    repair_service: bool = False
    #: The probe found the agent installed and the PC waiting for a reboot.
    reboot: bool = False
    #: Why a PC whose name is not the standard is left as it is (out of the rename scope).
    rename_withheld: Reason | None = None
    #: ``workstation``, ``server``, ``domain_controller``, or None when never measured.
    product_type: str | None = None

    @property
    def would_reboot(self) -> bool:
        """Whether this run asks for a reboot before it starts (a rename, or one already pending);
        an installer may still ask for one (exit code 3010, 1641)."""
        return self.rename or self.reboot


@dataclass(frozen=True)
class Plan:
    """The plan of every inventory host, the advised license moves between units, and the licenses
    no unit needs (unit code → count, returnable to the district)."""

    hosts: dict[str, HostPlan]
    reallocation: tuple[Move, ...]
    returnable: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: hosts keyed by name as plain dicts (reasons in their JSON form), moves as
        ``{from, to, licenses}``, returnable licenses as ``{unit, licenses}``."""
        hosts = {}
        for name, host_plan in self.hosts.items():
            plain = asdict(host_plan)
            plain["reasons"] = [reason.as_value() for reason in host_plan.reasons]
            license_reason = host_plan.license_reason
            plain["license_reason"] = license_reason.as_value() if license_reason else None
            withheld = host_plan.rename_withheld
            plain["rename_withheld"] = withheld.as_value() if withheld else None
            plain["would_reboot"] = host_plan.would_reboot
            hosts[name] = plain
        return {
            "hosts": hosts,
            "reallocation": [move.as_dict() for move in self.reallocation],
            "returnable": [{"unit": code, "licenses": count} for code, count in self.returnable.items()],
        }


@dataclass(frozen=True)
class _Known:
    """What is known of a host before licenses are granted: measured or remembered."""

    eligibility: Eligibility | None
    installed: bool
    computer_name: str | None
    pending_name: str | None
    unmanageable: bool
    unmanageable_reason: Any = None
    service_healthy: bool = True
    reboot_pending: bool = False
    product_type: str | None = None

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Eligibility reasons; when never measured, why not."""
        if self.eligibility is not None:
            return self.eligibility.reasons
        if self.unmanageable and self.unmanageable_reason:
            cause = Reason.from_value(self.unmanageable_reason).as_value()
            return (Reason("unmanageable_because", {"cause": cause}),)
        if self.unmanageable:
            return (Reason("unmanageable"),)
        return (Reason("never_probed"),)

    @property
    def known_eligible(self) -> bool:
        return self.eligibility is not None and self.eligibility.eligible

    @property
    def knowledge(self) -> Knowledge:
        """What the reallocation counts this PC as: eligible, not known yet, or unable to use a license."""
        eligible = None if self.eligibility is None else self.eligibility.eligible
        return knowledge(installed=self.installed, eligible=eligible, unmanageable=self.unmanageable)


def service_healthy(agent: Mapping[str, Any]) -> bool:
    """Whether an ``agent`` observation's service runs and starts by itself.

    No service state means the profile names no service: nothing to repair.
    """
    return agent["service_state"] in (None, "running") and agent["start_mode"] in (None, "auto")


def service_needs_repair(probe: Mapping[str, Any]) -> bool:
    """Whether a probe found the agent installed but its service stopped, missing or not automatic."""
    agent = agent_from_probe(probe)
    return bool(agent["installed"]) and not service_healthy(agent)


def _from_probe(probe: Mapping[str, Any], requirements: Requirements) -> _Known:
    name, agent, facts = name_from_probe(probe), agent_from_probe(probe), facts_from_probe(probe)
    return _Known(
        eligibility=evaluate(requirements, facts),
        installed=bool(agent["installed"]),
        computer_name=name["computer_name"],
        pending_name=name["pending_name"],
        unmanageable=False,
        service_healthy=service_healthy(agent),
        reboot_pending=bool(reboot_from_probe(probe)["pending"]),
        product_type=facts["product_type"],
    )


def _from_view(view: HostView | None, requirements: Requirements) -> _Known:
    """Knowledge from the store; stored facts are re-judged since the requirements may have changed."""
    if view is None:
        return _Known(None, installed=False, computer_name=None, pending_name=None, unmanageable=False)
    facts, stored = view.value(Aspect.FACTS) or {}, view.value(Aspect.ELIGIBILITY)
    eligibility: Eligibility | None = None
    if facts:
        eligibility = evaluate(requirements, facts)
    elif stored is not None:
        eligibility = Eligibility.from_value(stored)
    agent, name = view.value(Aspect.AGENT) or {}, view.value(Aspect.NAME) or {}
    contact = view.value(Aspect.CONTACT) or {}
    return _Known(
        eligibility=eligibility,
        installed=bool(agent.get("installed")),
        computer_name=name.get("computer_name"),
        pending_name=name.get("pending_name"),
        unmanageable=contact.get("status") == ContactStatus.UNMANAGEABLE,
        unmanageable_reason=contact.get("reason"),
        product_type=facts.get("product_type"),
    )


def _license_reason(
    host: Host, known: _Known, granted: bool, inventory: Inventory, counts: _UnitCounts
) -> Reason | None:
    """Why an eligible or installed host holds no license; None when it holds one or needs none."""
    if granted or not (known.installed or known.known_eligible):
        return None
    unit = inventory.unit(host.unit)
    if known.installed:
        holders = counts.with_agent[host.unit]
        return Reason("over_allocation", {"unit": unit.code, "licenses": unit.licenses, "installed": holders})
    candidates = counts.candidates[host.unit]
    if candidates <= unit.licenses:
        # Enough licenses for every PC known to be eligible: PCs not known yet hold the rest.
        held = counts.unknown_granted[host.unit]
        return Reason("license_held", {"unit": unit.code, "licenses": unit.licenses, "unknown": held})
    return Reason("license_waiting", {"unit": unit.code, "licenses": unit.licenses, "eligible": candidates})


def _needs_rename(known: _Known, standard_name: str) -> bool:
    """A rename is due when the name the PC will have after its next boot is not the standard."""
    effective = known.pending_name or known.computer_name
    return effective is not None and not is_correctly_named(effective, standard_name)


def _rename_withheld(known: _Known, gets_agent: bool, rename_servers: bool) -> Reason | None:
    """Why a misnamed PC is out of the rename scope, or None when it may be renamed.

    The scope (``shared/design.md``): workstations that run the agent or get it in this run;
    servers and domain controllers only when the inventory opts in; a PC whose type is not known
    is not renamed, since it may be a server.
    """
    if not (known.installed or gets_agent):
        return Reason("rename_no_agent")
    if known.product_type == WORKSTATION:
        return None
    if known.product_type in SERVER_TYPES:
        return None if rename_servers else Reason("rename_server", {"product_type": known.product_type})
    return Reason("rename_type_unknown")


def build_plan(
    inventory: Inventory,
    probes: Mapping[str, Mapping[str, Any]],
    views: Mapping[str, HostView],
    requirements: Requirements,
    template: str | None = None,
    *,
    rename_servers: bool = False,
    installs: bool = True,
    unreached: Collection[str] = (),
) -> Plan:
    """Compute the plan of every inventory host (see the module docstring for what counts).

    ``rename_servers`` brings servers and domain controllers into the rename scope
    (``agentroll_hostname_rename_servers``); workstations need no opt-in. ``installs`` says whether
    the run installs the agent (``rename.yml`` does not): only then is a PC that would get the
    agent renamed before it has it. ``unreached`` are hosts of this run whose probe failed
    (``agentroll_job_outcome: lenient`` keeps them in the play): they count as the store knows them,
    and get no work.
    """
    names = standard_names(inventory, template)
    known = {
        host.name: _from_probe(probes[host.name], requirements)
        if _probe_succeeded(probes.get(host.name))
        else _from_view(views.get(host.name), requirements)
        for host in inventory.hosts
    }
    knowledge_of = {name: this.knowledge for name, this in known.items()}
    grants = license_grants(inventory, knowledge_of, [name for name, k in known.items() if k.installed])
    counts = _unit_counts(inventory, known, grants)

    hosts: dict[str, HostPlan] = {}
    for host in inventory.hosts:
        this = known[host.name]
        granted = grants[host.name]
        reached = host.name not in unreached
        install = reached and this.known_eligible and granted and not this.installed
        misnamed = reached and _needs_rename(this, names[host.name])
        withheld = _rename_withheld(this, install and installs, rename_servers) if misnamed else None
        hosts[host.name] = HostPlan(
            host=host.name,
            unit=host.unit,
            eligible=this.known_eligible,
            reasons=this.reasons,
            standard_name=names[host.name],
            computer_name=this.computer_name,
            rename=misnamed and withheld is None,
            installed=this.installed,
            license_granted=granted,
            install=install,
            license_reason=_license_reason(host, this, granted, inventory, counts),
            repair_service=reached and this.installed and not this.service_healthy,
            reboot=reached and this.installed and this.reboot_pending,
            rename_withheld=withheld,
            product_type=this.product_type,
        )
    demand = unit_demand(inventory, knowledge_of)
    advice = advise_reallocation(inventory, demand)
    return Plan(hosts=hosts, reallocation=advice.moves, returnable=advice.returnable)


def _probe_succeeded(probe: Mapping[str, Any] | None) -> bool:
    """A probe result worth trusting; a failed or unreachable one tells nothing new."""
    return probe is not None and not probe.get("failed") and not probe.get("unreachable")


@dataclass(frozen=True)
class _UnitCounts:
    """Per unit code: PCs with the agent, PCs competing for a license (with agent or known eligible),
    and PCs whose eligibility is not known yet that hold a license."""

    with_agent: Mapping[str, int]
    candidates: Mapping[str, int]
    unknown_granted: Mapping[str, int]


def _unit_counts(
    inventory: Inventory, known: Mapping[str, _Known], grants: Mapping[str, bool]
) -> _UnitCounts:
    with_agent = {unit.code: 0 for unit in inventory.units}
    candidates, unknown_granted = dict(with_agent), dict(with_agent)
    for host in inventory.hosts:
        this = known[host.name]
        with_agent[host.unit] = with_agent.get(host.unit, 0) + int(this.installed)
        candidates[host.unit] = candidates.get(host.unit, 0) + int(this.installed or this.known_eligible)
        held = grants[host.name] and this.knowledge is Knowledge.UNKNOWN
        unknown_granted[host.unit] = unknown_granted.get(host.unit, 0) + int(held)
    return _UnitCounts(with_agent, candidates, unknown_granted)
