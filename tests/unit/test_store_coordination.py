"""Leases, watches and their attempts, and receipts in the store (migration 3), on both backends."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime, timedelta

import pytest

from agentroll.model import Aspect
from agentroll.store import open_store
from agentroll.store.coordination import LEASE_LIFETIME, Attempt, AttemptSummary, WatchBusy
from agentroll.store.identity import controller_name
from agentroll.store.receipts import OFFLINE_KIT_RUN, ReceiptRecord
from tests.unit.store_support import raw_query

#: "Now" follows the real clock: a lease or watch held by this test's own (live) pid must not look
#: older than the process, or ``still_running`` takes the pid for a reused one (a fixed date ages).
NOW = datetime.now(UTC).replace(microsecond=0)


def dead_pid() -> int:
    """The pid of a process that has exited."""
    process = multiprocessing.get_context("spawn").Process(target=int)
    process.start()
    process.join()
    assert process.pid is not None
    return process.pid


# --- leases ------------------------------------------------------------------------------------------


def test_a_lease_held_by_a_live_process_is_refused_and_one_of_a_dead_process_taken_over(
    store_location: str,
) -> None:
    gone = dead_pid()
    with open_store(store_location) as store:
        assert store.acquire_leases(["vp-01", "vp-02"], purpose="site.yml", pid=os.getpid(), now=NOW) == {}
        # Renewing one's own lease is fine; another live process (pid 1) is refused it.
        assert store.acquire_leases(["vp-01"], purpose="site.yml", pid=os.getpid(), now=NOW) == {}
        refused = store.acquire_leases(["vp-02", "vp-03"], purpose="deploy.yml", pid=1, now=NOW)
        assert list(refused) == ["vp-02"]
        assert refused["vp-02"].purpose == "site.yml"
        assert refused["vp-02"].holder.pid == os.getpid()
        assert f"pid {os.getpid()} on {controller_name()}" in refused["vp-02"].holder.describe()
        store.acquire_leases(["vp-04"], purpose="site.yml", pid=gone, now=NOW)
        assert store.acquire_leases(["vp-04"], purpose="site.yml", pid=1, now=NOW) == {}
        assert [(lease.host, lease.holder.pid) for lease in store.leases(NOW)] == [
            ("vp-01", os.getpid()),
            ("vp-02", os.getpid()),
            ("vp-03", 1),
            ("vp-04", 1),
        ]
        store.release_leases(os.getpid(), ["vp-01"])
        assert [lease.host for lease in store.leases(NOW)] == ["vp-02", "vp-03", "vp-04"]
        store.release_leases(1)
        assert [lease.host for lease in store.leases(NOW)] == ["vp-02"]


def test_a_lease_of_another_controller_counts_until_it_expires(store_location: str) -> None:
    with open_store(store_location):
        pass
    raw_query(
        store_location,
        "INSERT INTO leases (host, purpose, operator, controller, pid, acquired_at, expires_at)"
        " VALUES ('vp-01', 'site.yml', 'AWX job 7', 'awx-runner-9', 12, ?, ?)",
        (NOW.isoformat(timespec="microseconds"), (NOW + LEASE_LIFETIME).isoformat(timespec="microseconds")),
    )
    with open_store(store_location) as store:
        refused = store.acquire_leases(["vp-01"], purpose="site.yml", pid=os.getpid(), now=NOW)
        assert (
            refused["vp-01"].holder.describe()
            == f"pid 12 on awx-runner-9 (AWX job 7) since {NOW:%Y-%m-%dT%H:%M:%S}Z"
        )
        later = NOW + LEASE_LIFETIME + timedelta(seconds=1)
        assert store.acquire_leases(["vp-01"], purpose="site.yml", pid=os.getpid(), now=later) == {}


def _hold_leases(location: str, ready: object, release: object) -> None:
    with open_store(location) as store:
        store.acquire_leases(["vp-01"], purpose="site.yml", pid=os.getpid(), now=datetime.now(UTC))
        ready.set()  # type: ignore[attr-defined]
        release.wait(60)  # type: ignore[attr-defined]


def test_two_processes_never_hold_one_pc(store_location: str) -> None:
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_leases, args=(store_location, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with open_store(store_location) as store:
            refused = store.acquire_leases(["vp-01", "vp-02"], purpose="site.yml", pid=os.getpid(), now=NOW)
            assert list(refused) == ["vp-01"] and refused["vp-01"].holder.pid == holder.pid
    finally:
        release.set()
        holder.join(60)
    with open_store(store_location) as store:
        assert store.acquire_leases(["vp-01"], purpose="site.yml", pid=os.getpid(), now=NOW) == {}


# --- watches -----------------------------------------------------------------------------------------


def test_a_watch_counts_attempts_per_pc_and_is_continued_after_a_stop(store_location: str) -> None:
    until = NOW + timedelta(days=10)
    with open_store(store_location) as store:
        with pytest.raises(ValueError, match="a new watch needs a deadline"):
            store.open_watch("inventory/konplong", until=None, every_seconds=600, pid=os.getpid(), now=NOW)
        watch, continued = store.open_watch(
            "inventory/konplong", until=until, every_seconds=600, pid=os.getpid(), now=NOW
        )
        assert not continued and (watch.status, watch.rounds, watch.until) == ("running", 0, until)
        with pytest.raises(WatchBusy, match=f"inventory/konplong is already watched by pid {os.getpid()}"):
            store.open_watch("inventory/konplong", until=None, every_seconds=600, pid=1, now=NOW)
        assert store.record_round(
            watch.id, [Attempt("vp-01", True, False), Attempt("vp-02", False, True)], now=NOW
        )
        store.finish_watch(watch.id, "stopped", now=NOW)

        later = NOW + timedelta(minutes=10)
        again, continued = store.open_watch(
            "inventory/konplong", until=None, every_seconds=300, pid=os.getpid(), now=later
        )
        assert continued and (again.id, again.rounds, again.until, again.every_seconds) == (
            watch.id,
            1,
            until,
            300,
        )
        assert store.record_round(again.id, [Attempt("vp-01", True, False)], now=later) == 2
        assert store.attempt_summaries(["vp-01", "vp-02", "vp-03"]) == {
            "vp-01": AttemptSummary(count=2, answered=0, since=NOW),
            "vp-02": AttemptSummary(count=1, answered=1, since=NOW),
        }
        store.finish_watch(again.id, "done", now=later)
        # A finished watch is not continued: the next one starts afresh, and its attempts count alone.
        fresh, continued = store.open_watch(
            "inventory/konplong", until=until, every_seconds=300, pid=os.getpid(), now=later
        )
        assert not continued and fresh.id != watch.id
        store.record_round(fresh.id, [Attempt("vp-01", False, True)], now=later)
        assert store.attempt_summaries(["vp-01"]) == {
            "vp-01": AttemptSummary(count=1, answered=1, since=later)
        }


def test_a_watch_whose_process_died_is_taken_over(store_location: str) -> None:
    with open_store(store_location) as store:
        watch, _ = store.open_watch(
            "inventory/konplong", until=NOW + timedelta(days=1), every_seconds=60, pid=dead_pid(), now=NOW
        )
        again, continued = store.open_watch(
            "inventory/konplong", until=None, every_seconds=60, pid=1, now=NOW
        )
        assert continued and again.id == watch.id and again.holder.pid == 1


# --- receipts ----------------------------------------------------------------------------------------


def receipt(receipt_id: str, host: str, minutes: int) -> ReceiptRecord:
    agent = {
        "installed": True,
        "version": "1.0",
        "service_name": "A",
        "service_state": "running",
        "start_mode": "auto",
    }
    return ReceiptRecord(receipt_id, host, NOW + timedelta(minutes=minutes), [(Aspect.AGENT, agent)])


def test_receipts_are_imported_once_as_one_offline_kit_run(store_location: str) -> None:
    with open_store(store_location) as store:
        first, recorded = store.import_receipts(
            [receipt("r1", "vp-01", 5), receipt("r2", "vp-02", 3)], inventory="inv", now=NOW
        )
        assert first is not None and [record.receipt_id for record in recorded] == ["r1", "r2"]
        again, recorded = store.import_receipts(
            [receipt("r1", "vp-01", 5), receipt("r3", "vp-03", 9)], inventory="inv", now=NOW
        )
        assert again is not None and again != first and [record.receipt_id for record in recorded] == ["r3"]
        assert store.import_receipts([receipt("r3", "vp-03", 9)], inventory="inv", now=NOW) == (None, [])
        assert [(run.playbook, run.status) for run in store.runs()] == [(OFFLINE_KIT_RUN, "ok")] * 2
        views = store.views()
        assert sorted(views) == ["vp-01", "vp-02", "vp-03"]
        # Observed when the receipt was written, not when it was imported.
        assert views["vp-02"].latest[Aspect.AGENT].observed_at == NOW + timedelta(minutes=3)
        assert store.known_receipts(["r1", "r2", "r4"]) == {"r1", "r2"}


def test_an_import_that_fails_half_way_records_nothing(store_location: str) -> None:
    broken = ReceiptRecord("r2", "vp-02", NOW, [("no-such-aspect", {})])  # type: ignore[list-item]
    with open_store(store_location) as store:
        with pytest.raises(ValueError, match="unknown observation aspect"):
            store.import_receipts([receipt("r1", "vp-01", 0), broken], inventory="inv", now=NOW)
        assert store.runs() == []
        assert store.views() == {}
        assert store.known_receipts(["r1", "r2"]) == set()
