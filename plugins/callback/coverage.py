# Copyright: (c) 2026, agentroll maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback ``agentroll.toolkit.coverage``: record each PC's outcome as it arrives, report at the end.

Thin over the library: results become observations (``agentroll.observe``) appended to the state
store (``agentroll.store``) the moment they arrive, so that an interrupted run loses nothing; at
the end the report is built by ``agentroll.report.report_from_store`` (the same call as
``agentroll report``) for the whole inventory and written atomically with the stragglers list.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: coverage
type: aggregate
short_description: Record each PC's outcome in the agentroll state store and write the coverage report
version_added: 0.1.0
description:
  - Appends every host's outcome to the agentroll state store (SQLite or PostgreSQL) as it arrives,
    in one transaction per result, so that Ctrl-C or SIGTERM loses nothing already seen.
  - Probe results become facts, agent, name, reboot and contact observations; the plan becomes
    eligibility and license observations; install, service, rename and reboot results update the
    agent, name and reboot observations; an unreachable host is recorded with the cause (connection
    refused, timed out, credentials rejected); a failed step with its task and reason (an installer
    exit code included); a host whose PowerShell is too old to be managed as unmanageable.
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
      - The district inventory the report covers. Empty means the first inventory source of this run.
    type: path
    env:
      - name: AGENTROLL_INVENTORY
    ini:
      - section: callback_coverage
        key: inventory
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

#: What the hooks import (lazily, so that a missing package costs one warning, not one per result).
AGENTROLL_MODULES = (
    "agentroll.inventory",
    "agentroll.model",
    "agentroll.observe",
    "agentroll.report",
    "agentroll.store",
)

PROBE_ACTIONS = frozenset({"agentroll.toolkit.win_agentroll_probe", "win_agentroll_probe"})
PLAN_ACTIONS = frozenset({"agentroll.toolkit.plan", "plan"})
SERVICE_ACTIONS = frozenset({"ansible.windows.win_service", "win_service"})
HOSTNAME_ACTIONS = frozenset({"ansible.windows.win_hostname", "win_hostname"})
REBOOT_ACTIONS = frozenset({"ansible.windows.win_reboot", "win_reboot"})
SET_FACT_ACTIONS = frozenset({"ansible.builtin.set_fact", "set_fact"})
#: A failed task's step, named after the toolkit role it ran in (the reports translate these).
STEP_OF_ROLE = {"preflight": "preflight", "agent": "install", "hostname": "rename", "verify": "verify"}
#: The fact the agent role sets after running the installer (no secrets in it).
OUTCOME_FACT = "agentroll_agent_outcome"

_POWERSHELL_TOO_OLD = re.compile(
    r"requires (a minimum )?PowerShell|PowerShell v?\d[\d.]* (is )?required", re.I
)
_UNREACHABLE_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"credentials|unauthori[sz]ed|\b401\b|authenticat|logon failure|password", re.I),
        "credentials rejected",
    ),
    (re.compile(r"refused", re.I), "connection refused"),
    (re.compile(r"timed? ?out|timeout", re.I), "timed out"),
    (
        re.compile(
            r"reset by peer|remote ?disconnected|connection aborted|closed connection|broken pipe", re.I
        ),
        "connection dropped",
    ),
    (re.compile(r"name or service not known|nodename nor servname|no route to host", re.I), "host not found"),
)
_MAX_REASON = 300


def classify_unreachable(message: str) -> str:
    """The cause of an unreachable host in a few words; the first line of Ansible's message if unknown."""
    for pattern, cause in _UNREACHABLE_CAUSES:
        if pattern.search(message):
            return cause
    first = next((line.strip() for line in str(message).splitlines() if line.strip()), "no message")
    return first.removeprefix("Task failed: ")[:_MAX_REASON]


