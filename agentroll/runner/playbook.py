"""Run one ``ansible-playbook`` through ansible-runner's Python interface and follow its events.

Each run gets a private data directory of its own (mode 0700, removed afterwards: the output worth
keeping goes to the log the caller names), runs with the checkout's ``ansible.cfg`` when there is one, and
has the coverage callback enabled beside ansible-runner's own display callback, so every result is
recorded in the state store named by ``AGENTROLL_STATE`` in ``env``. The caller's environment is
passed on, plus ``env``; this process's ``os.environ`` is never changed.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from agentroll.runner.progress import Progress, StepCount

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COVERAGE_CALLBACK = "agentroll.toolkit.coverage"
#: Fills caches before Ansible forks its workers; in every run, with or without the coverage callback.
WARM_WORKERS_CALLBACK = "agentroll.toolkit.warm_workers"
#: ansible-playbook's exit codes that only say some hosts failed (2) or were unreachable (4).
HOST_PROBLEM_CODES = frozenset({2, 4})
#: After Ctrl-C or SIGTERM: SIGINT to ansible-playbook (its own Ctrl-C handling), then SIGTERM,
#: then ansible-runner's SIGKILL of the process group, with these grace periods (seconds).
STOP_GRACE = ((signal.SIGINT, 10.0), (signal.SIGTERM, 5.0))
#: How often ansible-runner looks at the cancel flag, and the caller's progress is refreshed.
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class PlaybookRun:
    """What to run: a playbook of this checkout (a path) or of an installed collection (its FQCN)."""

    playbook: str | Path
    inventory: Path
    limit: str | None = None
    extra_vars: Mapping[str, Any] = field(default_factory=dict)
    #: Added to this process's environment for the run (e.g. AGENTROLL_STATE, AGENTROLL_REPORT_DIR).
    env: Mapping[str, str] = field(default_factory=dict)
    forks: int | None = None
    #: Further ansible-playbook arguments (e.g. ``--check``, ``-e @vars.yml``).
    args: Sequence[str] = ()
    #: How many hosts the run targets, when known: progress counts against it from the start.
    hosts: int | None = None
    #: False only to measure a run without the coverage callback (``make bench``).
    coverage_callback: bool = True


@dataclass(frozen=True)
class RunResult:
    """How a run ended and where its output went."""

    #: ansible-runner's status: ``successful``, ``failed``, ``canceled`` or ``timeout``.
    status: str
    #: ansible-playbook's exit code (0 all ok, 2 some host failed, 4 some host unreachable, ...).
    rc: int
    #: The play recap per counter (``ok``, ``changed``, ``failures``, ``dark``, ...) and host.
    stats: Mapping[str, Mapping[str, int]]
    #: The step counts at the end (see ``agentroll.runner.progress``).
    steps: tuple[StepCount, ...]
    #: The full ansible-playbook output, when the caller asked for a log.
    log: Path | None
    seconds: float

    @property
    def completed(self) -> bool:
        """The playbook ran to its end (some hosts may have failed or been unreachable)."""
        return self.rc == 0 or (self.rc in HOST_PROBLEM_CODES and bool(self.stats))


@dataclass(frozen=True)
class Snapshot:
    """The progress of a run in flight, handed to the caller about once a second."""

    current: StepCount | None
    seconds: float


def run_playbook(
    run: PlaybookRun,
    *,
    log: Path | None = None,
    echo: TextIO | None = None,
    on_progress: Callable[[Snapshot], None] | None = None,
    on_event: Callable[[Mapping[str, Any]], None] | None = None,
) -> RunResult:
    """Run ``run`` to its end and return how it ended.

    ansible-playbook's output goes to ``log`` (written as it comes) and to ``echo``, if given;
    ``on_progress`` gets a ``Snapshot`` about once a second, ``on_event`` every ansible-runner event.
    Ctrl-C or SIGTERM while it runs stops ansible-playbook the way Ctrl-C at its terminal would
    (then harder), waits for it, and re-raises.
    """
    # Imported when a run starts: the commands that only read (agentroll report, ...) never need it.
    import ansible_runner

    progress = Progress(run.hosts)
    cancel = threading.Event()
    started = time.monotonic()
    private = Path(tempfile.mkdtemp(prefix="agentroll-run-"))
    try:
        with _output(log) as log_file:
            streams = [stream for stream in (log_file, echo) if stream is not None]
            events = _EventSink(progress, streams, on_event)
            thread, runner = ansible_runner.run_async(**_runner_arguments(run, private, events, cancel))
            try:
                while thread.is_alive():
                    thread.join(POLL_SECONDS)
                    if on_progress is not None:
                        on_progress(Snapshot(progress.current(), time.monotonic() - started))
            except BaseException:
                _stop(thread, progress, cancel)
                raise
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return RunResult(
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else -1),
        stats=progress.stats,
        steps=tuple(progress.counts()),
        log=log,
        seconds=time.monotonic() - started,
    )


def _runner_arguments(
    run: PlaybookRun, private: Path, events: _EventSink, cancel: threading.Event
) -> dict[str, Any]:
    """The keyword arguments of ``ansible_runner.run_async`` for ``run``."""
    config = PROJECT_ROOT / "ansible.cfg"
    return {
        "private_data_dir": str(private),
        # The checkout is the collection and holds ansible.cfg; elsewhere the caller's directory.
        "project_dir": str(PROJECT_ROOT if config.is_file() else Path.cwd()),
        "playbook": resolve_playbook(run.playbook),
        "inventory": str(run.inventory.resolve()),
        "limit": run.limit,
        "extravars": dict(run.extra_vars),
        "forks": run.forks,
        "cmdline": shlex.join(run.args) if run.args else None,
        "envvars": run_environment(run, config if config.is_file() else None),
        "quiet": True,
        # Ansible's own (memory) fact cache, not runner's JSON files in the private directory.
        "fact_cache_type": "memory",
        "settings": {"suppress_output_file": True, "pexpect_timeout": POLL_SECONDS},
        "event_handler": events,
        # Given, so that ansible-runner leaves this process's signal handlers alone.
        "cancel_callback": cancel.is_set,
    }


def resolve_playbook(playbook: str | Path) -> str:
    """A playbook file as an absolute path (relative: to this directory, else the checkout); an FQCN as is."""
    for candidate in (Path(playbook), PROJECT_ROOT / playbook):
        if candidate.is_file():
            return str(candidate.resolve())
    return str(playbook)


def run_environment(run: PlaybookRun, config: Path | None) -> dict[str, str]:
    """What a run adds to this process's environment."""
    ours = [COVERAGE_CALLBACK, WARM_WORKERS_CALLBACK] if run.coverage_callback else [WARM_WORKERS_CALLBACK]
    callbacks = [
        *(
            name
            for name in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",")
            if name.strip() and name.strip() not in (COVERAGE_CALLBACK, WARM_WORKERS_CALLBACK)
        ),
        *ours,
    ]
    env = {
        # The ansible-playbook of the Python that runs agentroll (its virtualenv's, in a checkout).
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CALLBACKS_ENABLED": ",".join(callbacks),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        # The simulated fleet's NTLM acceptor sets it in this process now and then: not for clients.
        "NTLM_USER_FILE": "",
        "PYTHONUNBUFFERED": "1",
    }
    if config is not None:
        env["ANSIBLE_CONFIG"] = str(config)
    env.update(run.env)
    return env


