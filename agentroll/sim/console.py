"""What the central console would export now about the simulated fleet's agents.

An agent reports when its PC is on and ``SimHost.agent_reports`` (its service runs, the management
server is reachable from the PC, no ``agent_not_reporting`` fault): the console saw it *now*. An
installed agent that does not report now is listed with the agent's ``agent_last_contact`` when
the fleet file gives one, else with the time the fleet started (it reported until then); one that
cannot reach its server and has no last contact never registered and is not listed. The file is
what a Vietnamese console writes: UTF-8 CSV, Vietnamese headers, local times day first.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agentroll.sim.fleet import Fleet
from agentroll.sim.host import SimHost

#: The headers of the console's endpoint export (``agentroll.console.columns`` knows them).
HEADERS = ("Tên máy", "Địa chỉ IP", "Địa chỉ MAC", "Lần kết nối cuối", "Phiên bản", "Nhóm")


@dataclass(frozen=True)
class ConsoleRow:
    """One agent as the console lists it."""

    computer_name: str
    address: str
    mac: str
    last_seen: datetime
    version: str
    group: str = ""


def _agent_row(
    host: SimHost, product_id: str, service_name: str, now: datetime, started: datetime
) -> ConsoleRow | None:
    """The console's row for ``host``'s agent, or None when the console never heard from it."""
    with host.lock:
        product = host.find_product(product_id)
        if product is None:
            return None
        service = host.services.get(service_name.lower())
        running = service is not None and service.state == "running"
        reachable = not host.faults.server_unreachable
        if host.agent_reports(running) and not host.is_down():
            last_seen = now
        elif host.agent_last_contact is not None:
            last_seen = host.agent_last_contact
        elif reachable:
            last_seen = started
        else:
            return None
        return ConsoleRow(host.computer_name, host.address, host.mac, last_seen, product.version)


def console_rows(
    fleet: Fleet,
    *,
    product_id: str,
    service_name: str,
    now: datetime | None = None,
    groups: Mapping[str, str] | None = None,
) -> list[ConsoleRow]:
    """The agents the console lists now, in fleet order; ``groups`` (address → the console's group of
    the PC, e.g. its unit) fills the group column."""
    moment = now or datetime.now(UTC)
    started = datetime.fromtimestamp(fleet.started_at, UTC)
    groups = groups or {}
    rows = (
        _agent_row(fleet.host(address), product_id, service_name, moment, started)
        for address in fleet.addresses()
    )
    return [dataclasses.replace(row, group=groups.get(row.address, "")) for row in rows if row is not None]


def export_text(rows: list[ConsoleRow], zone: ZoneInfo) -> str:
    """The rows as the console's CSV export, times in ``zone``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    for row in rows:
        seen = row.last_seen.astimezone(zone).strftime("%d/%m/%Y %H:%M")
        writer.writerow([row.computer_name, row.address, row.mac, seen, row.version, row.group])
    return buffer.getvalue()


def write_console_export(
    fleet: Fleet,
    path: Path,
    *,
    product_id: str,
    service_name: str,
    zone: ZoneInfo,
    now: datetime | None = None,
    groups: Mapping[str, str] | None = None,
) -> int:
    """Write what the console would export now to ``path``; return how many agents it lists."""
    rows = console_rows(fleet, product_id=product_id, service_name=service_name, now=now, groups=groups)
    Path(path).write_text(export_text(rows, zone), encoding="utf-8")
    return len(rows)
