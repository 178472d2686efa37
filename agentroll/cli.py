"""The ``agentroll`` command. Each sub-command is a thin call into the library.

The ``sim`` and ``demo`` sub-commands live with their code (``agentroll.sim.cli``,
``agentroll.demo``), each adding itself with ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from agentroll import __version__, demo
from agentroll.bundle import BundleError, write_kit
from agentroll.console.export import ConsoleError
from agentroll.console.importing import import_console_export
from agentroll.console.importing import summary as console_summary
from agentroll.i18n import timezone
from agentroll.inventory import InventoryError, load_inventory
from agentroll.model import Aspect, HostView, Inventory
from agentroll.naming import is_correctly_named, standard_names
from agentroll.receipts import ReceiptError, import_receipts
from agentroll.receipts import summary as receipts_summary
from agentroll.report import report_from_store, to_json, unit_report, write_atomic
from agentroll.reports import BINARY_FORMATS, FORMATS, render
from agentroll.reports.province import render_province_text
from agentroll.rerun import DEFAULT_PLAYBOOK, DEFAULT_ROUNDS, RerunError, rerun
from agentroll.rollup import DistrictReport, district_name, province_report
from agentroll.roster import import_roster
from agentroll.runner.signals import Terminated, stoppable
from agentroll.sim import cli as sim_cli
from agentroll.store import Store, StoreError, default_state_location, default_state_path, open_store
from agentroll.store.location import MEMORY, configured_state_location
from agentroll.watch import DEFAULT_EVERY, WAKE_PLAYBOOK, WatchError, parse_every, watch

FORMAT_BY_SUFFIX = {
    ".txt": "text",
    ".json": "json",
    ".md": "md",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
    ".docx": "docx",
}


class CommandError(Exception):
    """A user-facing error of a sub-command (bad option combination, missing optional part)."""


# --- shared helpers -----------------------------------------------------------------------------


def _load_inventory(args: argparse.Namespace) -> Inventory:
    """The validated inventory named by ``-i``."""
    return load_inventory(args.inventory)


def _open_store(location: str | None) -> Store:
    """The state store to read, opened read-only (it may sit where this user cannot write).

    A store named by ``--state`` or ``$AGENTROLL_STATE`` must exist; the default one may not exist
    yet (nothing has run on this machine: every PC is unknown), and reading does not create it.
    """
    named = location or configured_state_location()
    if named is None and not default_state_path().exists():
        return open_store(MEMORY)
    return open_store(named, readonly=True)


def _emit(text: str | bytes, output: Path | None) -> None:
    """Write to ``output`` atomically, or to standard output."""
    if output is not None:
        write_atomic(output, text)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _playbook_extra(args: argparse.Namespace) -> list[str]:
    """What follows the command for ansible-playbook, a leading ``--`` dropped."""
    return args.extra[1:] if args.extra[:1] == ["--"] else args.extra


def _emit_hosts(hosts: Iterable[str], output: Path | None = None) -> None:
    """Host names one per line, the form ``--limit @file`` reads."""
    _emit("".join(f"{host}\n" for host in hosts), output)


def _add_inventory_and_state(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    """The ``-i`` and ``--state`` options every reading command shares (``-i`` repeatable if ``several``)."""
    if several:
        parser.add_argument(
            "-i",
            "--inventory",
            required=True,
            type=Path,
            action="append",
            help="inventory file or directory; one per district, repeated, for the province roll-up",
        )
    else:
        parser.add_argument("-i", "--inventory", required=True, type=Path, help="inventory file or directory")
    parser.add_argument(
        "--state",
        default=None,
        help="state store: a SQLite file, sqlite:///PATH or postgresql://… "
        "(default: $AGENTROLL_STATE, else $XDG_STATE_HOME/agentroll/state.sqlite)",
    )


# --- report -------------------------------------------------------------------------------------


def _time_zone(name: str) -> str:
    """``--tz``: an IANA time zone name, refused with one line when unknown."""
    try:
        timezone(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return name


#: ``agentroll report``'s exit status when the coverage is below ``--fail-under`` (2 is a user error).
BELOW_FAIL_UNDER = 1


def _report_format(args: argparse.Namespace) -> str:
    """``--format``, else the one the ``-o`` suffix names (an unknown suffix is refused), else text."""
    if args.format:
        return args.format
    if args.output is None:
        return "text"
    suffix = args.output.suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        known = ", ".join(sorted(FORMAT_BY_SUFFIX))
        raise CommandError(
            f"-o {args.output}: no report format for the extension '{suffix or '(none)'}'; "
            f"use one of {known}, or give --format"
        )
    return FORMAT_BY_SUFFIX[suffix]


def _percentage(text: str) -> float:
    """``--fail-under``: a percentage from 0 to 100."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage from 0 to 100")
    return value


