# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback ``agentroll.toolkit.coverage``: record each PC's outcome as it arrives, report at the end.

A forwarder: each task outcome goes, with the task's ``agentroll_step``, to a recorder
(``agentroll.recorder``): by default a writer process of its own, which has
``agentroll.observe.Observer`` decide what it means and appends the observations to the state store
(``agentroll.store``) the moment they arrive, so that an interrupted run loses nothing; the main
loop's part is one write to a pipe. At the end the report is built by
``agentroll.report.report_from_store`` (the same call as ``agentroll report``) for the whole
inventory and written atomically with the stragglers list.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import resource
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: coverage
type: aggregate
short_description: Record each PC's outcome in the agentroll state store and write the coverage report
version_added: 0.1.0
description:
  - Appends every host's outcome to the agentroll state store (SQLite or PostgreSQL) as it arrives, in one
    transaction per result, so that Ctrl-C or SIGTERM loses nothing already seen; a Ctrl-C or
    SIGTERM marks the run C(interrupted).
  - The store is written by a writer process of its own (O(writer)), so that Ansible's main loop only
    hands each result over; a result handed over is stored even if ansible-playbook is killed.
  - Only the toolkit's own tasks, marked with the task variable C(agentroll_step), say anything
    about the agent; C(agentroll.observe) turns their results into observations. Another task's
    failure is recorded with its task name; an unreachable host, whatever the task, with its cause.
  - The start of each install is recorded too, so a PC whose install was interrupted before its
    result arrived is reported as such, never as silently not installed.
  - At the end of the run it builds the coverage report for the whole inventory (district-wide even
    on a C(--limit) run), writes it as JSON, Markdown, CSV and HTML with C(stragglers.txt), and
    prints the per-unit coverage table.
  - Secrets never reach the store or the reports; for C(no_log) results nothing but the outcome is
    used (not even the warnings, deprecations or exception Ansible passes on uncensored).
  - Any error inside the callback becomes a warning; it never fails the run.
  - Works beside any stdout callback and under ansible-runner / AWX (enable it by this name).
requirements:
  - the agentroll Python package (installed by scripts/bootstrap)
