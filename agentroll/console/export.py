"""Read the central console's endpoint export (CSV or XLSX): one entry per agent the console knows.

Every row is checked before anything is recorded; a bad file gets one line per problem naming the
file, the row (the spreadsheet's number, the header being row 1) and the column, and nothing of it
is kept. The export time is ``--exported-at`` when given, else the workbook's creation time (its
document properties, which consoles set when they write the file), else the CSV file's modification
time. Times without a zone are the district's local time (``agentroll_timezone``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroll.cells import cell_text
from agentroll.console.columns import locate_columns
from agentroll.mac import normalize_mac

if TYPE_CHECKING:
    from agentroll.roster import Table
    from agentroll.store.console import StoredExport


class ConsoleError(ValueError):
    """The export cannot be used; the message has one line per problem, naming file, row and column."""


@dataclass(frozen=True)
class ConsoleEntry:
    """One agent as the console lists it."""

    row: int
    computer_name: str
    address: str | None = None
    mac: str | None = None
    #: When the agent last reported to the console (None: never).
    last_seen: datetime | None = None
    agent_version: str | None = None
    group: str | None = None

    def as_value(self) -> dict[str, Any]:
        """The entry as JSON-ready data (times in UTC ISO 8601)."""
        return {
            "row": self.row,
            "computer_name": self.computer_name,
            "address": self.address,
            "mac": self.mac,
            "last_seen": iso(self.last_seen) if self.last_seen else None,
            "agent_version": self.agent_version,
            "group": self.group,
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> ConsoleEntry:
        """The entry from ``as_value``'s form."""
        last_seen = value.get("last_seen")
        return cls(
            row=int(value["row"]),
            computer_name=str(value["computer_name"]),
            address=value.get("address"),
            mac=value.get("mac"),
            last_seen=datetime.fromisoformat(last_seen) if last_seen else None,
            agent_version=value.get("agent_version"),
            group=value.get("group"),
        )


@dataclass(frozen=True)
class ConsoleExport:
    """An export as read: where from, when the console wrote it, its entries and a digest of them."""

    source: str
    exported_at: datetime
    entries: tuple[ConsoleEntry, ...]
    #: Where the export time came from: ``given``, ``workbook`` or ``file``.
    exported_at_source: str = "given"

    @property
    def digest(self) -> str:
        """SHA-256 of the export time and entries: the same export imported twice has the same one."""
        text = repr((iso(self.exported_at), [entry.as_value() for entry in self.entries]))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_export(stored: StoredExport) -> ConsoleExport:
    """An export as the store gave it back."""
    return ConsoleExport(
        source=stored.source,
        exported_at=stored.exported_at,
        entries=tuple(ConsoleEntry.from_value(value) for value in stored.entries),
        exported_at_source="stored",
    )


#: Date and time spellings consoles write (day first, as Vietnamese consoles and Excel do), tried in order.
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
)
#: What consoles write for an agent that never reported.
_NEVER = frozenset({"never", "n/a", "-", "chưa kết nối", "chưa bao giờ"})


def parse_time(value: Any, zone: Any) -> datetime | None:
    """A cell as an aware datetime; None for blank or "never"; ValueError for anything else.

    Naive values (Excel cells, text without an offset) are in ``zone``, the district's time zone.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        if not text or text.lower() in _NEVER:
            return None
        moment = _parse_text_time(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _parse_text_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date and time (like 2026-11-05 08:30 or 05/11/2026 08:30)")


def iso(moment: datetime) -> str:
    """UTC ISO 8601 to the second, with a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_export(
    path: Path,
    columns: Mapping[str, Sequence[str]],
    zone: Any,
    *,
    exported_at: datetime | None = None,
) -> ConsoleExport:
    """Read and check an export; ConsoleError lists every problem, one a line."""
    path = Path(path)
    table, workbook_time = _read_table(path)
    found, problems = locate_columns(list(table.columns), columns)
    if problems:
        raise ConsoleError("\n".join(f"{table.label}: {problem}" for problem in problems))
    if not table.rows:
        raise ConsoleError(f"{table.label}: no entries below the header")
    errors: list[str] = []
    entries = [
        entry
        for number, row in table.rows
        if (entry := _entry(table.label, number, row, found, zone, errors))
    ]
    _check_duplicates(table.label, entries, errors)
    if errors:
        raise ConsoleError("\n".join(errors))
    if exported_at is not None:
        moment, source = exported_at, "given"
    elif workbook_time is not None:
        moment, source = workbook_time, "workbook"
    else:
        moment, source = datetime.fromtimestamp(path.stat().st_mtime, UTC), "file"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return ConsoleExport(str(path), moment.astimezone(UTC), tuple(entries), source)