def command_report(args: argparse.Namespace) -> int:
    """``agentroll report``: build the report from the store and render it."""
    fmt = _report_format(args)
    if fmt in BINARY_FORMATS and args.output is None and sys.stdout.isatty():
        raise CommandError(f"format '{fmt}' is binary: give -o FILE")
    if len(args.inventory) > 1:
        return _province_report(args, fmt)
    inventory = load_inventory(args.inventory[0])
    with _open_store(args.state) as store:
        report = report_from_store(inventory, store, template=args.template)
    if args.unit is not None:
        report = unit_report(report, args.unit)
    _emit(render(report, fmt, args.lang, district=args.district, tz=args.tz), args.output)
    coverage = float(report["totals"]["coverage_pct"])
    if args.fail_under is not None and coverage < args.fail_under:
        scope = f"unit {args.unit}" if args.unit is not None else "the district"
        print(
            f"agentroll: coverage of {scope} {coverage:.1f} % is below --fail-under {args.fail_under:g} %",
            file=sys.stderr,
        )
        return BELOW_FAIL_UNDER
    return 0


def _province_report(args: argparse.Namespace, fmt: str) -> int:
    """``agentroll report -i DISTRICT -i DISTRICT …``: the district reports added up (agentroll.rollup)."""
    if fmt not in ("text", "json") or args.unit is not None:
        raise CommandError(
            "a report of several inventories is text or json, without --unit: give one -i for the rest"
        )
    inventories = [(source, load_inventory(source)) for source in args.inventory]
    with _open_store(args.state) as store:
        parts = [
            DistrictReport(
                district_name(inventory, source),
                str(source),
                report_from_store(inventory, store, template=args.template),
            )
            for source, inventory in inventories
        ]
    try:
        report = province_report(parts)
    except ValueError as error:
        raise CommandError(str(error)) from None
    _emit(to_json(report) if fmt == "json" else render_province_text(report), args.output)
    return 0


# --- stragglers ---------------------------------------------------------------------------------


def command_stragglers(args: argparse.Namespace) -> int:
    """``agentroll stragglers``: the hosts a rerun should target, one a line."""
    inventory = _load_inventory(args)
    with _open_store(args.state) as store:
        report = report_from_store(inventory, store, template=args.template)
    hosts = report["stragglers"]
    _emit_hosts(hosts, args.output)
    if args.output is not None:
        print(f"agentroll: {len(hosts)} straggler(s) written to {args.output}", file=sys.stderr)
    return 0


# --- names --------------------------------------------------------------------------------------


def name_rows(
    inventory: Inventory, views: Mapping[str, HostView], template: str | None
) -> list[dict[str, Any]]:
    """Per host: its last known computer name, its standard name, and whether they agree (null: unknown)."""
    names = standard_names(inventory, template)
    rows = []
    for host in sorted(inventory.hosts, key=lambda host: (host.unit, host.name)):
        view = views.get(host.name)
        computer_name = ((view.value(Aspect.NAME) if view else None) or {}).get("computer_name")
        rows.append(
            {
                "host": host.name,
                "unit": host.unit,
                "owner": host.owner,
                "computer_name": computer_name,
                "standard_name": names[host.name],
                "compliant": None
                if computer_name is None
                else is_correctly_named(computer_name, names[host.name]),
            }
        )
    return rows


def _names_table(rows: Sequence[dict[str, Any]]) -> str:
    """The names rows as a plain-text table."""
    marks = {True: "yes", False: "NO", None: "?"}
    table = [
        [
            row["host"],
            row["unit"],
            row["owner"] or "",
            row["computer_name"] or "?",
            row["standard_name"],
            marks[row["compliant"]],
        ]
        for row in rows
    ]
    headers = ["host", "unit", "owner", "computer name", "standard name", "named right"]
    return tabulate(table, headers=headers, tablefmt="simple") + "\n"


def command_names(args: argparse.Namespace) -> int:
    """``agentroll names``: every PC's standard name and whether it carries it."""
    inventory = _load_inventory(args)
    with _open_store(args.state) as store:
        views = store.views([host.name for host in inventory.hosts])
    rows = name_rows(inventory, views, args.template)
    text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n" if args.json else _names_table(rows)
    _emit(text, args.output)
    return 0


