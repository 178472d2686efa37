"""``agentroll console import``: read an export, check it whole, record it, say what matched.

Nothing is recorded unless the whole file is good (``agentroll.console.export``); the same export
imported again is recognised and not recorded twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agentroll import naming
from agentroll.console.export import ConsoleError, ConsoleExport, parse_time, read_export
from agentroll.console.matching import HostIndex, Match, match_entries
from agentroll.i18n import timezone
from agentroll.inventory import load_inventory
from agentroll.model import Aspect, Inventory
from agentroll.store import open_store


@dataclass(frozen=True)
class ImportOutcome:
    """What an import recorded and how its entries matched the inventory."""

    export_id: int
    new: bool
    export: ConsoleExport
    matches: tuple[Match, ...]


def import_console_export(
    path: Path,
    inventory_path: Path,
    state: str | Path,
    *,
    exported_at: str | None = None,
    now: datetime | None = None,
) -> ImportOutcome:
    """Read ``path`` with the inventory's column mapping and time zone, record it, and match it.

    ``exported_at`` is the export time as the operator gives it (``2026-11-05 08:00``, local time
    unless it carries an offset); without it the file says (``read_export``).
    """
    inventory = load_inventory(inventory_path)
    zone = timezone(inventory.timezone)
    given = None
    if exported_at is not None:
        try:
            given = parse_time(exported_at, zone)
        except ValueError as error:
            raise ConsoleError(f"--exported-at: {error}") from None
        if given is None:
            raise ConsoleError(f"--exported-at: '{exported_at}' is not a date and time")
    export = read_export(path, inventory.console.columns, zone, exported_at=given)
    with open_store(state) as store:
        export_id, new = store.record_console_export(
            exported_at=export.exported_at,
            source=Path(export.source).name,
            digest=export.digest,
            entries=[entry.as_value() for entry in export.entries],
            inventory=str(inventory_path),
            now=now or datetime.now(UTC),
        )
        views = store.views([host.name for host in inventory.hosts])
    computer_names = {
        host: (view.value(Aspect.NAME) or {}).get("computer_name") for host, view in views.items()
    }
    return ImportOutcome(
        export_id, new, export, tuple(match_entries(export.entries, host_index(inventory, computer_names)))
    )


def host_index(inventory: Inventory, computer_names: dict[str, str | None]) -> HostIndex:
    """The inventory's PCs indexed for matching, with their standard and current names."""
    return HostIndex(inventory.hosts, naming.standard_names(inventory), computer_names)


def summary(outcome: ImportOutcome) -> str:
    """One line: what was recorded, when it was exported, how its entries matched."""
    export = outcome.export
    by_key = Counter(match.key for match in outcome.matches if match.host)
    unmatched = sum(1 for match in outcome.matches if match.host is None and not match.problem)
    problems = Counter(match.problem for match in outcome.matches if match.problem)
    where = {
        "given": "as given",
        "workbook": "from the workbook",
        "file": "from the file's modification time",
    }
    recorded = "recorded" if outcome.new else "already recorded"
    keys = ", ".join(f"{by_key[key]} by {key}" for key in ("mac", "address", "name") if by_key[key]) or "none"
    return (
        f"{recorded} console export {outcome.export_id} ({len(export.entries)} entries, exported "
        f"{export.exported_at:%Y-%m-%d %H:%M} UTC, {where[export.exported_at_source]}): "
        f"matched {sum(by_key.values())} ({keys}), {unmatched} not in the inventory, "
        f"{problems['ambiguous']} ambiguous, {problems['conflict']} conflicting"
    )
