"""The demo starts from the console's count and ends with it: the letter's export imported first, the
export the console would write after the demo (the simulated fleet's agents that report) imported last."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agentroll import demo_data
from agentroll.console.export import ConsoleError
from agentroll.console.importing import import_console_export, summary
from agentroll.demo.settings import DemoError, Settings, shown
from agentroll.i18n import timezone
from agentroll.model import Inventory
from agentroll.report import Report


def import_letters_export(settings: Settings, say: Any) -> None:
    """``agentroll console import`` of the export the letter counted from (its time is the letter's)."""
    export = settings.inventory / demo_data.CONSOLE_EXPORT
    if not export.is_file():
        say(f"  no console export at {shown(export)}: the reports show agentroll's count only")
        return
    local = demo_data.CONSOLE_EXPORTED_AT.astimezone(timezone(None)).strftime("%Y-%m-%d %H:%M")
    _import(settings, export, local, say)


def import_export_after(settings: Settings, inventory: Inventory, fleet: Any, say: Any) -> None:
    """What the console would export now, written from the simulated fleet's agents (grouped by
    unit, as the province's console groups them) and imported."""
    from agentroll.sim.console import write_console_export

    export = settings.report_dir / "console-export-after.csv"
    now = datetime.now(UTC)
    listed = write_console_export(
        fleet,
        export,
        product_id=demo_data.AGENT_PRODUCT_ID,
        service_name=demo_data.AGENT_SERVICE_NAME,
        zone=timezone(None),
        now=now,
        groups={
            **{host.address: host.unit for host in inventory.hosts if host.address},
            demo_data.FORGOTTEN_PC["address"]: demo_data.FORGOTTEN_PC_UNIT,
        },
    )
    say(f"  the console's export now: {listed} agents, in {shown(export)}")
    _import(settings, export, now.astimezone(timezone(None)).strftime("%Y-%m-%d %H:%M:%S"), say)


def _import(settings: Settings, export: Any, exported_at: str, say: Any) -> None:
    try:
        outcome = import_console_export(export, settings.inventory, settings.state, exported_at=exported_at)
    except ConsoleError as error:
        raise DemoError(f"agentroll console import: {error}") from None
    say(f"  agentroll console import: {summary(outcome)}")


def console_line(report: Report) -> str:
    """``61 agents reporting = 32.1 % (of 62 listed; 1 not in the inventory)``, or why there is none."""
    console = report.get("console")
    if not console:
        return "no export imported"
    return (
        f"{console['reporting']} agents reporting = {console['coverage_pct']:.1f} % "
        f"(of {console['entries']} listed; {len(console['unknown'])} not in the inventory, "
        f"{console['not_reporting']} PCs with the agent not reporting)"
    )