class _EventSink:
    """ansible-runner's event handler: progress, and the output text to the streams."""

    def __init__(
        self,
        progress: Progress,
        streams: Sequence[TextIO],
        on_event: Callable[[Mapping[str, Any]], None] | None,
    ) -> None:
        self.progress = progress
        self.streams = streams
        self.on_event = on_event

    def __call__(self, event: Mapping[str, Any]) -> bool:
        self.progress.feed(event)
        if self.on_event is not None:
            self.on_event(event)
        text = str(event.get("stdout") or "").replace("\r\n", "\n")
        if text:
            for stream in self.streams:
                stream.write(text + "\n")
                stream.flush()
        # False: runner keeps no copy of the event on disk (the private directory goes anyway).
        return False


@contextlib.contextmanager
def _output(log: Path | None) -> Any:
    """The log file, opened for writing (its folder created), or None."""
    if log is None:
        yield None
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        yield handle


def _stop(thread: threading.Thread, progress: Progress, cancel: threading.Event) -> None:
    """Stop ansible-playbook: SIGINT to its process group like Ctrl-C, then SIGTERM, then SIGKILL."""
    # ansible-runner starts ansible-playbook as the leader of a session of its own (a pty), so its
    # process group id is its pid, which every event carries.
    try:
        for signum, grace in STOP_GRACE if progress.pid is not None else ():
            if not thread.is_alive():
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(progress.pid, signum)
            thread.join(grace)
    except BaseException:  # a second Ctrl-C or SIGTERM: no more grace
        pass
    cancel.set()  # ansible-runner then kills the process group and returns
    thread.join()
