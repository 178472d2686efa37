"""``agentroll demo``: the Kon Plông district end to end, real ansible-playbook, simulated fleet.

The steps are the ones an IT team would take, each a real ``ansible-playbook`` run over WinRM:

1. start the simulated Windows fleet of ``inventory/demo/fleet.yml`` in this process (with its
   control API), after checking that the inventory's connection variables reach it;
2. dry run (``playbooks/preflight.yml``): eligibility summary, reallocation advice, coverage before;
3. ``playbooks/site.yml``: install, rename, reboot, verify;
4. switch the PCs that were off back on (through the fleet's control API) and rerun ``site.yml`` on
   the stragglers (``agentroll stragglers`` → ``--limit @FILE``) until nothing changes, at most 3 rounds;
5. coverage after, per unit, and every report format (English and Vietnamese) in the report folder.

The state database is ``$AGENTROLL_STATE`` when set, otherwise ``state/demo.sqlite`` in the
checkout, started afresh each time (the previous one is kept as ``.previous``). "Before" is computed
from this demo's own runs, so an older demo in the same database cannot inflate it. The fleet is
stopped whatever happens (errors, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import yaml

from agentroll.inventory import InventoryError, load_inventory
from agentroll.model import Inventory
from agentroll.report import Report, report_from_store, write_atomic
from agentroll.rerun import rerun
from agentroll.store import Store, StoreError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_INVENTORY = Path("inventory") / "demo"
DEMO_STATE = Path("state") / "demo.sqlite"
DEMO_REPORT_DIR = Path("reports") / "demo"
DISTRICT = "Kon Plông"
MAX_ROUNDS = 3
#: The controller's CPU is the bottleneck (each WinRM module invocation costs it ~85 ms), so more
#: forks than this buy nothing while tasks run; but win_reboot holds a fork idle for >= 5 s per PC,
#: and the linear strategy waits for the whole batch, so the reboot task wants many forks.
DEFAULT_FORKS = 40
#: ansible-playbook exit codes that only say that some hosts failed (2) or were unreachable (4):
#: the demo district has such PCs on purpose.
EXPECTED_EXIT_CODES = frozenset({0, 2, 4})
#: Report files: (file name, format, language). Written atomically, each one.
REPORT_FILES: tuple[tuple[str, str, str], ...] = (
    ("coverage.json", "json", "en"),
    ("coverage.txt", "text", "en"),
    ("coverage.md", "md", "en"),
    ("coverage.csv", "csv", "en"),
    ("coverage.units.csv", "units-csv", "en"),
    ("coverage.html", "html", "en"),
    ("coverage.xlsx", "xlsx", "en"),
    ("coverage.vi.txt", "text", "vi"),
    ("coverage.vi.html", "html", "vi"),
    ("coverage.vi.xlsx", "xlsx", "vi"),
    ("reply.vi.docx", "docx", "vi"),
    ("reply.vi.html", "reply-html", "vi"),
)
LOG_TAIL_LINES = 20
TASK_NAME_WIDTH = 60
TASK_LINE = re.compile(r"^TASK \[(?:[\w.]+ : )?(?P<name>.*)\] \**$")
HOST_RESULT_LINE = re.compile(r"^(?:ok|changed|skipping|fatal|failed): \[")


class DemoError(Exception):
    """Something stops the demo; the message is one line for the operator."""


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C so that every ``finally`` (the fleet's stop) runs."""


