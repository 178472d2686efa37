"""Where the coverage callback's task outcomes become stored observations: here, or in a writer.

The callback runs inside ``ansible-playbook``'s main loop, which forks a worker for every PC and
task. After each fork, the first write to any page of the controller's memory copies that page:
observing a result and writing it to the store there costs several times what the same code costs
in a process that does not fork (page faults, not the code's own work). So, by default, the
callback hands each outcome to a **writer**: a process of its own (``python -m agentroll.recorder``,
started once per run, which never forks), that observes and records it. The callback's part is one
JSON frame written to a pipe.

Nothing received is lost. A frame written to the pipe is in the kernel: if ``ansible-playbook`` is
killed (even SIGKILL of its whole process group: the writer has a session of its own), the writer
still reads every frame, records it, and on the end of its input marks the run interrupted. Ctrl-C
and SIGTERM wait, bounded, until the writer has recorded everything sent (``sync``); the end of a
run closes the writer and waits for it before the report is built. If the writer cannot start or
dies, the callback records in its own process from then on (``InProcessRecorder``), with a warning.
Until the writer says it has opened the store, the callback also keeps what it sent: a writer that
cannot open it (a store that failed after the callback's own open) exits without reading the pipe,
and the callback records all of it itself (``WriterRecorder.unconfirmed``).

Frames: a 4-byte big-endian length, then JSON ``[kind, payload]`` (an Ansible-tagged string becomes
plain text; measured in a run, JSON costs the main loop less than pickle or ``marshal``). Kinds: ``open``
(the store's location, never on the command line, where ``ps`` would show a PostgreSQL password),
``run`` (before the first outcome: the run is started with its first observation), ``outcome``,
``finish``, ``sync`` and ``close``. The writer answers on its stdout, one byte each: ``o`` once its
store is open, ``.`` for each ``sync``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from agentroll.observe import Observer, Status, TaskOutcome
from agentroll.store import Store, open_store

_HEADER = struct.Struct(">I")
#: How long the callback waits for the writer to record what it was sent (Ctrl-C, end of run).
SYNC_SECONDS = 30.0
#: Linux lets a pipe hold more than its default 64 KiB: a writer still starting need not hold up a run.
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031
#: The writer's answers: its store is open; everything sent before a ``sync`` is stored.
_OPENED, _SYNCED = b"o", b"."


@dataclass(frozen=True)
class RunInfo:
    """The run the observations belong to; it is started with the first observation."""

    playbook: str
    inventory: str | None = None
    limit: str | None = None
    check_mode: bool = False
    #: The ``ansible-playbook`` process: the run is over when it is gone.
    pid: int | None = None


class Recorder(Protocol):
    """What the callback hands its outcomes to."""

    def outcome(self, outcome: TaskOutcome) -> None:
        """Observe ``outcome`` and store what it says."""

    def finish(self, status: str) -> None:
        """Mark the run ``ok``, ``failed`` or ``interrupted`` (when it was started)."""

    def sync(self) -> None:
        """Return once everything handed over so far is stored."""

    def close(self) -> float:
        """Store what is left and stop; the CPU seconds spent elsewhere than the calling process."""


class InProcessRecorder:
    """Observes and records in the calling process: the writer's own work, and the fallback.

    ``run`` says which run the observations belong to, asked when the first one is stored.
    """

    def __init__(self, store: Store, run: Callable[[], RunInfo]) -> None:
        self._store = store
        self._run = run
        self._observer = Observer()
        self.run_id: int | None = None

    def outcome(self, outcome: TaskOutcome) -> None:
        for host, rows in self._observer.observe(outcome).items():
            if rows:
                self._store.record(self._ensure_run(), host, rows)

    def _ensure_run(self) -> int:
        if self.run_id is None:
            run = self._run()
            self.run_id = self._store.start_run(
                run.playbook, inventory=run.inventory, limit=run.limit, check_mode=run.check_mode, pid=run.pid
            )
        return self.run_id

    def finish(self, status: str) -> None:
        if self.run_id is not None:
            self._store.finish_run(self.run_id, status)

    def sync(self) -> None:
        return None

    def close(self) -> float:
        return 0.0


class WriterGone(RuntimeError):
    """The writer process is not there to take a frame (it did not start, or it died)."""


class WriterRecorder:
    """Hands outcomes to a writer process (``python -m agentroll.recorder``) through a pipe."""

    def __init__(self, process: subprocess.Popen[bytes], run: Callable[[], RunInfo]) -> None:
        self._process = process
        self._run = run
        self._run_sent = False
        self._closed = False
        #: The pipe to the writer's input (None: the process has none, and every frame fails).
        self._input = process.stdin.fileno() if process.stdin is not None else None
        #: The calls sent before the writer said its store is open, to make again elsewhere if it
        #: never does; None once it has.
        self._unconfirmed: list[tuple[str, Any]] | None = []
        #: The ``sync`` answers read so far, whoever read them (a signal's ``finish`` may, mid-sync).
        self._synced = 0

    @classmethod
    def start(cls, location: str | None, run: Callable[[], RunInfo]) -> WriterRecorder:
        """Start a writer for the store at ``location`` (None: ``$AGENTROLL_STATE`` or the default)."""
        package_root = str(Path(__file__).resolve().parent.parent)
        python_path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        process = subprocess.Popen(
            [sys.executable, "-m", "agentroll.recorder"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": python_path},
            # Its own session: Ctrl-C at the terminal and a kill of ansible-playbook's process group
            # do not reach it, so it records whatever the pipe still holds.
            start_new_session=True,
        )
        writer = cls(process, run)
        if process.stdin is not None and sys.platform == "linux":
            try:
                import fcntl

                fcntl.fcntl(process.stdin.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
            except OSError:
                pass  # the default size only makes a writer still starting hold the run up sooner
        writer._send("open", {"location": location})
        return writer

    def outcome(self, outcome: TaskOutcome) -> None:
        """Send ``outcome`` as one frame (``encode_frame``'s), written out here rather than through
        ``_send``: this runs in Ansible's main loop for each result, where each Python function it
        calls costs page copies after a fork."""
        if not self._run_sent:
            self._send("run", asdict(self._run()))
            self._run_sent = True
        if outcome.censored:
            outcome = _censored(outcome)
        body = _ENCODER.encode(["outcome", outcome]).encode()
        self._write(_HEADER.pack(len(body)), body)
        if self._unconfirmed is not None:
            self._hold("outcome", outcome)

    def finish(self, status: str) -> None:
        self._send("finish", status)
        if self._unconfirmed is not None:
            self._hold("finish", status)

    def sync(self) -> None:
        self._send("sync", None)
        answered = self._synced + 1
        deadline = time.monotonic() + SYNC_SECONDS
        while self._synced < answered and (left := deadline - time.monotonic()) > 0:
            if not self._answers(left):
                break
        if self._synced >= answered:
            return
        code = self._process.poll()
        raise WriterGone(
            f"the writer did not confirm within {SYNC_SECONDS:.0f} s"
            if code is None
            else f"the writer exited with code {code}"
        )

    def unconfirmed(self) -> list[tuple[str, Any]]:
        """If the writer never said its store is open: the calls it was sent (``outcome`` and
        ``finish``, with their argument), to make on another recorder; else none."""
        if self._unconfirmed is not None:
            self._answers(0)
        return list(self._unconfirmed or ())

    def close(self) -> float:
        """Send ``close``, wait for the writer to store what is left and exit; its CPU seconds.

        A writer that exits, or is still starting when the wait is over, without having opened its
        store raises ``WriterGone``: what it was sent is then ``unconfirmed()``.
        """
        if self._closed:
            return 0.0
        self._closed = True
        with contextlib.suppress(WriterGone):
            self._send("close", None)
        deadline = time.monotonic() + SYNC_SECONDS
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                self._check_opened()
                return 0.0  # already reaped (it exited early): its CPU is not known
            pid, status, usage = os.wait4(self._process.pid, os.WNOHANG)
            if pid:
                self._process.returncode = os.waitstatus_to_exitcode(status)
                self._check_opened()
                return usage.ru_utime + usage.ru_stime
            time.sleep(0.005)
        if self.unconfirmed():
            # Still starting after the wait: this process records what it was sent, the writer nothing.
            self._process.kill()
            self._process.wait()
            raise WriterGone(f"the writer did not open the state store within {SYNC_SECONDS:.0f} s")
        raise WriterGone(f"the writer is still recording after {SYNC_SECONDS:.0f} s; it goes on alone")

    def _check_opened(self) -> None:
        if self.unconfirmed():
            raise WriterGone(
                f"the writer exited with code {self._process.returncode} before it opened the state store"
            )

    def _hold(self, method: str, argument: Any) -> None:
        """Keep a call the writer took, until it says its store is open (checked without waiting)."""
        if self._unconfirmed is not None:
            self._unconfirmed.append((method, argument))
            self._answers(0)

    def _answers(self, timeout: float) -> bytes:
        """The answers waiting on the writer's output, after waiting up to ``timeout`` s for one;
        nothing when there is none yet or the output has ended. The store's opening and the syncs
        answered are noted."""
        output = self._process.stdout
        if output is None:
            return b""
        ready, _, _ = select.select([output], [], [], timeout)
        answers = os.read(output.fileno(), 64) if ready else b""
        if _OPENED in answers:
            self._unconfirmed = None
        self._synced += answers.count(_SYNCED)
        return answers

    def _send(self, kind: str, payload: Any) -> None:
        self._write(*encode_frame(kind, payload))

    def _write(self, header: bytes, body: bytes) -> None:
        # A writer that is gone closed its end of the pipe: the write fails, no need to ask first.
        if self._input is None:
            raise WriterGone("the writer has no input")
        try:
            written = os.writev(self._input, (header, body))
            if written != len(header) + len(body):
                # A pipe takes a large frame in parts, and a signal can cut a write short.
                rest = memoryview(header + body)[written:]
                while rest:
                    rest = rest[os.write(self._input, rest) :]
        except BrokenPipeError as error:
            code = self._process.poll()
            raise WriterGone(
                "the writer is gone" if code is None else f"the writer exited with code {code}"
            ) from error


#: Built once: ``json.dumps`` with options builds an encoder per call. A result reaches the
#: callback unpickled from a worker, so it cannot hold a cycle to look for.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, check_circular=False)


def encode_frame(kind: str, payload: Any) -> tuple[bytes, bytes]:
    """The frame's header and body; a value JSON does not know is sent as its text.

    A ``TaskOutcome`` goes as it is: a tuple is a JSON list, its status (a ``StrEnum``) a string.
    """
    body = _ENCODER.encode([kind, payload]).encode()
    return _HEADER.pack(len(body)), body


def _censored(outcome: TaskOutcome) -> TaskOutcome:
    """A no_log outcome as it may leave this process: its outcome, nothing of its result."""
    return outcome._replace(result={"unreachable": True} if outcome.result.get("unreachable") else {})


# -- the writer process -----------------------------------------------------------------------------


def serve(incoming: IO[bytes], acks: IO[bytes], warn: Callable[[str], None]) -> int:
    """The writer: record each frame from ``incoming`` in order until ``close`` or the end of input.

    The end of input without ``close`` or ``finish`` means ``ansible-playbook`` is gone: the run is
    marked interrupted. A frame that fails becomes one warning and the next is read; a store that
    cannot be opened ends the writer (code 1) before it answers that it is open, and the callback
    records in its own process, beginning with what it had sent.
    """
    store: Store | None = None
    recorder: InProcessRecorder | None = None
    finished = False
    try:
        while (frame := _read_frame(incoming)) is not None:
            kind, payload = frame
            if kind == "unreadable":
                warn(f"agentroll coverage: the writer skipped a frame it cannot read: {payload}")
            elif kind == "open":
                try:
                    store = open_store(payload["location"])
                except Exception as error:  # said once here; the callback records what it sent
                    warn(f"agentroll coverage: opening the state store: {type(error).__name__}: {error}")
                    return 1
                _answer(acks, _OPENED)
            elif kind == "run" and store is not None:
                recorder = InProcessRecorder(store, functools.partial(RunInfo, **payload))
            elif kind == "outcome" and recorder is not None:
                _safely(warn, "recording a result", functools.partial(_record_payload, recorder), payload)
            elif kind == "finish":
                finished = True
                if recorder is not None:
                    _safely(warn, "finishing the run", recorder.finish, str(payload))
            elif kind == "sync":
                _answer(acks, _SYNCED)
            elif kind == "close":
                return 0
            else:
                warn(f"agentroll coverage: the writer cannot take {kind!r} here (no store or run yet)")
        if recorder is not None and not finished:
            _safely(warn, "marking the run interrupted", recorder.finish, "interrupted")
        return 0
    finally:
        if store is not None:
            store.close()


def _answer(acks: IO[bytes], answer: bytes) -> None:
    """One byte to the callback; a callback already gone (``ansible-playbook`` killed) needs none,
    and the writer goes on recording what the pipe holds."""
    with contextlib.suppress(OSError):
        acks.write(answer)
        acks.flush()


def _safely(warn: Callable[[str], None], what: str, action: Callable[[Any], None], argument: Any) -> None:
    try:
        action(argument)
    except Exception as error:  # one bad frame must not stop the recording of the next
        warn(f"agentroll coverage: {what}: {type(error).__name__}: {error}")


def _read_frame(stream: IO[bytes]) -> tuple[str, Any] | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    body = stream.read(length)
    if len(body) < length:
        return None
    try:
        kind, payload = json.loads(body)
    except (ValueError, TypeError) as error:
        return "unreadable", f"{type(error).__name__}: {error}"
    return str(kind), payload


def _record_payload(recorder: InProcessRecorder, payload: Sequence[Any]) -> None:
    recorder.outcome(_outcome_from(payload))


def _outcome_from(payload: Sequence[Any]) -> TaskOutcome:
    host, step, status, result, task, censored, check_mode, run_once = payload
    return TaskOutcome(
        host=str(host),
        step=step,
        status=Status(status),
        result=result or {},
        task=str(task or ""),
        censored=bool(censored),
        check_mode=bool(check_mode),
        run_once=bool(run_once),
    )


def _warn_on_stderr(message: str) -> None:
    print(f"[WARNING]: {message}", file=sys.stderr, flush=True)


def main() -> int:
    """``python -m agentroll.recorder``: the writer, frames on stdin, sync answers on stdout."""
    # Unbuffered: an answer the callback can no longer read is dropped, not kept for a flush at exit.
    with open(sys.stdout.fileno(), "wb", buffering=0, closefd=False) as acks:
        return serve(sys.stdin.buffer, acks, _warn_on_stderr)


if __name__ == "__main__":
    sys.exit(main())