def _read_table(path: Path) -> tuple[Table, datetime | None]:
    """The export's rows, and for a workbook its creation time (UTC) when it has one."""
    # Imported here: the roster module needs the report's writer, and the report needs this package.
    from agentroll.roster import RosterError, read_csv, read_sheet

    try:
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            return read_csv(path), None
        import openpyxl  # only XLSX exports need it

        try:
            workbook = openpyxl.load_workbook(path, read_only=True)
        except FileNotFoundError:
            raise ConsoleError(f"{path}: file not found") from None
        except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
            raise ConsoleError(f"{path.name}: not a readable XLSX workbook ({error})") from None
        try:
            sheet = workbook.sheetnames[0]
            created = workbook.properties.created
        finally:
            workbook.close()
        # openpyxl reads document times as naive UTC.
        return read_sheet(path, sheet), created.replace(tzinfo=UTC) if created else None
    except RosterError as error:
        raise ConsoleError(str(error)) from None


def _entry(
    label: str,
    number: int,
    row: Mapping[str, Any],
    found: Mapping[str, str],
    zone: Any,
    errors: list[str],
) -> ConsoleEntry | None:
    """One row as an entry; its problems go to ``errors``, each naming the row and the column."""
    where = f"{label} row {number}"
    cells = {field: row.get(header) for field, header in found.items()}
    before = len(errors)
    name = cell_text(cells.get("computer_name"))
    if name is None:
        errors.append(f"{where}, column '{found['computer_name']}': the computer name is empty")
    elif re.search(r"[\x00-\x1f\x7f-\x9f]", name):
        errors.append(f"{where}, column '{found['computer_name']}': control character in {name!r}")
    address = cell_text(cells.get("address"))
    if address is not None:
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            errors.append(f"{where}, column '{found['address']}': '{address}' is not an IP address")
    mac = cell_text(cells.get("mac"))
    if mac is not None:
        try:
            mac = normalize_mac(mac)
        except ValueError as error:
            errors.append(f"{where}, column '{found['mac']}': {error}")
    last_seen = None
    try:
        last_seen = parse_time(cells.get("last_seen"), zone)
    except ValueError as error:
        errors.append(f"{where}, column '{found['last_seen']}': {error}")
    if len(errors) > before or name is None:
        return None
    return ConsoleEntry(
        row=number,
        computer_name=name,
        address=address,
        mac=mac,
        last_seen=last_seen,
        agent_version=cell_text(cells.get("agent_version")),
        group=cell_text(cells.get("group")),
    )


def _check_duplicates(label: str, entries: Sequence[ConsoleEntry], errors: list[str]) -> None:
    """One agent listed twice: the same MAC address, or (without one) the same name and address."""
    seen: dict[tuple[str, ...], ConsoleEntry] = {}
    for entry in entries:
        key = ("mac", entry.mac) if entry.mac else ("name", entry.computer_name.lower(), entry.address or "")
        first = seen.setdefault(key, entry)
        if first is not entry:
            what = f"MAC {entry.mac}" if entry.mac else f"computer name '{entry.computer_name}'"
            errors.append(f"{label} row {entry.row}: duplicate of row {first.row} ({what})")