# --- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Where the demo reads and writes, and how it runs Ansible."""

    root: Path
    inventory: Path
    fleet_file: Path
    state: Path
    state_from_env: bool
    report_dir: Path
    forks: int
    rounds: int
    lang: str

    @property
    def ansible_playbook(self) -> Path:
        """The project's ansible-playbook (the one scripts/bootstrap installs)."""
        return self.root / ".venv" / "bin" / "ansible-playbook"

    @property
    def log_dir(self) -> Path:
        """Where each phase's ansible-playbook output goes."""
        return self.report_dir / "logs"


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Settings:
    """Resolve the options and the environment into absolute paths."""
    root = PROJECT_ROOT
    explicit_state = environ.get("AGENTROLL_STATE")
    report_dir = environ.get("AGENTROLL_REPORT_DIR")
    inventory = (args.inventory or root / DEMO_INVENTORY).resolve()
    return Settings(
        root=root,
        inventory=inventory,
        fleet_file=(args.fleet or inventory / "fleet.yml").resolve(),
        state=Path(explicit_state).expanduser().resolve() if explicit_state else root / DEMO_STATE,
        state_from_env=bool(explicit_state),
        report_dir=Path(report_dir).expanduser().resolve() if report_dir else root / DEMO_REPORT_DIR,
        forks=args.forks,
        rounds=args.rounds,
        lang=args.lang,
    )


# --- checks before anything starts --------------------------------------------------------------


def check_setup(settings: Settings) -> None:
    """The checkout has been set up (virtualenv, collections) and holds the demo's files."""
    collections = settings.root / "collections" / "ansible_collections"
    missing = [
        path
        for path in (
            settings.ansible_playbook,
            collections / "ansible" / "windows",
            collections / "agentroll" / "toolkit" / "plugins" / "callback" / "coverage.py",
        )
        if not path.exists()
    ]
    if missing:
        raise DemoError(f"missing set-up ({_shown(missing[0])}): run scripts/bootstrap (or make setup) first")
    for path in (settings.inventory, settings.fleet_file, settings.root / "playbooks" / "site.yml"):
        if not path.exists():
            raise DemoError(f"{_shown(path)} does not exist")


def inventory_connection_vars(inventory_dir: Path) -> dict[str, Any]:
    """The connection variables of group ``all`` in the inventory's group_vars (files and folder)."""
    group_vars = inventory_dir / "group_vars"
    files = sorted((group_vars / "all").glob("*.y*ml")) + sorted(group_vars.glob("all.y*ml"))
    merged: dict[str, Any] = {}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, Mapping):
            merged.update({key: value for key, value in data.items() if str(key).startswith("ansible_")})
    return merged


def connection_mismatches(
    variables: Mapping[str, Any], *, username: str, password: str, tls: bool
) -> list[str]:
    """What in the inventory's connection variables would not reach the fleet (no secret in it)."""
    expected = {
        "ansible_connection": "winrm",
        "ansible_winrm_scheme": "https" if tls else "http",
        "ansible_port": 5986 if tls else 5985,
        "ansible_user": username,
    }
    problems = [
        f"{key} is {variables.get(key)!r}, the fleet needs {value!r}"
        for key, value in expected.items()
        if str(variables.get(key)) != str(value)
    ]
    if variables.get("ansible_winrm_transport") not in ("basic", "ntlm"):
        problems.append("ansible_winrm_transport must be basic or ntlm for the simulated fleet")
    if variables.get("ansible_password") != password:
        # The password itself is never printed, only that it differs.
        problems.append("ansible_password differs from the fleet's credentials")
    return problems


def check_connection(settings: Settings, inventory: Inventory, fleet: Any) -> None:
    """The inventory reaches the fleet: same credentials, scheme and port, every host in the fleet."""
    first = fleet.addresses()[0]
    username, password = fleet.credentials_for(first)
    variables = inventory_connection_vars(settings.inventory)
    problems = connection_mismatches(variables, username=username, password=password, tls=fleet.tls)
    addresses = set(fleet.addresses())
    strangers = [host.name for host in inventory.hosts if host.address not in addresses]
    if strangers:
        problems.append(f"{len(strangers)} inventory host(s) not in the fleet, e.g. {strangers[0]}")
    if problems:
        where = _shown(settings.inventory / "group_vars")
        raise DemoError(f"{where} does not match {_shown(settings.fleet_file)}: " + "; ".join(problems))


# --- state --------------------------------------------------------------------------------------