# --- roster -------------------------------------------------------------------------------------


def command_roster_import(args: argparse.Namespace) -> int:
    """``agentroll roster import``: roster tables in, inventory directory out."""
    if args.workbook is not None:
        if args.units is not None or args.pcs is not None:
            raise CommandError("give either --workbook or --units and --pcs, not both")
        units_path = pcs_path = args.workbook
    elif args.units is not None and args.pcs is not None:
        units_path, pcs_path = args.units, args.pcs
    else:
        raise CommandError("give --units FILE and --pcs FILE (CSV or XLSX), or --workbook FILE.xlsx")
    result = import_roster(units_path, pcs_path, args.output, force=args.force)
    print(f"agentroll: wrote {result.output}: {result.units} unit(s), {result.pcs} PC(s)", file=sys.stderr)
    for path in result.kept:
        print(f"agentroll: kept {path} as it was", file=sys.stderr)
    return 0


# --- rerun --------------------------------------------------------------------------------------


def command_rerun(args: argparse.Namespace) -> int:
    """``agentroll rerun``: the stragglers left on stdout; 0 when none is left, 1 when some remain."""
    extra = _playbook_extra(args)
    with stoppable():
        outcome = rerun(
            args.inventory,
            playbook=args.playbook,
            rounds=args.rounds,
            state=args.state,
            limit_file=args.limit_file,
            extra_args=extra,
            pause=args.pause,
            template=args.template,
            say=lambda text: print(f"agentroll rerun: {text}", file=sys.stderr, flush=True),
        )
    _emit_hosts(outcome.remaining)
    return 0 if outcome.converged else 1


def _add_rerun(commands: Any) -> None:
    """The ``rerun`` sub-command."""
    parser = commands.add_parser(
        "rerun",
        help="rerun a playbook on the stragglers until none is left or the rounds run out",
        description=(
            "Each round: the stragglers of the report (as 'agentroll stragglers' lists them) into a file, "
            "then the playbook with --limit @FILE. ansible-playbook's output goes to stderr, the "
            "stragglers left at the end to stdout. Exit status 0: none left; 1: some remain; "
            "2: usage, inventory or state error."
        ),
    )
    _add_inventory_and_state(parser)
    parser.add_argument(
        "--playbook", default=str(DEFAULT_PLAYBOOK), help=f"playbook to rerun (default {DEFAULT_PLAYBOOK})"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"at most this many reruns (default {DEFAULT_ROUNDS})",
    )
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to wait between rounds")
    parser.add_argument("--template", default=None, help="standard-name format (Jinja2)")
    parser.add_argument(
        "--limit-file",
        type=Path,
        default=None,
        help="where to write the --limit @FILE list (default: $AGENTROLL_REPORT_DIR/rerun-limit.txt)",
    )
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="after --: extra ansible-playbook arguments")
    parser.set_defaults(func=command_rerun)


# --- watch --------------------------------------------------------------------------------------


def command_watch(args: argparse.Namespace) -> int:
    """``agentroll watch``: 0 when no straggler is left, 1 when the deadline passed with some left."""
    extra = _playbook_extra(args)
    with stoppable():
        outcome = watch(
            args.inventory,
            every=args.every,
            until=args.until,
            state=args.state,
            playbook=args.playbook,
            wake_playbook=args.wake_playbook,
            extra_args=extra,
            template=args.template,
        )
    _emit_hosts(outcome.remaining)
    return 0 if outcome.status == "done" else 1


def _every(text: str) -> float:
    """``--every``, refused in one line when it is no duration."""
    try:
        return parse_every(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_watch(commands: Any) -> None:
    """The ``watch`` sub-command."""
    parser = commands.add_parser(
        "watch",
        help="wake, probe and deploy to the stragglers round after round until none is left or the deadline",
        description=(
            "Each round: the stragglers of the report; playbooks/wake.yml on them (a Wake-on-LAN magic "
            "packet to each that does not answer, then a bounded wait); the playbook on those that "
            "answered; one attempt per straggler recorded in the store. Stopped, it is continued by the "
            "next 'agentroll watch' of the inventory. Progress goes to stderr, the stragglers left to "
            "stdout. Exit status 0: none left; 1: the deadline passed with some left; 2: usage, "
            "inventory or state error (another process watching this inventory, say); 130: stopped."
        ),
    )
    _add_inventory_and_state(parser)
    parser.add_argument(
        "--every",
        type=_every,
        default=DEFAULT_EVERY,
        metavar="DURATION",
        help="time from one round's start to the next, e.g. 10m, 90s, 1h (default 10m)",
    )
    parser.add_argument(
        "--until",
        default=None,
        metavar="DATE",
        help="stop after this date (end of day) or date and time, local time (default: the inventory's "
        "deadline; a continued watch keeps its own)",
    )
    parser.add_argument(
        "--playbook", default=str(DEFAULT_PLAYBOOK), help=f"deployment playbook (default {DEFAULT_PLAYBOOK})"
    )
    parser.add_argument(
        "--wake-playbook", default=str(WAKE_PLAYBOOK), help=f"wake playbook (default {WAKE_PLAYBOOK})"
    )
    parser.add_argument("--template", default=None, help="standard-name format (Jinja2)")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="after --: extra ansible-playbook arguments")
    parser.set_defaults(func=command_watch)


