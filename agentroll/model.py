"""Domain types shared by the core, the state store, the reports and the Ansible adapters.

Plain data only: no behaviour beyond small look-ups, no Ansible imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from agentroll.reasons import Reason


class HostState(StrEnum):
    """The state of one PC, most specific first (the design's contract)."""

    COMPLIANT = "compliant"
    REBOOT_PENDING = "reboot_pending"
    MISNAMED = "misnamed"
    AGENT_UNHEALTHY = "agent_unhealthy"
    NOT_INSTALLED = "not_installed"
    INELIGIBLE = "ineligible"
    UNMANAGEABLE = "unmanageable"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    UNKNOWN = "unknown"


#: States a rerun should target: everything that is not yet compliant and could still become so.
STRAGGLER_STATES = frozenset(
    {
        HostState.REBOOT_PENDING,
        HostState.MISNAMED,
        HostState.AGENT_UNHEALTHY,
        HostState.NOT_INSTALLED,
        HostState.UNREACHABLE,
        HostState.FAILED,
        HostState.UNKNOWN,
    }
)


class Aspect(StrEnum):
    """What one observation is about. The value of each is a JSON object (see docs/architecture.md)."""

    CONTACT = "contact"
    FACTS = "facts"
    ELIGIBILITY = "eligibility"
    LICENSE = "license"
    AGENT = "agent"
    NAME = "name"
    REBOOT = "reboot"
    FAILURE = "failure"
    #: A step whose start is recorded before it runs (the install), so a run that dies before its
    #: result arrives leaves the host marked as interrupted rather than silently unchanged.
    STEP = "step"
    #: A Wake-on-LAN magic packet the controller sent the PC, and whether the PC answered after it.
    WAKE = "wake"
    #: The agent's check-in as the probe saw it from the PC: the management server reachable or not,
    #: and the agent's own last contact with it.
    CHECKIN = "checkin"
    #: The plan's judgement of the rename scope: why a misnamed PC keeps its name, or null when a
    #: run may rename it. A PC no run renames is not a straggler.
    RENAME_SCOPE = "rename_scope"


class ContactStatus(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    UNMANAGEABLE = "unmanageable"


@dataclass(frozen=True)
class Unit:
    """A unit (department, public-service unit, commune People's Committee): one inventory group."""

    code: str
    name: str
    licenses: int
    group: str
    deadline: date | None = None


@dataclass(frozen=True)
class Host:
    """One licensed PC as the inventory declares it."""

    name: str
    unit: str
    address: str | None = None
    owner: str | None = None
    standard_name_override: str | None = None
    mac: str | None = None


#: Days before a deadline from which an unfinished unit is at risk, unless the inventory says otherwise.
DEFAULT_DEADLINE_WARNING_DAYS = 7


@dataclass(frozen=True)
class Letter:
    """How the written reply is headed and signed; None leaves a dotted blank to fill in by hand."""

    #: The district, e.g. ``Kon Plông`` (``agentroll_district``).
    district: str | None = None
    #: The body that writes the reply, e.g. ``Phòng Văn hóa và Thông tin`` (``agentroll_reply_issuer``).
    issuer: str | None = None
    #: The document it answers, e.g. ``Công văn số 245/UBND-VP ngày 05/11/2026 của UBND huyện Kon Plông``
    #: (``agentroll_reply_reference``).
    reference: str | None = None
    #: The signer's title (``agentroll_reply_signer_title``; lines separated by newlines) and name.
    signer_title: str | None = None
    signer_name: str | None = None


#: A console entry last seen more than this many days before its export is stale, unless the inventory
#: says otherwise (``agentroll_console_stale_days``).
DEFAULT_CONSOLE_STALE_DAYS = 7


@dataclass(frozen=True)
class ConsoleSettings:
    """How the central console's endpoint export is read and weighed (``agentroll.console``)."""

    #: Field (``computer_name``, ``address``, ``mac``, ``last_seen``, ``agent_version``, ``group``) →
    #: header spellings the district's console uses, tried before the defaults
    #: (``agentroll_console_columns``).
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: An agent whose last report is older than this many days before the export is not reporting.
    stale_days: int = DEFAULT_CONSOLE_STALE_DAYS
    #: Whose coverage figure is official: ``console`` (when an export is present) or ``agentroll``
    #: (``agentroll_console_official``).
    official: str = "console"


@dataclass(frozen=True)
class Inventory:
    """The validated units and hosts of a district; hosts outside the ``units`` tree are not here."""

    units: tuple[Unit, ...]
    hosts: tuple[Host, ...]
    deadline: date | None = None
    name_template: str | None = None
    #: IANA time zone of the human reports (``agentroll_timezone``); None: the default.
    timezone: str | None = None
    #: An unfinished unit is at risk from this many days before its deadline on
    #: (``agentroll_deadline_warning_days``).
    deadline_warning_days: int = DEFAULT_DEADLINE_WARNING_DAYS
    letter: Letter = field(default_factory=Letter)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)

    def unit(self, code: str) -> Unit:
        for unit in self.units:
            if unit.code == code:
                return unit
        raise KeyError(code)

    def hosts_of(self, code: str) -> tuple[Host, ...]:
        return tuple(host for host in self.hosts if host.unit == code)

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


@dataclass(frozen=True)
class Observation:
    """One fact about one host, as a run saw it."""

    host: str
    aspect: Aspect
    value: dict[str, Any]
    observed_at: datetime
    run_id: int


@dataclass(frozen=True)
class Run:
    """One recorded ``ansible-playbook`` run (or one CLI-recorded event)."""

    id: int
    started_at: datetime
    playbook: str
    finished_at: datetime | None = None
    limit: str | None = None
    check_mode: bool = False
    status: str = "running"
    #: Who ran it (see ``agentroll.store.identity``), on which controller, as which process.
    operator: str | None = None
    controller: str | None = None
    pid: int | None = None


@dataclass(frozen=True)
class HostView:
    """The latest observation of each aspect of a host, and the run each came from."""

    host: str
    latest: dict[Aspect, Observation] = field(default_factory=dict)
    last_run_id: int | None = None

    def value(self, aspect: Aspect) -> dict[str, Any] | None:
        observation = self.latest.get(aspect)
        return observation.value if observation else None

    @property
    def last_seen(self) -> datetime | None:
        return max((o.observed_at for o in self.latest.values()), default=None)


@dataclass(frozen=True)
class Assessment:
    """A host's derived state and the reasons behind it (rendered only by the reports)."""

    state: HostState
    reasons: tuple[Reason, ...] = ()