def prepare_state(settings: Settings) -> None:
    """Start the demo's database afresh (also one named by ``AGENTROLL_STATE``), keeping the previous
    one as ``.previous``: the demo's "before" and "after" are its own runs only.
    """
    settings.state.parent.mkdir(parents=True, exist_ok=True)
    previous = settings.state.with_name(settings.state.name + ".previous")
    # SQLite keeps its write-ahead log beside the database; it moves with it.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{previous}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        current = Path(f"{settings.state}{suffix}")
        if current.exists():
            current.rename(f"{previous}{suffix}")


# --- the fleet ----------------------------------------------------------------------------------


@dataclass
class DemoFleet:
    """The fleet running in this process, and the client of its control API."""

    fleet: Any
    control: Any
    switched_off: list[str] = field(default_factory=list)

    def switch_on(self, addresses: Sequence[str]) -> None:
        """Bring PCs back on the network by clearing their refuse_connections fault."""
        for address in addresses:
            self.control.set_faults(address, refuse_connections=False)


@contextlib.contextmanager
def running_fleet(fleet: Any) -> Iterator[DemoFleet]:
    """Serve ``fleet`` over WinRM with its control API; always stopped on the way out."""
    from agentroll.sim.control import ControlClient, ControlServer
    from agentroll.sim.server import FleetServer

    switched_off = [address for address in fleet.addresses() if fleet.connection_policy(address).refuse]
    server = FleetServer(fleet)
    try:
        server.start()
    except OSError as error:
        raise DemoError(
            f"cannot start the simulated fleet: {error.strerror or error}; "
            "stop the other fleet (agentroll sim stop) or the other demo first"
        ) from None
    control = None
    try:
        control = ControlServer(fleet, server).start()
        yield DemoFleet(fleet, ControlClient(control.url), switched_off)
    finally:
        if control is not None:
            control.stop()
        server.stop()


# --- running ansible-playbook -------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One ansible-playbook run of the demo."""

    number: int
    name: str
    playbook: str
    hosts: int


@dataclass(frozen=True)
class PhaseResult:
    """How a phase ended."""

    phase: Phase
    exit_code: int
    seconds: float
    log: Path
    run_ids: tuple[int, ...]


