"""The recorder: outcomes observed and stored here or by a writer process that outlives ansible-playbook."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agentroll.observe import Status, TaskOutcome, recorded_at_start
from agentroll.recorder import (
    InProcessRecorder,
    RunInfo,
    WriterGone,
    WriterRecorder,
    _read_frame,
    encode_frame,
    serve,
)
from agentroll.store import open_store

PROBE = {
    "computer_name": "PC-1",
    "os_caption": "Microsoft Windows 10 Pro",
    "os_build": 19045,
    "ram_mb": 8192,
    "agent": {"installed": True, "version": "1.0", "service_state": "running", "service_start_mode": "auto"},
}


def _probe(host: str, **changes: Any) -> TaskOutcome:
    return TaskOutcome(host=host, step="probe", status=Status.OK, result={**PROBE, **changes}, task="Probe")


def _frames(*frames: tuple[str, Any]) -> io.BytesIO:
    stream = io.BytesIO()
    for kind, payload in frames:
        stream.write(b"".join(encode_frame(kind, payload)))
    stream.seek(0)
    return stream


def _run_frame(pid: int = 4242) -> tuple[str, Any]:
    return (
        "run",
        {"playbook": "verify.yml", "inventory": None, "limit": None, "check_mode": False, "pid": pid},
    )


def _installed_hosts(state: Path) -> set[str]:
    with open_store(state, readonly=True) as store:
        return {host for host, view in store.views().items() if (view.value("agent") or {}).get("installed")}


def _last_status(state: Path) -> str:
    with open_store(state, readonly=True) as store:
        return store.runs()[-1].status


def test_the_writer_stores_each_outcome_and_finishes_the_run(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    acks = io.BytesIO()
    incoming = _frames(
        ("open", {"location": str(state)}),
        _run_frame(),
        ("outcome", _probe("pc-1")),
        ("sync", None),
        ("outcome", _probe("pc-2")),
        ("finish", "ok"),
        ("close", None),
    )
    assert serve(incoming, acks, pytest.fail) == 0
    assert acks.getvalue() == b"o."  # its store is open, then the sync's answer
    assert _installed_hosts(state) == {"pc-1", "pc-2"}
    with open_store(state, readonly=True) as store:
        (run,) = store.runs()
    # The run belongs to ansible-playbook (the pid it was given), not to the writer.
    assert (run.playbook, run.status, run.pid) == ("verify.yml", "ok", 4242)


def test_the_end_of_input_without_a_finish_marks_the_run_interrupted(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    incoming = _frames(("open", {"location": str(state)}), _run_frame(), ("outcome", _probe("pc-1")))
    assert serve(incoming, io.BytesIO(), pytest.fail) == 0
    assert _installed_hosts(state) == {"pc-1"}
    assert _last_status(state) == "interrupted"


def test_a_frame_that_cannot_be_stored_is_one_warning_and_the_next_is_stored(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    broken = list(_probe("pc-1"))
    broken[2] = "exploded"
    warnings: list[str] = []
    incoming = _frames(
        ("open", {"location": str(state)}),
        _run_frame(),
        ("outcome", broken),
        ("outcome", _probe("pc-2")),
        ("finish", "ok"),
    )
    assert serve(incoming, io.BytesIO(), warnings.append) == 0
    assert warnings == [
        "agentroll coverage: recording a result: ValueError: 'exploded' is not a valid Status"
    ]
    assert _installed_hosts(state) == {"pc-2"}


class TaggedText(str):
    """Stands for Ansible's tagged strings: a str subclass the writer must not need to import."""