# --- the offline kit and its receipts -----------------------------------------------------------


def command_bundle(args: argparse.Namespace) -> int:
    """``agentroll bundle``: the offline kit of one unit."""
    kit = write_kit(
        args.inventory,
        args.unit,
        args.output,
        installer=args.installer,
        include_install_arguments=args.include_install_arguments,
        simulated=args.simulated,
        template=args.template,
    )
    print(
        f"agentroll: wrote the offline kit of {kit.unit} to {kit.directory}: {kit.pcs} PC(s)", file=sys.stderr
    )
    if kit.without_mac:
        print(
            f"agentroll: warning: {len(kit.without_mac)} PC(s) of {kit.unit} have no MAC address "
            f"(agentroll_mac), the kit cannot recognise them: {', '.join(kit.without_mac)}",
            file=sys.stderr,
        )
    return 0


def command_receipts_import(args: argparse.Namespace) -> int:
    """``agentroll receipts import``: the kit's receipts into the store, all or nothing."""
    outcome = import_receipts(args.directory, args.inventory, args.state or default_state_location())
    print(f"agentroll: {receipts_summary(outcome)}", file=sys.stderr)
    return 0


def _add_offline_kit(commands: Any) -> None:
    """The ``bundle`` and ``receipts`` sub-commands."""
    bundle = commands.add_parser(
        "bundle",
        help="write the offline kit of one unit (USB stick or share) for PCs that cannot be reached",
        description=(
            "A folder with the installer and its SHA-256, kit.json (the agent's requirements, the unit's "
            "PCs by MAC address with their standard names) and Install-Agent.cmd, which a person at the "
            "PC double-clicks: it checks the PC, installs, renames and writes a receipt."
        ),
    )
    bundle.add_argument("-i", "--inventory", required=True, type=Path, help="inventory file or directory")
    bundle.add_argument("--unit", required=True, help="the unit's code")
    bundle.add_argument("-o", "--output", required=True, type=Path, help="a new or empty folder")
    bundle.add_argument(
        "--installer", type=Path, default=None, help="the installer file (default: the profile's)"
    )
    bundle.add_argument(
        "--include-install-arguments",
        action="store_true",
        help="put the agent's install arguments (which may hold its registration key) into the kit",
    )
    bundle.add_argument(
        "--simulated",
        action="store_true",
        help="a kit for the simulated fleet: allow the toolkit's sample agent (refused otherwise)",
    )
    bundle.add_argument("--template", default=None, help="standard-name format (Jinja2)")
    bundle.set_defaults(func=command_bundle)

    receipts = commands.add_parser("receipts", help="the offline kit's receipts")
    actions = receipts.add_subparsers(dest="receipts_command", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="record the receipts of a kit folder in the store (all or nothing, each once)",
    )
    importing.add_argument(
        "directory", type=Path, help="the kit folder (its receipts/) or a folder of receipts"
    )
    _add_inventory_and_state(importing)
    importing.set_defaults(func=command_receipts_import)


# --- the central console's export ---------------------------------------------------------------


def command_console_import(args: argparse.Namespace) -> int:
    """``agentroll console import``: the console's endpoint export into the store, all or nothing."""
    outcome = import_console_export(
        args.file, args.inventory, args.state or default_state_location(), exported_at=args.exported_at
    )
    print(f"agentroll: {console_summary(outcome)}", file=sys.stderr)
    return 0