def ansible_environment(settings: Settings, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment of the ansible-playbook children: the demo's state, report folder and config."""
    # The operator's own ANSIBLE_* settings would change what the demo shows; the project's
    # ansible.cfg decides instead.
    env = {key: value for key, value in environ.items() if not key.startswith("ANSIBLE_")}
    env.pop("NTLM_USER_FILE", None)  # the simulator's, process-wide: not for the client side
    env.update(
        ANSIBLE_CONFIG=str(settings.root / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        AGENTROLL_STATE=str(settings.state),
        AGENTROLL_REPORT_DIR=str(settings.report_dir),
        # The callback writes its JSON after each run; the demo renders every format once, at the end.
        AGENTROLL_REPORT_FORMATS="json",
        PATH=f"{settings.ansible_playbook.parent}{os.pathsep}{environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


def playbook_command(settings: Settings, phase: Phase) -> list[str]:
    """The ansible-playbook command line of a phase."""
    command = [
        str(settings.ansible_playbook),
        "-i",
        str(settings.inventory),
        str(settings.root / "playbooks" / phase.playbook),
        "--forks",
        str(settings.forks),
    ]
    return command


class LogFollower:
    """Follows an ansible-playbook log: the current task and how many hosts it has answered for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.task = ""
        self.task_hosts = 0
        self._offset = 0
        self._partial = ""

    def poll(self) -> None:
        """Read what was appended since the last call."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return
        self._offset += len(chunk)
        lines = (self._partial + chunk.decode("utf-8", errors="replace")).split("\n")
        self._partial = lines.pop()
        for line in lines:
            if match := TASK_LINE.match(line):
                self.task, self.task_hosts = match["name"], 0
            elif HOST_RESULT_LINE.match(line):
                self.task_hosts += 1


class Progress:
    """One updating line on a terminal; a line every few seconds otherwise (CI logs, pipes)."""

    def __init__(self, out: TextIO, interval: float = 5.0) -> None:
        self.out = out
        self.tty = out.isatty()
        self.interval = interval
        self._last_print = 0.0
        self._width = 0

    def update(self, text: str) -> None:
        """Show the current state of the phase."""
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            line = text[:width]
            self.out.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self.out.flush()
        elif time.monotonic() - self._last_print >= self.interval:
            self._last_print = time.monotonic()
            self.out.write(text + "\n")
            self.out.flush()

    def done(self, text: str) -> None:
        """Replace the updating line with the phase's final line."""
        if self.tty:
            self.out.write("\r" + " " * self._width + "\r")
        self.out.write(text + "\n")
        self.out.flush()
        self._width = 0
        self._last_print = 0.0


def run_phase(
    settings: Settings, phase: Phase, out: TextIO, command: Sequence[str] | None = None
) -> PhaseResult:
    """Run one phase's ansible-playbook (``command``, else the phase's own), showing its progress.

    A broken run raises ``DemoError``.
    """
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.log_dir / f"{phase.number:02d}-{phase.name}.log"
    with Store(settings.state) as store:
        before = store.last_run_id()
        started = time.monotonic()
        with log_path.open("wb") as log:
            # A session of its own: Ctrl-C reaches only the demo, which then stops the child in
            # order (and the fleet after it).
            child = subprocess.Popen(
                list(command or playbook_command(settings, phase)),
                cwd=settings.root,
                env=ansible_environment(settings),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _follow(child, store, before, phase, LogFollower(log_path), Progress(out), started)
            finally:
                _stop_child(child)
        seconds = time.monotonic() - started
        run_ids = tuple(range(before + 1, store.last_run_id() + 1))
    result = PhaseResult(phase, child.returncode, seconds, log_path, run_ids)
    if child.returncode not in EXPECTED_EXIT_CODES or not run_ids:
        _show_log_tail(log_path)
        why = f"exit code {child.returncode}" if run_ids else "no run was recorded in the state store"
        raise DemoError(f"{phase.name} failed ({why}); full log: {_shown(log_path)}")
    return result


def _follow(
    child: subprocess.Popen[bytes],
    store: Store,
    before: int,
    phase: Phase,
    log: LogFollower,
    progress: Progress,
    started: float,
) -> None:
    """Poll the store and the log every second until the child exits."""
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1.0)
        seen = store.hosts_observed(before)
        elapsed = _duration(time.monotonic() - started)
        if child.returncode is not None:
            progress.done(
                f"  {phase.name}: {seen}/{phase.hosts} hosts in {elapsed} ({_exit_meaning(child.returncode)})"
            )
            return
        log.poll()
        task = f" · {_clipped(log.task)} ({log.task_hosts})" if log.task else ""
        progress.update(f"  {phase.name}: {seen}/{phase.hosts} hosts seen{task} · {elapsed}")


def _clipped(text: str, width: int = TASK_NAME_WIDTH) -> str:
    """A task name cut to fit one progress line."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    """Stop an ansible-playbook that is still running: SIGINT like Ctrl-C, then harder."""
    for sig, grace in ((signal.SIGINT, 10.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if child.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=grace)


def _exit_meaning(code: int) -> str:
    """ansible-playbook's exit code in words."""
    meanings = {0: "all ok", 2: "some hosts failed", 4: "some hosts unreachable"}
    return f"exit {code}: {meanings.get(code, 'error')}"


def _show_log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> None:
    """The last lines of a failed phase's log, on standard error."""
    try:
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return
    print(f"--- last {len(tail)} lines of {_shown(path)} ---", file=sys.stderr)
    for line in tail:
        print(line, file=sys.stderr)
    print("---", file=sys.stderr)


# --- reports ------------------------------------------------------------------------------------


def build_report(settings: Settings, inventory: Inventory) -> Report:
    """The report, through the one code path."""
    with Store(settings.state) as store:
        return report_from_store(inventory, store)


def eligibility_summary(report: Report) -> list[str]:
    """The dry run's findings in a few lines: who can take the agent, who cannot and why."""
    totals = report["totals"]
    states = totals["states"]
    lines = [
        f"  eligible: {totals['eligible']} PCs ({totals['installed']} already have the agent)",
        _reasons_line("ineligible", report, "ineligible"),
        _reasons_line("unmanageable", report, "unmanageable"),
        _reasons_line("unreachable", report, "unreachable"),
    ]
    waiting = sum(1 for host in report["hosts"] if host.get("license") == "waiting")
    if waiting:
        lines.append(f"  waiting for a license: {waiting} PCs")
    if states.get("failed"):
        lines.append(_reasons_line("failed", report, "failed"))
    return lines


def _reasons_line(label: str, report: Report, state: str) -> str:
    """``label: N PCs`` and how many of them give each reason."""
    reasons: Counter[str] = Counter()
    count = 0
    for host in report["hosts"]:
        if host["state"] == state:
            count += 1
            reasons.update(host["reasons"] or ["no reason given"])
    detail = "; ".join(f"{reason}: {times}" for reason, times in sorted(reasons.items(), key=_by_count))
    return f"  {label}: {count} PCs" + (f" ({detail})" if detail else "")


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    """Most frequent first, then alphabetical."""
    return (-item[1], item[0])


def reallocation_lines(report: Report) -> list[str]:
    """The license reallocation advice, one move a line."""
    names = {unit["code"]: unit["name"] for unit in report["units"]}
    moves = report["reallocation"]
    if not moves:
        return ["  no license needs to move"]
    return [
        f"  move {move['licenses']} license(s) from {move['from']} ({names.get(move['from'], '?')})"
        f" to {move['to']} ({names.get(move['to'], '?')})"
        for move in moves
    ]


def coverage_line(report: Report) -> str:
    """``installed/licenses = pct %``."""
    totals = report["totals"]
    return f"{totals['installed']}/{totals['licenses']} = {totals['coverage_pct']:.1f} %"


def write_reports(settings: Settings, report: Report) -> list[Path]:
    """Every report format into the report folder, each file atomically; returns the paths."""
    from agentroll.reports import render

    written = []
    for name, fmt, lang in REPORT_FILES:
        path = settings.report_dir / name
        write_atomic(path, render(report, fmt, lang, district=DISTRICT))
        written.append(path)
    stragglers = settings.report_dir / "stragglers.txt"
    write_atomic(stragglers, "".join(f"{host}\n" for host in report["stragglers"]))
    written.append(stragglers)
    return written


# --- the demo -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the demo found: the reports before and after, and how long it took."""

    before: Report
    after: Report
    seconds: float
    phases: list[PhaseResult] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)


def run_demo(settings: Settings, out: TextIO = sys.stdout) -> Outcome:
    """The whole demo; returns what it found. The fleet is stopped whatever happens."""
    started = time.monotonic()
    inventory, fleet = load_demo(settings)
    say = _printer(out)
    with running_fleet(fleet) as demo_fleet:
        # Only now that the fleet's addresses are ours is the previous demo's state set aside.
        prepare_state(settings)
        say(
            f"agentroll demo: {len(inventory.hosts)} PCs of {len(inventory.units)} units, "
            f"{sum(unit.licenses for unit in inventory.units)} licenses; forks {settings.forks}"
        )
        say(f"  state: {_shown(settings.state)}   reports and logs: {_shown(settings.report_dir)}")
        say(
            f"\n[1/4] simulated fleet up: {len(fleet.addresses())} Windows PCs on WinRM "
            f"({len(demo_fleet.switched_off)} switched off)"
        )
        phases = [dry_run(settings, inventory, out)]
        before = build_report(settings, inventory)
        show_dry_run(before, say)
        phases.append(deploy(settings, inventory, out))
        say(f"\n[4/4] switching {len(demo_fleet.switched_off)} PCs back on, then rerunning on the stragglers")
        demo_fleet.switch_on(demo_fleet.switched_off)
        phases += rerun_stragglers(settings, inventory, len(phases) + 1, out)
    after = build_report(settings, inventory)
    reports = write_reports(settings, after)
    return Outcome(before, after, time.monotonic() - started, phases, reports)


def load_demo(settings: Settings) -> tuple[Inventory, Any]:
    """The checked inventory and fleet, or a ``DemoError`` saying what is wrong with the set-up."""
    from agentroll.sim.fleet import Fleet, FleetFileError

    check_setup(settings)
    try:
        inventory = load_inventory(settings.inventory)
        fleet = Fleet.from_file(settings.fleet_file)
    except (InventoryError, FleetFileError) as error:
        raise DemoError(str(error).splitlines()[0]) from None
    check_connection(settings, inventory, fleet)
    return inventory, fleet


def dry_run(settings: Settings, inventory: Inventory, out: TextIO) -> PhaseResult:
    """Step 2: playbooks/preflight.yml on every PC."""
    _printer(out)("\n[2/4] dry run: playbooks/preflight.yml")
    return run_phase(settings, Phase(1, "preflight", "preflight.yml", len(inventory.hosts)), out)


def show_dry_run(before: Report, say: Callable[[str], None]) -> None:
    """What the dry run found: eligibility, reallocation advice, coverage before."""
    for line in eligibility_summary(before):
        say(line)
    say("  license reallocation advice:")
    for line in reallocation_lines(before):
        say("  " + line)
    say(f"  coverage before: {coverage_line(before)}")


def deploy(settings: Settings, inventory: Inventory, out: TextIO) -> PhaseResult:
    """Step 3: playbooks/site.yml on every PC."""
    say = _printer(out)
    say("\n[3/4] install, rename, reboot, verify: playbooks/site.yml")
    result = run_phase(settings, Phase(2, "site", "site.yml", len(inventory.hosts)), out)
    say(f"  coverage now: {coverage_line(build_report(settings, inventory))}")
    return result


def rerun_stragglers(settings: Settings, inventory: Inventory, number: int, out: TextIO) -> list[PhaseResult]:
    """Rerun site.yml on the stragglers with the operator's loop (``agentroll.rerun``), showing progress.

    It stops when none is left, when a round changed nothing, or when the rounds run out.
    """
    say = _printer(out)
    results: list[PhaseResult] = []
    limit_file = settings.log_dir / "stragglers.txt"

    def run_round(command: list[str]) -> int:
        hosts = limit_file.read_text(encoding="utf-8").split()
        phase = Phase(number + len(results), f"rerun-{len(results) + 1}", "site.yml", len(hosts))
        results.append(run_phase(settings, phase, out, command))
        say(f"    coverage {coverage_line(build_report(settings, inventory))}")
        return results[-1].exit_code

    # `agentroll stragglers` reports the file it wrote on stderr; the demo says it in its own words.
    with contextlib.redirect_stderr(io.StringIO()) as errors:
        try:
            outcome = rerun(
                settings.inventory,
                playbook=settings.root / "playbooks" / "site.yml",
                rounds=settings.rounds,
                state=settings.state,
                limit_file=limit_file,
                extra_args=("--forks", str(settings.forks)),
                stop_when_unchanged=True,
                runner=run_round,
                say=lambda text: say("  " + text.removeprefix("agentroll rerun: ")),
            )
        except RuntimeError as error:
            raise DemoError(f"{error}: {errors.getvalue().strip()}") from None
    if outcome.remaining:
        say(f"  left for a person to look at: {_listing(outcome.remaining)}")
    return results


def _listing(hosts: Sequence[str], shown: int = 8) -> str:
    """A few host names, and how many more."""
    more = f", … (+{len(hosts) - shown})" if len(hosts) > shown else ""
    return ", ".join(hosts[:shown]) + more


def print_outcome(settings: Settings, outcome: Outcome, out: TextIO) -> None:
    """Coverage after, per unit, the totals before and after, where the reports are, the wall time."""
    from agentroll.reports import render

    say = _printer(out)
    say("\n" + str(render(outcome.after, "text", settings.lang)).rstrip("\n"))
    before, after = outcome.before["totals"], outcome.after["totals"]
    gained = after["installed"] - before["installed"]
    say(f"\nCoverage before: {coverage_line(outcome.before)}")
    say(f"Coverage after:  {coverage_line(outcome.after)}  (+{gained} PCs with the agent)")
    say(f"\nReports ({len(outcome.reports)} files) in {_shown(settings.report_dir)}:")
    say("  " + ", ".join(path.name for path in outcome.reports))
    say(f"ansible-playbook logs in {_shown(settings.log_dir)}")
    say(f"View the report again: {view_command(settings)}")
    timings = ", ".join(f"{result.phase.name} {_duration(result.seconds)}" for result in outcome.phases)
    say(f"agentroll demo: done in {_duration(outcome.seconds)} (wall time; {timings})")


def view_command(settings: Settings) -> str:
    """The exact command that shows this demo's report afterwards."""
    agentroll = _shown(settings.root / ".venv" / "bin" / "agentroll")
    command = f"{agentroll} report -i {_shown(settings.inventory)}"
    if settings.state_from_env:
        return command
    return f"AGENTROLL_STATE={_shown(settings.state)} {command}"


def _printer(out: TextIO) -> Callable[[str], None]:
    """print() to ``out``, flushed (the progress lines share the stream)."""

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    return say


def _shown(path: Path) -> str:
    """A path relative to the current directory when it is inside it (shorter to read and to copy)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _duration(seconds: float) -> str:
    """``3 min 07 s`` or ``42 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


# --- command line -------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add ``agentroll demo`` to the main command."""
    parser = subparsers.add_parser(
        "demo",
        help="the Kon Plông district end to end: simulated fleet, real ansible-playbook, reports",
        description=(
            "Start the simulated fleet of inventory/demo, dry-run, deploy, bring the switched-off PCs "
            "back, rerun on the stragglers and write every report. State: $AGENTROLL_STATE, else "
            "state/demo.sqlite (started afresh). Reports: $AGENTROLL_REPORT_DIR, else reports/demo/."
        ),
    )
    parser.add_argument(
        "-i", "--inventory", type=Path, default=None, help="demo inventory (default: inventory/demo)"
    )
    parser.add_argument("--fleet", type=Path, default=None, help="fleet file (default: INVENTORY/fleet.yml)")
    parser.add_argument(
        "--forks",
        type=_positive,
        default=DEFAULT_FORKS,
        help=f"ansible-playbook forks (default {DEFAULT_FORKS})",
    )
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=MAX_ROUNDS,
        help=f"at most this many reruns on the stragglers (default {MAX_ROUNDS})",
    )
    parser.add_argument("--lang", choices=("en", "vi"), default="en", help="language of the printed report")
    parser.set_defaults(func=command_demo)


def _positive(text: str) -> int:
    """An integer of at least 1 (argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM handler: unwind through every ``finally``."""
    raise Terminated()


def command_demo(args: argparse.Namespace) -> int:
    """``agentroll demo``; exit status 0, 1 on a demo error, 130 on Ctrl-C, 143 on SIGTERM."""
    settings = settings_from_args(args)
    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_terminated),
        # Started in the background by a shell, Python inherits SIGINT ignored: Ctrl-C (or kill
        # -INT) must still stop the demo, the fleet and the playbook run in order.
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
    }
    try:
        outcome = run_demo(settings, sys.stdout)
        print_outcome(settings, outcome, sys.stdout)
        return 0
    except (DemoError, StoreError) as error:
        print(f"\nagentroll demo: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nagentroll demo: interrupted; the fleet is stopped, the state kept", file=sys.stderr)
        return 130
    except Terminated:
        print("\nagentroll demo: terminated; the fleet is stopped, the state kept", file=sys.stderr)
        return 143
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