options:
  state:
    description:
      - The state store, a SQLite file (a path or C(sqlite:///PATH)) or a C(postgresql://) URL.
        Empty means C($AGENTROLL_STATE) or the default SQLite file.
    type: str
    env:
      - name: AGENTROLL_STATE
    ini:
      - section: callback_coverage
        key: state
  report_dir:
    description: Directory the report files and C(stragglers.txt) are written to.
    type: path
    default: ./reports
    env:
      - name: AGENTROLL_REPORT_DIR
    ini:
      - section: callback_coverage
        key: report_dir
  report_formats:
    description:
      - Report formats to write; C(json) always, C(md), C(csv), C(html) and others as
        C(agentroll.reports) renders them.
    type: list
    elements: str
    default: [json, md, csv, html]
    env:
      - name: AGENTROLL_REPORT_FORMATS
    ini:
      - section: callback_coverage
        key: report_formats
  report_lang:
    description: Language of the rendered reports and of the printed table (C(en) or C(vi)).
    type: str
    default: en
    env:
      - name: AGENTROLL_LANG
    ini:
      - section: callback_coverage
        key: report_lang
  report_timezone:
    description:
      - IANA time zone the rendered reports show times in (the JSON keeps UTC). Empty means the
        inventory's C(agentroll_timezone), else C(Asia/Ho_Chi_Minh).
    type: str
    env:
      - name: AGENTROLL_TIMEZONE
    ini:
      - section: callback_coverage
        key: report_timezone
  inventory:
    description:
      - The district inventory the report covers, read again at the end of the run. AWX job slices set
        it, as each slice's own inventory holds only its share of the PCs.
      - Empty means the first inventory source of this run that is a file or directory. When it is
        the run's only source, the report is on the inventory as Ansible parsed it before the first
        task (C(add_host) and C(group_by) change nothing in it), without parsing it again.
    type: path
    env:
      - name: AGENTROLL_INVENTORY
    ini:
      - section: callback_coverage
        key: inventory
  cost_file:
    description:
      - Where to write, at the end of the run, the CPU this callback spent, as JSON for C(make bench).
        It counts its event handlers per kind of event (start, result) with their count and page
        faults, and of it Ansible's building of each result for this callback; its fixed work of
        loading, opening the store and the report; the writer process's CPU; and ansible-playbook's own
        process until its report (CPU and peak memory, its workers left out). Empty means not written,
        and the events are not timed.
    type: path
    env:
      - name: AGENTROLL_CALLBACK_COST
    ini:
      - section: callback_coverage
        key: cost_file
  writer:
    description:
      - Record through a writer process of its own (C(python -m agentroll.recorder)), which survives
        ansible-playbook and stores every result it was handed. False records inside ansible-playbook,
        where each result costs its main loop several times more (its memory is shared with the
        workers it forks, and copied page by page when written).
    type: bool
    default: true
    env:
      - name: AGENTROLL_CALLBACK_WRITER
    ini:
      - section: callback_coverage
        key: writer
  show_table:
    description: Print the per-unit coverage table at the end of the run.
    type: bool
    default: true
    env:
      - name: AGENTROLL_SHOW_TABLE
    ini:
      - section: callback_coverage
        key: show_table
"""

if TYPE_CHECKING:
    from ansible.executor.task_result import CallbackTaskResult
    from ansible.inventory.host import Host
    from ansible.playbook.task import Task

    from agentroll.model import Inventory
    from agentroll.recorder import Recorder, RunInfo

try:
    from agentroll.observe import Status, TaskOutcome
    from agentroll.recorder import WriterGone
except ImportError:  # said once, when the callback loads (_agentroll_import_error); it records nothing
    STATUSES: dict[str, Status] = {}
else:
    #: The hooks' statuses by name: a dict look-up, where ``Status(name)`` runs Enum's Python code.
    STATUSES = {status.value: status for status in Status}

#: What the hooks import (lazily, so that a missing package costs one warning, not one per result).
AGENTROLL_MODULES = (
    "agentroll.inventory",
    "agentroll.observe",
    "agentroll.recorder",
    "agentroll.report",
    "agentroll.reports",
    "agentroll.store",
)
#: The callback events that carry a task's result (the ones a signal must not cut off).
RESULT_EVENTS = frozenset({"v2_runner_on_ok", "v2_runner_on_failed", "v2_runner_on_unreachable"})
SignalHandler = Callable[[int, FrameType | None], Any] | int | None
#: Linux counts page faults per thread; macOS does not.
RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)


class CallbackModule(CallbackBase):
    """Forward task outcomes to agentroll.observe, store what it returns; write the report at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "agentroll.toolkit.coverage"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display: Any = None, options: Any = None) -> None:
        super().__init__(display=display, options=options)
        self._store: Any = None
        self._recorder: Recorder | None = None
        self._inventory_sources: list[str] = []
        #: The inventory to report on, kept at the first play's start (``_keep_inventory``).
        self._inventory: Inventory | None = None
        self._inventory_error: Exception | None = None
        self._play_started = False
        self._playbook = ""
        self._recording = False
        #: The host and task of the last result this callback took (one task sends one per host).
        self._seen_host: Any = None
        self._seen_task: Any = None
        self._tasks: dict[str, TaskFacts] = {}
        self._ctrl_c_seen = False
        self._deferred_signal: tuple[SignalHandler, int, FrameType | None] | None = None
        self._disabled = False
        self._cost = CpuCost()
        with self._cost.fixed():
            missing = _agentroll_import_error()
        if missing is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                missing_package_message,
            )

            self._display.warning(
                f"{missing_package_message(self.CALLBACK_NAME, missing)}; nothing is recorded"
            )
            self._disabled = True

    # -- safety ---------------------------------------------------------------------------------

    def _safely(self, what: str, action: Callable[..., None], *args: Any) -> None:
        """Run ``action(*args)``; any error becomes one warning and never fails the playbook run."""
        if self._disabled:
            return
        try:
            action(*args)
        except Exception as error:  # the run must go on whatever happens here
            self._display.warning(f"agentroll coverage: {what}: {type(error).__name__}: {error}")

    # -- run bookkeeping ------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._playbook = os.path.basename(str(getattr(playbook, "_file_name", "") or "playbook"))
        self._cost.per_event = bool(self.get_option("cost_file"))
        with self._cost.fixed():
            self._safely("opening the state store", self._open)
            self._safely("watching for Ctrl-C and SIGTERM", self._watch_signals)

    def _open(self) -> None:
        from agentroll.recorder import InProcessRecorder, WriterRecorder
        from agentroll.store import open_store

        location = self.get_option("state") or None
        self._store = open_store(location)
        self._inventory_sources = [str(s) for s in (context.CLIARGS.get("inventory") or ()) if s]
        if self.get_option("writer"):
            try:
                self._recorder = WriterRecorder.start(location, self._run_info)
                atexit.register(self._close_recorder)
                return
            except (OSError, WriterGone) as error:
                self._display.warning(
                    f"agentroll coverage: the store writer did not start ({error}); recording in this process"
                )
        self._recorder = InProcessRecorder(self._store, self._run_info)

    def _run_info(self) -> RunInfo:
        """The run, as recorded with its first result (--list-tasks records none)."""
        from agentroll.recorder import RunInfo

        return RunInfo(
            playbook=self._playbook,
            inventory=self._inventory_path(required=False),
            limit=context.CLIARGS.get("subset") or None,
            check_mode=bool(context.CLIARGS.get("check", False)),
            pid=os.getpid(),
        )

    def _take_over(self, error: Exception) -> None:
        """The writer is gone: record in this process from now on (a new run, with a warning),
        beginning with what it was sent if it never opened the store."""
        from agentroll.recorder import InProcessRecorder

        self._display.warning(
            f"agentroll coverage: the store writer stopped ({error}); recording in this process from now on"
        )
        writer, self._recorder = self._recorder, InProcessRecorder(self._store, self._run_info)
        for method, argument in getattr(writer, "unconfirmed", list)():
            getattr(self._recorder, method)(argument)

    def _hand_over(self, method: str, *args: Any) -> None:
        """Call the recorder's ``method``; if its writer is gone, this process's recorder's instead."""
        if self._recorder is None or self._store is None:
            return
        try:
            getattr(self._recorder, method)(*args)
        except WriterGone as error:
            self._take_over(error)
            getattr(self._recorder, method)(*args)

    def v2_playbook_on_play_start(self, play: Any) -> None:
        def remember_sources() -> None:
            variables = play.get_variable_manager()
            manager = getattr(variables, "_inventory", None)
            sources = getattr(manager, "_sources", None)
            if sources:
                self._inventory_sources = [str(s) for s in sources]
            if not self._play_started:
                self._keep_inventory(manager, getattr(variables, "_loader", None))

        with self._cost.fixed():
            self._safely("reading the inventory sources", remember_sources)
        self._play_started = True

    def _keep_inventory(self, manager: Any, loader: Any) -> None:
        """The inventory to report on, as Ansible parsed it, before any task of the run.

        Parsing the inventory again at the end costs more than the rest of the report; taken before
        the first task, it is what the files said (``add_host`` and ``group_by`` come later). Only
        when the report is on the inventory the play runs on (no ``inventory`` option, as AWX job
        slices set) and that is one file or directory: with several sources the report, like the
        plan action, reads the first that exists.
        """
        from agentroll.inventory import InventoryError, inventory_from_ansible

        sources = self._inventory_sources
        if self.get_option("inventory") or manager is None or loader is None or self._store is None:
            return
        if len(sources) != 1 or not os.path.exists(sources[0]):
            return
        try:
            self._inventory = inventory_from_ansible(manager, loader, sources)
        except InventoryError as error:
            self._inventory_error = error

    def _inventory_path(self, required: bool = True) -> str | None:
        explicit = self.get_option("inventory")
        if explicit:
            return str(explicit)
        for source in self._inventory_sources:
            if os.path.exists(source):
                return os.path.abspath(source)
        if required:
            raise RuntimeError("no inventory file or directory to report on (set AGENTROLL_INVENTORY)")
        return None

    # -- results: forwarded to agentroll.observe ------------------------------------------------

    def v2_runner_on_start(self, host: Host, task: Task) -> None:
        mark = self._cost.start()
        try:
            # Most steps' starts say nothing: they cost one look-up of the task's facts.
            facts = self._task_facts(task) if self._recorder is not None else None
            if facts is not None and facts.recorded_at_start:
                outcome = TaskOutcome(
                    host.get_name(), facts.step, STATUSES["started"], {}, facts.name, facts.no_log,
                    facts.check_mode, facts.run_once,
                )  # fmt: skip
                self._recording = True
                self._hand_over_outcome(outcome)
        finally:
            self._recording = False
            self._cost.stop("start", mark)
        if self._deferred_signal is not None or self._ctrl_c_seen:
            self._act_on_deferred_signals()

    def v2_runner_on_ok(self, result: CallbackTaskResult) -> None:
        self._on_result("ok", result)

    def v2_runner_on_failed(self, result: CallbackTaskResult, ignore_errors: bool = False) -> None:
        if not ignore_errors:
            self._on_result("failed", result)

    def v2_runner_on_unreachable(self, result: CallbackTaskResult) -> None:
        self._on_result("unreachable", result)

    def v2_runner_on_skipped(self, result: CallbackTaskResult) -> None:
        self._on_result("skipped", result)

    def _on_result(self, status: str, result: CallbackTaskResult) -> None:
        """Hand a result's outcome to the recorder; a signal waits until it is handed over.

        The hot path, in few functions on purpose: after each of Ansible's forks, every Python
        function the main loop runs costs page copies (its frame, its bytecode's counters). Split
        into a dozen small ones, its own part cost about 220 µs a result, against 100 to 130 now
        (verify.yml over 200 PCs).
        """
        mark = self._cost.start()
        try:
            if self._recorder is None:
                return
            self._recording, self._seen_host, self._seen_task = True, result.host, result.task
            facts = self._task_facts(result.task)
            data = self._cost.ansible_copy(result)
            outcome = TaskOutcome(
                result.host.get_name(), facts.step, STATUSES[status], data, facts.name,
                # A no_log result: only its outcome may be used.
                bool(facts.no_log or data.get("_ansible_no_log") or "censored" in data),
                facts.check_mode, facts.run_once,
            )  # fmt: skip
            self._hand_over_outcome(outcome)
        finally:
            self._recording = False
            self._cost.stop("result", mark)
        if self._deferred_signal is not None or self._ctrl_c_seen:
            self._act_on_deferred_signals()

    def _hand_over_outcome(self, outcome: TaskOutcome) -> None:
        """``_safely(_hand_over("outcome"))`` in one function: see ``_on_result``."""
        if self._disabled or self._recorder is None:
            return
        try:
            try:
                self._recorder.outcome(outcome)
            except WriterGone as error:
                self._take_over(error)
                self._recorder.outcome(outcome)
        except Exception as error:  # the run must go on whatever happens here
            what = "a step's start" if outcome.status == "started" else f"a result ({outcome.status})"
            self._display.warning(f"agentroll coverage: recording {what}: {type(error).__name__}: {error}")

    def _act_on_deferred_signals(self) -> None:
        """Deliver a signal that waited for the outcome; raise a Ctrl-C Ansible swallowed."""
        self._deliver_deferred_signal()
        if self._ctrl_c_seen:
            # ansible-core swallows a KeyboardInterrupt raised while it forks a worker (the run
            # would hang on results that never come): raise it again here, where it propagates.
            raise KeyboardInterrupt

    def _task_facts(self, task: Task) -> TaskFacts:
        """The task's facts, read once per task.

        Each of these attributes is looked up through the task's parents (block, role, play) on
        every access; a task sends one start and one result per PC, so they are remembered.
        """
        facts = self._tasks.get(task._uuid)
        if facts is None:
            from agentroll.observe import STEP_VARIABLE, recorded_at_start

            raw_step = (task.vars or {}).get(STEP_VARIABLE)
            step = str(raw_step) if raw_step else None
            facts = TaskFacts(
                step=step,
                name=str(task.name or task.action or ""),
                no_log=bool(task.no_log),
                check_mode=bool(task.check_mode),
                run_once=bool(task.run_once),
                recorded_at_start=recorded_at_start(step, bool(task.check_mode)),
            )
            self._tasks[task._uuid] = facts
        return facts

    # -- Ctrl-C and SIGTERM ---------------------------------------------------------------------

    def _watch_signals(self) -> None:
        """Chain a handler before Ansible's own: finish the result in hand, mark the run, go on."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            signal.signal(signum, functools.partial(self._on_signal, previous))

    def _on_signal(self, previous: SignalHandler, signum: int, frame: FrameType | None) -> None:
        # A result being stored, or already printed by the stdout callback, is stored first.
        if self._store is not None and (self._recording or self._unrecorded_result_in(frame)):
            self._deferred_signal = (previous, signum, frame)
            return
        self._interrupt(previous, signum, frame)

    def _unrecorded_result_in(self, frame: FrameType | None) -> bool:
        """Whether the signal cut into Ansible's dispatch of a result this callback has not seen yet.

        Ansible hands each result to the stdout callback first: a signal landing between its
        printing and this callback's turn must wait, or a printed result would never be stored.
        """
        while frame is not None:
            if frame.f_code.co_name == "send_callback" and "method_name" in frame.f_locals:
                event, args = frame.f_locals["method_name"], frame.f_locals.get("args") or ()
                result = args[0] if args else None
                task = getattr(result, "task", None)
                seen = task is self._seen_task and getattr(result, "host", None) is self._seen_host
                return event in RESULT_EVENTS and task is not None and not seen
            frame = frame.f_back
        return False

    def _deliver_deferred_signal(self) -> None:
        if self._deferred_signal is not None:
            previous, signum, frame = self._deferred_signal
            self._deferred_signal = None
            self._interrupt(previous, signum, frame)

    def _interrupt(self, previous: SignalHandler, signum: int, frame: FrameType | None) -> None:
        """Mark the run interrupted, then let the handler that was there before act on the signal."""

        def mark() -> None:
            # Stored before the signal acts: the operator's next command reads a complete store.
            self._hand_over("finish", "interrupted")
            self._hand_over("sync")

        self._safely("marking the run interrupted", mark)
        if callable(previous):
            self._ctrl_c_seen = signum == signal.SIGINT
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    # -- end of run -----------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats: Any) -> None:
        with self._cost.fixed():
            self._safely("finishing the run", lambda: self._finish(stats))
            self._safely("storing the last results", self._close_recorder)
            self._safely("writing the coverage report", self._report)
            self._safely("closing the state store", self._close)
        self._safely("writing the callback's CPU cost", self._write_cost)

    def _finish(self, stats: Any) -> None:
        troubled = bool(getattr(stats, "failures", None) or getattr(stats, "dark", None))
        self._hand_over("finish", "failed" if troubled else "ok")

    def _close_recorder(self) -> None:
        """Wait for the recorder to store what it was handed (end of run, or the interpreter's exit)."""
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            try:
                self._cost.writer_seconds += recorder.close()
            except WriterGone as error:
                if not getattr(recorder, "unconfirmed", list)():
                    self._display.warning(f"agentroll coverage: {error}")
                    return
                self._recorder = recorder
                self._take_over(error)  # records what the writer was sent
                self._recorder = None

    def _report(self) -> None:
        if self._store is None:
            return
        from agentroll.inventory import load_inventory
        from agentroll.report import report_from_store, to_json, write_atomic
        from agentroll.reports import render

        if self._inventory_error is not None:
            raise self._inventory_error
        inventory = self._inventory or load_inventory(self._inventory_path())
        report = report_from_store(inventory, self._store)
        directory = Path(self.get_option("report_dir"))
        lang = self.get_option("report_lang") or "en"
        tz = self.get_option("report_timezone") or None
        write_atomic(directory / "coverage.json", to_json(report))
        for fmt in self.get_option("report_formats") or ():
            if fmt == "json":
                continue
            try:
                rendered = render(report, fmt, lang, tz=tz)
            # OSError: the XLSX report passes its sheets through temporary files.
            except (ValueError, KeyError, NotImplementedError, ImportError, OSError) as error:
                self._display.warning(f"agentroll coverage: report format {fmt!r} not written: {error}")
                continue
            write_atomic(directory / f"coverage.{fmt}", rendered)
        stragglers = "".join(f"{name}\n" for name in report.get("stragglers") or ())
        write_atomic(directory / "stragglers.txt", stragglers)
        if self.get_option("show_table"):
            self._display.display(str(render(report, "text", lang, tz=tz)).rstrip("\n"))
            count = len(report.get("stragglers") or ())
            self._display.display(f"agentroll: reports in {directory}; {count} straggler(s)")

    def _close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _write_cost(self) -> None:
        path = self.get_option("cost_file")
        if path:
            figures = {**self._cost.as_dict(), "main_process": _main_process_usage()}
            Path(path).write_text(json.dumps(figures), encoding="utf-8")


class CpuCost:
    """The CPU this callback spends, told apart: per event (whole handlers), and fixed (once per run).

    Counted with the calling thread's CPU clock: Ansible calls the hooks from its main thread and
    from its results thread, and the other threads' work (the stdout callback, Ansible's own) is not
    this callback's. Events are timed only when the cost is written (``cost_file``): the clocks are
    system calls. Their page faults are counted too: after each fork of a worker, the first write
    to any page of the controller's memory copies it, which makes an event cost in a run several
    times what the same code costs in a process that does not fork.
    """

    def __init__(self) -> None:
        #: Whether events are timed (the fixed part always is: it is a few blocks per run).
        self.per_event = False
        #: Per kind of event (``start``, ``result``): the count, the seconds and the page faults.
        self.events: dict[str, EventCost] = {}
        #: Of the result events' seconds: Ansible building the result's dict for this callback.
        self.ansible_copy_seconds = 0.0
        self.fixed_seconds = 0.0
        #: The writer process's CPU (user + system), read when it has exited.
        self.writer_seconds = 0.0

    def start(self) -> tuple[float, int] | None:
        """Where an event's handler starts (None: events are not timed)."""
        if not self.per_event:
            return None
        faults = _thread_page_faults()  # read before the clock starts: it is a system call
        return time.thread_time(), faults

    def stop(self, kind: str, mark: tuple[float, int] | None) -> None:
        """Count the handler started at ``mark`` as one event of ``kind``."""
        if mark is None:
            return
        seconds, faults = time.thread_time() - mark[0], _thread_page_faults() - mark[1]
        totals = self.events.setdefault(kind, EventCost())
        totals.count += 1
        totals.seconds += seconds
        totals.page_faults += faults

    def ansible_copy(self, result: CallbackTaskResult) -> Mapping[str, Any]:
        """``result.result``: Ansible builds it for each callback on first access, timed apart."""
        if not self.per_event:
            return result.result
        started = time.thread_time()
        try:
            return result.result
        finally:
            self.ansible_copy_seconds += time.thread_time() - started

    @contextmanager
    def fixed(self) -> Iterator[None]:
        """Count the block as once-per-run work."""
        started = time.thread_time()
        try:
            yield
        finally:
            self.fixed_seconds += time.thread_time() - started

    def as_dict(self) -> dict[str, Any]:
        """The figures as written to ``cost_file``."""
        return {
            "events": {kind: totals.as_dict() for kind, totals in self.events.items()},
            "ansible_copy_seconds": self.ansible_copy_seconds,
            "fixed_seconds": self.fixed_seconds,
            "writer_seconds": self.writer_seconds,
        }


class EventCost:
    """One kind of event's handlers: how many, their CPU seconds and page faults.

    Not a dataclass: Ansible loads this file under a module name ``dataclasses`` cannot look up.
    """

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.page_faults = 0

    def as_dict(self) -> dict[str, float | int]:
        return {"count": self.count, "seconds": self.seconds, "page_faults": self.page_faults}


class TaskFacts(NamedTuple):
    """What the callback needs of a task, read once per task."""

    step: str | None
    name: str
    no_log: bool
    check_mode: bool
    run_once: bool
    #: Whether its start is an observation (``agentroll.observe.recorded_at_start``).
    recorded_at_start: bool


def _main_process_usage() -> dict[str, float | int]:
    """ansible-playbook's own process so far, its workers left out: CPU seconds and peak memory.

    What ``make bench`` sets against the whole run's CPU to tell where the cost per PC grows: each
    worker is forked from this process, and a fork's cost grows with its size.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"user_seconds": usage.ru_utime, "system_seconds": usage.ru_stime, "peak_rss_kb": usage.ru_maxrss}


def _thread_page_faults() -> int:
    """The calling thread's minor page faults so far (0 where the system does not count them per thread)."""
    return resource.getrusage(RUSAGE_THREAD).ru_minflt if RUSAGE_THREAD is not None else 0


def _agentroll_import_error() -> ImportError | None:
    """Why the modules the hooks use cannot be imported, or None when they can."""
    try:
        for module in AGENTROLL_MODULES:
            importlib.import_module(module)
    except ImportError as error:
        return error
    return None