def test_a_result_with_types_of_its_own_arrives_as_plain_text(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    incoming = _frames(
        ("open", {"location": str(state)}),
        _run_frame(),
        ("outcome", _probe("pc-1", computer_name=TaggedText("PC-1"), seen=Path("/x"))),
        ("finish", "ok"),
    )
    assert serve(incoming, io.BytesIO(), pytest.fail) == 0
    with open_store(state, readonly=True) as store:
        name = store.views()["pc-1"].value("name")
    assert name is not None and name["computer_name"] == "PC-1"


def test_vietnamese_text_arrives_whole(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    incoming = _frames(
        ("open", {"location": str(state)}),
        _run_frame(),
        ("outcome", _probe("pc-1", computer_name="MAY-ĐỒNG-01")),
        ("outcome", _probe("pc-2", computer_name="MAY-NGOC-02")),
        ("finish", "ok"),
    )
    assert serve(incoming, io.BytesIO(), pytest.fail) == 0
    with open_store(state, readonly=True) as store:
        views = store.views()
    assert [views[pc].value("name")["computer_name"] for pc in ("pc-1", "pc-2")] == [
        "MAY-ĐỒNG-01",
        "MAY-NGOC-02",
    ]


def test_a_frame_that_cannot_be_read_is_one_warning_and_the_next_is_read(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    incoming = _frames(("open", {"location": str(state)}), _run_frame())
    incoming.seek(0, io.SEEK_END)
    incoming.write(len(b"{not json").to_bytes(4, "big") + b"{not json")
    incoming.write(b"".join(encode_frame("outcome", _probe("pc-2"))))
    incoming.seek(0)
    warnings: list[str] = []
    assert serve(incoming, io.BytesIO(), warnings.append) == 0
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "agentroll coverage: the writer skipped a frame it cannot read: JSONDecodeError"
    )
    assert _installed_hosts(state) == {"pc-2"}


def test_a_store_the_writer_cannot_open_ends_it_with_one_warning(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    warnings: list[str] = []
    incoming = _frames(("open", {"location": str(tmp_path / "a-file" / "state.sqlite")}), _run_frame())
    acks = io.BytesIO()
    assert serve(incoming, acks, warnings.append) == 1
    assert len(warnings) == 1 and warnings[0].startswith("agentroll coverage: opening the state store: ")
    assert acks.getvalue() == b""  # never said open: the callback records what it sent


def _writer_that(code: str) -> WriterRecorder:
    """A WriterRecorder on a process that runs ``code`` instead of the writer, reading none of its input."""
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
    )
    return WriterRecorder(process, lambda: RunInfo("site.yml", pid=os.getpid()))


def test_what_a_writer_that_never_opens_its_store_was_sent_is_handed_back(tmp_path: Path) -> None:
    writer = _writer_that("import time; time.sleep(0.3); raise SystemExit(1)")
    sent = [_probe("pc-1"), _probe("pc-2", computer_name="PC-2")]
    for outcome in sent:
        writer.outcome(outcome)
    writer.finish("ok")
    with pytest.raises(WriterGone, match="exited with code 1 before it opened the state store"):
        writer.close()
    assert writer.unconfirmed() == [("outcome", sent[0]), ("outcome", sent[1]), ("finish", "ok")]


def test_once_the_writer_has_opened_its_store_nothing_is_held_back() -> None:
    writer = _writer_that("import os, time; os.write(1, b'o'); time.sleep(0.3)")
    writer.outcome(_probe("pc-1"))
    assert writer.close() >= 0
    assert writer.unconfirmed() == []


def test_the_writer_answers_nothing_to_a_callback_already_gone(tmp_path: Path) -> None:
    """ansible-playbook gone (killed): the answers go nowhere, and the writer still records the pipe."""
    state = tmp_path / "state.sqlite"
    read_answers, answers = os.pipe()
    os.close(read_answers)
    incoming = _frames(
        ("open", {"location": str(state)}),
        _run_frame(),
        ("outcome", _probe("pc-1")),
        ("sync", None),
        ("outcome", _probe("pc-2")),
    )
    with open(answers, "wb", buffering=0) as acks:
        assert serve(incoming, acks, pytest.fail) == 0
    assert _installed_hosts(state) == {"pc-1", "pc-2"}
    assert _last_status(state) == "interrupted"


def test_nothing_of_a_no_log_result_leaves_ansible_playbook_but_its_outcome() -> None:
    secret = {"msg": "installer /S /KEY=hunter2 failed", "cmd": "setup.exe /KEY=hunter2", "rc": 1603}
    failed = TaskOutcome("pc-1", "install", Status.FAILED, secret, task="Install", censored=True)
    unreachable = TaskOutcome(
        "pc-1", None, Status.UNREACHABLE, {**secret, "unreachable": True}, censored=True
    )
    read_end, write_end = os.pipe()
    with open(write_end, "wb") as stream:
        writer = WriterRecorder(SimpleNamespace(stdin=stream, stdout=None), lambda: RunInfo("deploy.yml"))
        for outcome in (failed, unreachable, _probe("pc-1")):
            writer.outcome(outcome)
    with open(read_end, "rb") as sent:
        wire = sent.read()
    assert b"hunter2" not in wire
    incoming = io.BytesIO(wire)
    frames = [frame for frame in iter(lambda: _read_frame(incoming), None)]
    assert [kind for kind, _ in frames] == ["run", "outcome", "outcome", "outcome"]
    payloads = [payload for _, payload in frames[1:]]
    assert [payload[3] for payload in payloads] == [{}, {"unreachable": True}, PROBE]
    assert [payload[2] for payload in payloads] == ["failed", "unreachable", "ok"]


def test_only_an_install_s_start_is_recorded_and_never_in_check_mode() -> None:
    assert recorded_at_start("install", check_mode=False)
    assert not recorded_at_start("install", check_mode=True)
    assert not recorded_at_start("probe", check_mode=False)
    assert not recorded_at_start(None, check_mode=False)


def test_in_process_the_run_is_started_with_its_first_observation(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with open_store(state) as store:
        recorder = InProcessRecorder(store, lambda: RunInfo("site.yml", check_mode=True))
        recorder.finish("ok")  # nothing observed yet: no run to finish
        assert store.runs() == []
        recorder.outcome(TaskOutcome("pc-1", "probe", Status.STARTED, {}))  # a start yields nothing
        assert store.runs() == []
        recorder.outcome(_probe("pc-1"))
        recorder.finish("failed")
        (run,) = store.runs()
    assert (run.playbook, run.check_mode, run.status, run.pid) == ("site.yml", True, "failed", os.getpid())


def test_a_writer_process_stores_what_it_is_handed_and_says_what_it_cost(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    open_store(state).close()
    writer = WriterRecorder.start(str(state), lambda: RunInfo("verify.yml", pid=os.getpid()))
    for index in range(20):
        writer.outcome(_probe(f"pc-{index}"))
    writer.sync()
    assert len(_installed_hosts(state)) == 20  # stored before sync returned
    writer.finish("ok")
    assert writer.close() > 0  # its CPU, user + system
    assert writer.close() == 0.0  # once
    assert _last_status(state) == "ok"
    with pytest.raises(WriterGone, match="exited with code 0"):
        writer.outcome(_probe("pc-late"))


PARENT = textwrap.dedent(
    """
    import os, signal, sys
    from agentroll.observe import Status, TaskOutcome, recorded_at_start
    from agentroll.recorder import RunInfo, WriterRecorder

    writer = WriterRecorder.start(sys.argv[1], lambda: RunInfo("deploy.yml", pid=os.getpid()))
    probe = {"computer_name": "PC", "agent": {"installed": True}}
    for index in range(int(sys.argv[2])):
        writer.outcome(TaskOutcome(f"pc-{index}", "probe", Status.OK, probe))
    print(writer._process.pid, flush=True)
    os.killpg(0, signal.SIGKILL)  # ansible-playbook and its whole process group, killed at once
    """
)


def test_everything_handed_to_the_writer_is_stored_after_a_sigkill_of_the_whole_process_group(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.sqlite"
    open_store(state).close()
    parent = subprocess.run(
        [sys.executable, "-c", PARENT, str(state), "300"],
        capture_output=True,
        text=True,
        start_new_session=True,  # its own process group, so that its kill spares this test
        timeout=60,
    )
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    writer_pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _alive(writer_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(writer_pid), "the writer should end once its input is closed"
    assert _installed_hosts(state) == {f"pc-{index}" for index in range(300)}
    assert _last_status(state) == "interrupted"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return status != "Z"


def test_a_frame_larger_than_the_pipe_reaches_the_writer_whole() -> None:
    read_end, write_end = os.pipe()
    received: list[bytes] = []

    def drain() -> None:
        with open(read_end, "rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=drain)
    reader.start()
    # 1 MB of output: a pipe (64 KiB by default) takes it in parts.
    big = _probe("pc-1", stdout="x" * 1_000_000)
    with open(write_end, "wb") as stream:
        WriterRecorder(SimpleNamespace(stdin=stream, stdout=None), lambda: RunInfo("site.yml")).outcome(big)
    reader.join(30)
    incoming = io.BytesIO(received[0])
    run, outcome, end = _read_frame(incoming), _read_frame(incoming), _read_frame(incoming)
    assert run is not None and run[0] == "run"
    assert outcome is not None and outcome[0] == "outcome"
    assert outcome[1][3]["stdout"] == "x" * 1_000_000
    assert end is None