def failure_reason(result: Mapping[str, Any], censored: bool) -> str:
    """A one-line reason for a failed result; a no_log result yields no detail at all."""
    if censored:
        return "failed (details hidden: the task handles secrets)"
    message = str(result.get("msg") or result.get("reason") or "").strip()
    rc = result.get("rc")
    if isinstance(rc, int) and not isinstance(rc, bool) and rc != 0 and f"{rc}" not in message:
        message = f"{message} (exit code {rc})" if message else f"exit code {rc}"
    first = next((line.strip() for line in message.splitlines() if line.strip()), "failed")
    return first[:_MAX_REASON]


class CallbackModule(CallbackBase):
    """Record results into the agentroll store as they arrive; write the coverage report at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "agentroll.toolkit.coverage"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display: Any = None, options: Any = None) -> None:
        super().__init__(display=display, options=options)
        self._store: Any = None
        self._run_id: int | None = None
        self._disabled = False
        self._check_mode = False
        self._probed: set[str] = set()
        self._agent: dict[str, dict[str, Any]] = {}
        self._standard: dict[str, str] = {}
        self._inventory_sources: list[str] = []
        self._playbook = ""
        if (missing := _agentroll_import_error()) is not None:
            from ansible_collections.agentroll.toolkit.plugins.plugin_utils.python_package import (
                missing_package_message,
            )

            self._display.warning(
                f"{missing_package_message(self.CALLBACK_NAME, missing)}; nothing is recorded"
            )
            self._disabled = True

    # -- safety ---------------------------------------------------------------------------------

    def _safely(self, what: str, action: Callable[[], None]) -> None:
        """Run ``action``; any error becomes one warning and never fails the playbook run."""
        if self._disabled:
            return
        try:
            action()
        except Exception as error:  # the run must go on whatever happens here
            self._display.warning(f"agentroll coverage: {what}: {type(error).__name__}: {error}")

    # -- run bookkeeping ------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._playbook = os.path.basename(str(getattr(playbook, "_file_name", "") or "playbook"))
        self._safely("opening the state store", self._open)

    def _open(self) -> None:
        from agentroll.store import open_store

        cli = context.CLIARGS
        self._check_mode = bool(cli.get("check", False))
        self._store = open_store(self.get_option("state") or None)
        self._inventory_sources = [str(s) for s in (cli.get("inventory") or ()) if s]

    def _ensure_run(self) -> int | None:
        """The run's id; the run is recorded with its first result (--list-tasks records none)."""
        if self._run_id is None and self._store is not None:
            self._run_id = self._store.start_run(
                self._playbook,
                inventory=self._inventory_path(required=False),
                limit=context.CLIARGS.get("subset") or None,
                check_mode=self._check_mode,
            )
        return self._run_id

    def v2_playbook_on_play_start(self, play: Any) -> None:
        def remember_sources() -> None:
            manager = getattr(play.get_variable_manager(), "_inventory", None)
            sources = getattr(manager, "_sources", None)
            if sources:
                self._inventory_sources = [str(s) for s in sources]

        self._safely("reading the inventory sources", remember_sources)

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

    def _record(self, host: str, observations: Iterable[tuple[Any, Mapping[str, Any]]]) -> None:
        rows = list(observations)
        if rows and self._store is not None and (run_id := self._ensure_run()) is not None:
            self._store.record(run_id, host, rows)

    # -- results --------------------------------------------------------------------------------

    def v2_runner_on_ok(self, result: CallbackTaskResult) -> None:
        self._safely("recording a result", lambda: self._on_ok(result))

    def v2_runner_on_failed(self, result: CallbackTaskResult, ignore_errors: bool = False) -> None:
        if not ignore_errors:
            self._safely("recording a failure", lambda: self._on_failed(result))

    def v2_runner_on_unreachable(self, result: CallbackTaskResult) -> None:
        self._safely("recording an unreachable host", lambda: self._on_unreachable(result))

    def v2_runner_on_skipped(self, result: CallbackTaskResult) -> None:
        """A skipped step says nothing new about the PC: nothing to record."""

    def _on_ok(self, result: CallbackTaskResult) -> None:
        from agentroll.model import Aspect

        host = result.host.get_name()
        action = _action(result)
        data = result.result
        censored = _censored(result)
        if action in PROBE_ACTIONS and not censored:
            from agentroll.observe import agent_from_probe, observations_from_probe

            self._probed.add(host)
            self._agent[host] = agent_from_probe(data)
            self._record(host, observations_from_probe(data))
        elif action in PLAN_ACTIONS and not censored:
            self._record_plan(data)
        elif self._check_mode or result.task.check_mode or censored:
            return  # a dry run's "would change" is not a change; a no_log result is opaque
        elif action in SET_FACT_ACTIONS:
            outcome = (data.get("ansible_facts") or {}).get(OUTCOME_FACT)
            if isinstance(outcome, Mapping) and not outcome.get("check_mode"):
                agent = {**self._agent.get(host, {}), "installed": bool(outcome.get("installed"))}
                agent.setdefault("version", None)
                agent.setdefault("service_state", None)
                agent.setdefault("start_mode", None)
                self._agent[host] = agent
                rows: list[tuple[Any, Mapping[str, Any]]] = [(Aspect.AGENT, agent)]
                if outcome.get("reboot_required"):
                    reason = f"installer exit code {outcome.get('rc')}"
                    rows.append((Aspect.REBOOT, {"pending": True, "reason": reason}))
                self._record(host, rows)
        elif action in SERVICE_ACTIONS and data.get("exists", True):
            agent = {**self._agent.get(host, {"installed": True, "version": None})}
            agent["service_state"] = "running" if data.get("state") == "running" else "stopped"
            agent["start_mode"] = _start_mode(data.get("start_mode"))
            self._agent[host] = agent
            self._record(host, [(Aspect.AGENT, agent)])
        elif action in HOSTNAME_ACTIONS and data.get("changed"):
            pending = self._standard.get(host)
            rows = [(Aspect.NAME, {"computer_name": data.get("old_name"), "pending_name": pending})]
            if data.get("reboot_required"):
                rows.append((Aspect.REBOOT, {"pending": True, "reason": "computer rename"}))
            self._record(host, rows)
        elif action in REBOOT_ACTIONS and data.get("rebooted"):
            self._record(host, [(Aspect.REBOOT, {"pending": False, "reason": None})])

    def _record_plan(self, data: Mapping[str, Any]) -> None:
        """Eligibility and license of every host probed in this run (not of others: see below)."""
        from agentroll.model import Aspect

        # Recording for a host this run did not contact would make this run its latest, which
        # would hide a failure of its own latest run; the plan re-derives those from the store.
        for host, plan in (data.get("hosts") or {}).items():
            if plan.get("standard_name"):
                self._standard[host] = str(plan["standard_name"])
            if host not in self._probed:
                continue
            eligibility = {"eligible": bool(plan.get("eligible")), "reasons": list(plan.get("reasons") or [])}
            grant = {"granted": bool(plan.get("license_granted")), "reason": plan.get("license_reason")}
            self._record(host, [(Aspect.ELIGIBILITY, eligibility), (Aspect.LICENSE, grant)])

    def _on_failed(self, result: CallbackTaskResult) -> None:
        from agentroll.model import Aspect, ContactStatus

        host = result.host.get_name()
        data = result.result
        censored = _censored(result)
        message = "" if censored else str(data.get("msg") or "")
        if _action(result) in PROBE_ACTIONS and _POWERSHELL_TOO_OLD.search(message):
            contact = {"status": ContactStatus.UNMANAGEABLE.value, "reason": message.strip()[:_MAX_REASON]}
            self._record(host, [(Aspect.CONTACT, contact)])
            return
        if data.get("unreachable"):
            self._on_unreachable(result)
            return
        if result.task.run_once:
            return  # a play-level check (checksum, names): the output says it; no PC is at fault
        step = _step(result)
        self._record(host, [(Aspect.FAILURE, {"task": step, "reason": failure_reason(data, censored)})])

    def _on_unreachable(self, result: CallbackTaskResult) -> None:
        from agentroll.model import Aspect, ContactStatus

        data = result.result
        message = "" if _censored(result) else str(data.get("msg") or "")
        reason = classify_unreachable(message)
        contact = {"status": ContactStatus.UNREACHABLE.value, "reason": reason}
        self._record(result.host.get_name(), [(Aspect.CONTACT, contact)])

    # -- end of run -----------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._safely("finishing the run", lambda: self._finish(stats))
        self._safely("writing the coverage report", self._report)
        self._safely("closing the state store", self._close)

    def _finish(self, stats: Any) -> None:
        if self._store is None or self._run_id is None:
            return
        troubled = bool(getattr(stats, "failures", None) or getattr(stats, "dark", None))
        self._store.finish_run(self._run_id, "failed" if troubled else "ok")

    def _report(self) -> None:
        if self._store is None:
            return
        from agentroll.inventory import load_inventory
        from agentroll.report import report_from_store, to_json, write_atomic

        inventory = load_inventory(self._inventory_path())
        report = report_from_store(inventory, self._store)
        directory = Path(self.get_option("report_dir"))
        lang = self.get_option("report_lang") or "en"
        tz = self.get_option("report_timezone") or None
        write_atomic(directory / "coverage.json", to_json(report))
        render = _renderer()
        for fmt in self.get_option("report_formats") or ():
            if fmt == "json" or render is None:
                continue
            try:
                rendered = render(report, fmt, lang, tz=tz)
            except (ValueError, KeyError, NotImplementedError, ImportError) as error:
                self._display.warning(f"agentroll coverage: report format {fmt!r} not written: {error}")
                continue
            write_atomic(directory / f"coverage.{fmt}", rendered)
        stragglers = "".join(f"{name}\n" for name in report.get("stragglers") or ())
        write_atomic(directory / "stragglers.txt", stragglers)
        if self.get_option("show_table"):
            table = render(report, "text", lang, tz=tz) if render is not None else _fallback_table(report)
            self._display.display(str(table).rstrip("\n"))
            count = len(report.get("stragglers") or ())
            self._display.display(f"agentroll: reports in {directory}; {count} straggler(s)")

    def _close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _agentroll_import_error() -> ImportError | None:
    """Why the modules the hooks use cannot be imported, or None when they can."""
    try:
        for module in AGENTROLL_MODULES:
            importlib.import_module(module)
    except ImportError as error:
        return error
    return None


