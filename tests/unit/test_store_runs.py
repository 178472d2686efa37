"""Who ran each run, where, and runs that never finished: marked interrupted once their process is gone."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from agentroll.model import Aspect
from agentroll.store import SILENT_RUN_LIMIT, open_store, utc_now
from agentroll.store.identity import current_operator, os_user, process_alive, process_started_at
from tests.unit.store_support import raw_query

HERE = socket.gethostname()


@pytest.mark.parametrize(
    ("environ", "operator"),
    [
        ({"AGENTROLL_OPERATOR": "Phạm Văn Thắng", "JOB_ID": "42"}, "Phạm Văn Thắng"),
        (
            {"JOB_ID": "42", "AWX_HOST": "https://awx.konplong.example"},
            "AWX job 42 (https://awx.konplong.example)",
        ),
        ({"JOB_ID": "42"}, "AWX job 42"),
        ({"AGENTROLL_OPERATOR": "  ", "JOB_ID": "7"}, "AWX job 7"),
        ({"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/3f2a9c"}, f"{os_user()} (ansible-runner 3f2a9c)"),
        ({}, os_user()),
        ({"AGENTROLL_OPERATOR": "Lê\nThị\x1b[31m Bình\t"}, "Lê Thị [31m Bình"),
        ({"AGENTROLL_OPERATOR": "x" * 500}, "x" * 200),
    ],
)
def test_the_operator_comes_from_agentroll_operator_then_awx_then_the_os_user(
    environ: dict[str, str], operator: str
) -> None:
    assert current_operator(environ) == operator


def test_process_alive_and_when_it_started() -> None:
    assert process_alive(os.getpid())
    started = process_started_at(os.getpid())
    assert started is not None and utc_now() - timedelta(hours=6) < started < utc_now()
    child = multiprocessing.get_context("spawn").Process(target=int)
    child.start()
    child.join()
    assert child.pid is not None and not process_alive(child.pid)


def _start_run_and_die(location: str) -> None:
    """What a SIGKILL'd ansible-playbook leaves behind: a started run, a result, no end."""
    store = open_store(location)
    run = store.start_run("site.yml")
    store.record(run, "pc-1", [(Aspect.AGENT, {"installed": True})])
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_run_whose_process_died_is_interrupted_when_the_store_is_next_opened(store_location: str) -> None:
    child = multiprocessing.get_context("spawn").Process(target=_start_run_and_die, args=(store_location,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == -signal.SIGKILL
    with open_store(store_location) as store:
        [run] = store.runs()
        [(last_observed,)] = [(view.latest[Aspect.AGENT].observed_at,) for view in store.views().values()]
    assert (run.status, run.pid, run.controller) == ("interrupted", child.pid, HERE)
    assert run.finished_at == last_observed, "an interrupted run ends at its last sign of life"
    assert raw_query(store_location, "SELECT status FROM runs") == [("interrupted",)]


def test_a_run_of_a_live_process_here_stays_running(store_location: str) -> None:
    with open_store(store_location) as store:
        store.start_run("site.yml")
    with open_store(store_location) as store:
        assert [run.status for run in store.runs()] == ["running"]


def test_a_run_whose_pid_now_belongs_to_a_younger_process_is_interrupted(store_location: str) -> None:
    younger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with open_store(store_location) as store:
            store.start_run("site.yml", pid=younger.pid, started_at=utc_now() - timedelta(hours=1))
        with open_store(store_location) as store:
            assert [run.status for run in store.runs()] == ["interrupted"]
    finally:
        younger.kill()
        younger.wait()


def test_a_run_on_another_controller_is_left_alone_until_it_has_been_silent_too_long(
    store_location: str,
) -> None:
    now = utc_now()
    with open_store(store_location) as store:
        recent = store.start_run(
            "site.yml", controller="awx-job-pod-1", pid=1, started_at=now - 2 * SILENT_RUN_LIMIT
        )
        store.record(recent, "pc-1", [(Aspect.AGENT, {"installed": True})], now - timedelta(minutes=5))
        silent = store.start_run(
            "site.yml", controller="awx-job-pod-2", pid=1, started_at=now - 2 * SILENT_RUN_LIMIT
        )
        last_sign = now - SILENT_RUN_LIMIT - timedelta(minutes=1)
        store.record(silent, "pc-2", [(Aspect.AGENT, {"installed": True})], last_sign)
    with open_store(store_location) as store:
        statuses = {run.id: (run.status, run.finished_at) for run in store.runs()}
    assert statuses == {recent: ("running", None), silent: ("interrupted", last_sign)}


def test_a_read_only_store_shows_interrupted_runs_without_writing(store_location: str) -> None:
    child = multiprocessing.get_context("spawn").Process(target=_start_run_and_die, args=(store_location,))
    child.start()
    child.join(timeout=60)
    with open_store(store_location, readonly=True) as store:
        assert [run.status for run in store.runs()] == ["interrupted"]
    assert raw_query(store_location, "SELECT status, finished_at FROM runs") == [("running", None)]


def test_finish_run_interrupted_is_what_a_signal_handler_records(store_location: str) -> None:
    with open_store(store_location) as store:
        run = store.start_run("site.yml")
        store.finish_run(run, "interrupted")
        [recorded] = store.runs()
    assert recorded.status == "interrupted" and recorded.finished_at is not None