def _add_console(commands: Any) -> None:
    """The ``console`` sub-commands."""
    console = commands.add_parser("console", help="the central monitoring console's count")
    actions = console.add_subparsers(dest="console_command", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="record the console's endpoint export (CSV or XLSX) in the store and match it to the inventory",
        description=(
            "Columns are found by their headers (English or Vietnamese; agentroll_console_columns in the "
            "inventory adds the district's own). The whole file is checked first: a bad one is refused "
            "with one line per problem and nothing is recorded."
        ),
    )
    importing.add_argument("file", type=Path, help="the export: .csv (UTF-8) or .xlsx")
    _add_inventory_and_state(importing)
    importing.add_argument(
        "--exported-at",
        default=None,
        help="when the console wrote the export, e.g. '2026-11-05 08:00' (local time); default: the "
        "workbook's creation time, else the file's modification time",
    )
    importing.set_defaults(func=command_console_import)


# --- parser and entry point ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command, extensions included."""
    parser = argparse.ArgumentParser(
        prog="agentroll",
        description="Roll a monitoring agent out to a district's Windows PCs and report coverage per unit.",
    )
    parser.add_argument("--version", action="version", version=f"agentroll {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    report = commands.add_parser("report", help="coverage report per unit, from the inventory and the store")
    _add_inventory_and_state(report, several=True)
    report.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: from the -o suffix, else text)",
    )
    report.add_argument("--lang", choices=("en", "vi"), default="en", help="language of human formats")
    report.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")
    report.add_argument("--template", default=None, help="standard-name format (Jinja2)")
    report.add_argument(
        "--unit",
        metavar="CODE",
        default=None,
        help="the report of one unit (its PCs, what to do next, the advice that concerns it)",
    )
    report.add_argument(
        "--district",
        default=None,
        help="the district of the written reply (docx, reply-html), if not agentroll_district",
    )
    report.add_argument(
        "--tz",
        type=_time_zone,
        default=None,
        help="time zone of the times shown, e.g. Asia/Ho_Chi_Minh (default: agentroll_timezone, else that)",
    )
    report.add_argument(
        "--fail-under",
        metavar="PCT",
        type=_percentage,
        default=None,
        help=f"exit with status {BELOW_FAIL_UNDER} when the coverage (of --unit, else the district) "
        "is below PCT percent, after writing the report",
    )
    report.set_defaults(func=command_report)

    stragglers = commands.add_parser("stragglers", help="hosts a rerun should target (--limit @FILE)")
    _add_inventory_and_state(stragglers)
    stragglers.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")
    stragglers.add_argument("--template", default=None, help="standard-name format (Jinja2)")
    stragglers.set_defaults(func=command_stragglers)

    names = commands.add_parser("names", help="standard name of every PC and whether it carries it")
    _add_inventory_and_state(names)
    names.add_argument("--json", action="store_true", help="JSON list instead of a table")
    names.add_argument("--template", default=None, help="standard-name format (Jinja2)")
    names.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")
    names.set_defaults(func=command_names)

    roster = commands.add_parser("roster", help="the district's roster spreadsheet")
    roster_commands = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    roster_import = roster_commands.add_parser(
        "import", help="turn units and PCs tables (CSV or XLSX) into an inventory directory"
    )
    roster_import.add_argument("--units", type=Path, help="units table: code, name, licenses[, deadline]")
    roster_import.add_argument("--pcs", type=Path, help="PCs table: unit, address[, owner, mac, hostname]")
    roster_import.add_argument("--workbook", type=Path, help="XLSX workbook with sheets 'units' and 'pcs'")
    roster_import.add_argument("-o", "--output", type=Path, required=True, help="inventory directory")
    roster_import.add_argument(
        "--force",
        action="store_true",
        help="write hosts.yml into a non-empty directory (existing settings files are kept)",
    )
    roster_import.set_defaults(func=command_roster_import)

    _add_rerun(commands)
    _add_watch(commands)
    _add_offline_kit(commands)
    _add_console(commands)
    sim_cli.register(commands)
    demo.register(commands)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the user's to fix: reported in one line each, without a traceback."""
    return (
        CommandError,
        InventoryError,
        StoreError,
        RerunError,
        WatchError,
        BundleError,
        ReceiptError,
        ConsoleError,
        ValueError,
        OSError,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``agentroll`` command; returns the exit status (2 on a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _user_errors() as error:
        _print_error(error)
        return 2
    except KeyboardInterrupt:
        print("agentroll: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("agentroll: terminated", file=sys.stderr)
        return 143


def _print_error(error: BaseException) -> None:
    """One line per problem (an inventory or roster error may list several)."""
    message = str(error)
    if isinstance(error, OSError) and error.filename is not None:
        message = f"{error.filename}: {error.strerror or message}"
    lines = [line for line in message.splitlines() if line.strip()] or [type(error).__name__]
    for line in lines:
        print(f"agentroll: error: {line}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