def _step(result: CallbackTaskResult) -> str:
    """The step a failed task belongs to, in the reports' words: its role's job, else the task's name."""
    role = getattr(result.task, "_role", None)
    role_name = role.get_name(include_role_fqcn=False) if role is not None else ""
    return STEP_OF_ROLE.get(role_name) or str(result.task.name or "").strip() or _action(result)


def _action(result: CallbackTaskResult) -> str:
    task = result.task
    return str(getattr(task, "resolved_action", None) or task.action or "")


def _censored(result: CallbackTaskResult) -> bool:
    """True for a no_log result: only its outcome may be used."""
    return bool(result.task.no_log or result.result.get("_ansible_no_log") or "censored" in result.result)


def _start_mode(value: Any) -> str | None:
    text = str(value or "").lower()
    if text.startswith("auto") or text == "delayed":
        return "auto"
    return text if text in ("manual", "disabled") else None


def _renderer() -> Callable[..., Any] | None:
    try:
        from agentroll.reports import render
    except ImportError:
        return None
    return render


def _fallback_table(report: Mapping[str, Any]) -> str:
    """Plain per-unit lines, used only if agentroll.reports is not installed."""
    rows = [(u["code"], u["installed"], u["licenses"], u["coverage_pct"]) for u in report.get("units") or ()]
    totals = report.get("totals") or {}
    rows.append(("TOTAL", totals.get("installed", 0), totals.get("licenses", 0), totals.get("coverage_pct")))
    lines = ["unit      installed/licenses  coverage"]
    lines.extend(f"{code:<9} {done:>4}/{licenses:<13} {pct:>5} %" for code, done, licenses, pct in rows)
    return "\n".join(lines)
