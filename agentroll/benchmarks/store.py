"""The state store's benchmarks in ``make bench``: figures printed beside their goals, never pass/fail.

(c) what recording one result costs the process that records it (the callback inside
    ansible-playbook): CPU and wall per probe result (5 observations), on SQLite and on PostgreSQL,
    and the secret-key scrub memoised vs recomputed;
(d) the report of a province-sized store (10,000 PCs x 20 runs) built in a fresh process: wall, CPU
    and peak memory (getrusage), JSON on both backends, HTML and XLSX on SQLite; and, side by side
    on one store, the history read the old way (one view query per run) vs ``report_from_store``.

    .venv/bin/python -m agentroll.benchmarks.store [--hosts 10000] [--runs 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tabulate import tabulate

from agentroll import states
from agentroll.benchmarks.verdict import Verdict
from agentroll.model import Aspect, Host, Inventory, Unit
from agentroll.report import report_from_store, to_json
from agentroll.store import Store, open_store, scrub
from agentroll.store.location import parse_location
from agentroll.store.scratch import PostgresUnavailable, ScratchPostgres
from agentroll.store.secrets import is_secret_key

HOSTS = 10_000
RUNS = 20
EVENTS = 2_000
HOSTS_PER_UNIT = 100
#: Goal 6: the report of HOSTS x RUNS, per format (seconds of wall), and the JSON's peak memory.
REPORT_SECONDS = {"json": 2.0, "html": 5.0, "xlsx": 5.0}
REPORT_MEGABYTES = 300
#: The playbooks of the synthetic history, in turn; the first two also record the plan.
PLAYBOOKS = ("preflight.yml", "site.yml", "verify.yml", "site.yml")
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FACTS = {
    "os_caption": "Microsoft Windows 10 Pro",
    "os_build": 19045,
    "os_family": "windows10",
    "product_type": "workstation",
    "architecture": "x64",
    "ram_mb": 8192,
    "system_drive": "C:",
    "system_size_mb": 256000,
    "system_free_mb": 120000,
    "powershell_version": "5.1.19041.4648",
}


# --- synthetic data -----------------------------------------------------------------------------


def synthetic_district(hosts: int, per_unit: int = HOSTS_PER_UNIT) -> Inventory:
    """A district of ``hosts`` PCs in units of ``per_unit``, licenses a little short of the PCs."""
    units = max(1, hosts // per_unit)
    unit_list = tuple(
        Unit(code=f"U{number:03d}", name=f"Đơn vị {number}", licenses=per_unit - 2, group=f"u{number:03d}")
        for number in range(units)
    )
    host_list = tuple(
        Host(
            name=f"u{index // per_unit:03d}-{index % per_unit:03d}",
            unit=f"U{index // per_unit:03d}",
            address=f"10.{index // 250 % 250}.{index % 250}.1",
        )
        for index in range(per_unit * units)
    )
    return Inventory(units=unit_list, hosts=host_list)


def probe_result(index: int, installed: bool, with_plan: bool) -> list[tuple[Aspect, dict[str, Any]]]:
    """What one probe (and the plan, in preflight and site) says about PC number ``index``."""
    rows: list[tuple[Aspect, dict[str, Any]]] = [
        (Aspect.CONTACT, {"status": "ok", "reason": None}),
        (Aspect.FACTS, FACTS),
        (
            Aspect.AGENT,
            {
                "installed": installed,
                "version": "1.0.0" if installed else None,
                "service_name": "AgentrollSample" if installed else None,
                "service_state": "running" if installed else None,
                "start_mode": "auto" if installed else None,
            },
        ),
        (Aspect.NAME, {"computer_name": f"PC{index:05d}", "pending_name": None}),
        (Aspect.REBOOT, {"pending": False, "reason": None}),
    ]
    if with_plan:
        eligible = index % 17 != 0
        rows.append((Aspect.ELIGIBILITY, {"eligible": eligible, "reasons": [] if eligible else ["RAM"]}))
        rows.append((Aspect.LICENSE, {"granted": eligible, "reason": None}))
    return rows


def fill(location: str, inventory: Inventory, runs: int) -> int:
    """Record ``runs`` runs over every PC, coverage growing from a third to nearly all; returns rows.

    Runs are recorded through the store; their observations are loaded in bulk (SQLite executemany,
    PostgreSQL COPY) in the shape ``Store.record`` writes, to keep ``make bench`` short.
    """
    # Each PC's possible results, encoded once: runs differ only in which one they record.
    encoded = {
        (index, installed, with_plan): [
            (aspect.value, json.dumps(scrub(value), ensure_ascii=False, sort_keys=True))
            for aspect, value in probe_result(index, installed, with_plan)
        ]
        for index in range(len(inventory.hosts))
        for installed in (False, True)
        for with_plan in (False, True)
    }
    count = 0
    with open_store(location) as store, _bulk_loader(location) as load:
        for number in range(runs):
            started = T0 + timedelta(days=number)
            playbook = PLAYBOOKS[number % len(PLAYBOOKS)]
            run_id = store.start_run(playbook, started_at=started, operator="bench", pid=1)
            share = 0.3 + 0.65 * number / max(1, runs - 1)
            rows = []
            for index, host in enumerate(inventory.hosts):
                moment = (started + timedelta(milliseconds=index)).isoformat(timespec="microseconds")
                installed = (index * 7919) % 1000 < share * 1000
                for aspect, text in encoded[index, installed, playbook != "verify.yml"]:
                    rows.append((run_id, host.name, aspect, text, moment))
            load(rows)
            count += len(rows)
            store.finish_run(run_id, "ok", finished_at=started + timedelta(hours=1))
    return count


@contextmanager
def _bulk_loader(location: str) -> Iterator[Callable[[list[tuple[Any, ...]]], None]]:
    """A function that appends observation rows in bulk, over a connection of its own."""
    columns = "observations (run_id, host, aspect, value_json, observed_at)"
    parsed = parse_location(location)
    if parsed.path is not None:
        db = sqlite3.connect(parsed.path)
        try:
            yield lambda rows: _sqlite_load(db, f"INSERT INTO {columns} VALUES (?, ?, ?, ?, ?)", rows)
        finally:
            db.close()
        return
    import psycopg

    with psycopg.connect(location, autocommit=True) as db:

        def load(rows: list[tuple[Any, ...]]) -> None:
            with db.cursor() as cursor, cursor.copy(f"COPY {columns} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

        yield load
        # A store that grew run by run over weeks has been vacuumed by autovacuum, and its pages are
        # on disk: without this, the report measured would be the first reads after a bulk load
        # (setting every row's hint bits, racing the checkpoint of that load).
        db.execute("VACUUM (ANALYZE) observations")
        db.execute("CHECKPOINT")


def _sqlite_load(db: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    with db:
        db.executemany(sql, rows)


# --- (c) recording ------------------------------------------------------------------------------


@dataclass
class PerEvent:
    cpu_us: float
    wall_us: float


def record_cost(location: str, events: int = EVENTS) -> PerEvent:
    """CPU and wall per ``Store.record`` of one probe result, in this process."""
    results = [probe_result(index, index % 2 == 0, with_plan=False) for index in range(events)]
    with open_store(location) as store:
        run_id = store.start_run("verify.yml")
        cpu, wall = time.process_time(), time.perf_counter()
        for index, result in enumerate(results):
            store.record(run_id, f"pc-{index:05d}", result)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return PerEvent(cpu / events * 1e6, wall / events * 1e6)


def scrub_cost(memoised: bool, events: int = EVENTS) -> float:
    """CPU per probe result of the secret-key scrub, with the per-key memo or deciding every key again."""
    from agentroll.store import secrets

    values = [value for index in range(events) for _, value in probe_result(index, True, with_plan=False)]
    if not memoised:
        secrets.is_secret_key = is_secret_key.__wrapped__  # type: ignore[assignment]
    try:
        cpu = time.process_time()
        for value in values:
            secrets.scrub(value)
        return (time.process_time() - cpu) / events * 1e6
    finally:
        secrets.is_secret_key = is_secret_key  # type: ignore[assignment]


# --- (d) the report -----------------------------------------------------------------------------


def report_in_fresh_process(location: str, hosts: int, fmt: str) -> dict[str, float]:
    """Build and render the report in a new interpreter: its wall, CPU and peak RSS."""
    command = [sys.executable, "-m", "agentroll.benchmarks.store", "report", location, str(hosts), fmt]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"report in a fresh process failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def _report_child(location: str, hosts: int, fmt: str) -> None:
    """The measured child: open read-only, build, render; print wall, CPU and peak RSS as JSON."""
    inventory = synthetic_district(hosts)
    cpu, wall = time.process_time(), time.perf_counter()
    with open_store(location, readonly=True) as store:
        report = report_from_store(inventory, store)
    if fmt == "json":
        rendered: str | bytes = to_json(report)
    else:
        from agentroll.reports import render

        rendered = render(report, fmt, "en")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": peak_mb, "bytes": len(rendered)}))


def history_the_old_way(inventory: Inventory, store: Store) -> dict[int, int]:
    """What the report did before: every host's views as of each run, one query per run."""
    names = [host.name for host in inventory.hosts]
    return {
        run.id: sum(states.is_installed(view) for view in store.views(names, as_of_run=run.id).values())
        for run in store.runs()
    }


# --- running it ---------------------------------------------------------------------------------


@contextmanager
def backends(scratch: Path, say: Callable[[str], None]) -> Iterator[dict[str, Callable[[str], str]]]:
    """Fresh store locations by backend name; PostgreSQL only where its server programs are installed."""
    places: dict[str, Callable[[str], str]] = {"sqlite": lambda name: str(scratch / f"{name}.sqlite")}
    with ExitStack() as stack:
        try:
            cluster = stack.enter_context(ScratchPostgres(durable=True))
            places["postgresql"] = cluster.fresh_store
        except PostgresUnavailable as error:
            say(f"  postgresql: not measured ({error})")
        yield places


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass
class StoreFigures:
    """What the store benchmarks measured: goal 6's verdicts and the tables behind them."""

    reports: list[dict[str, Any]]
    details: str

    def verdicts(self) -> list[Verdict]:
        """Goal 6: the report of the province-sized store, per backend and format."""
        rows = []
        for report in self.reports:
            limit = REPORT_SECONDS[report["format"]]
            measured = f"{report['store']}: {report['wall']:.2f} s, {report['rss_mb']:.0f} MB peak"
            passed = report["wall"] <= limit
            target = f"≤ {limit:.0f} s"
            if report["format"] == "json":
                passed = passed and report["rss_mb"] <= REPORT_MEGABYTES
                target += f", ≤ {REPORT_MEGABYTES} MB"
            rows.append(
                Verdict(f"6 report {report['format'].upper()}, {report['size']}", target, measured, passed)
            )
        return rows


def measure(hosts: int, runs: int, repeat: int, say: Callable[[str], None]) -> StoreFigures:
    """Every store benchmark: the figures and the tables to print."""
    with (
        tempfile.TemporaryDirectory(prefix="agentroll-bench-store-") as scratch,
        backends(Path(scratch), say) as where,
    ):
        recording = []
        per_backend: dict[str, list[PerEvent]] = {name: [] for name in where}
        for number in range(repeat):
            for name, place in where.items():
                per_backend[name].append(record_cost(place(f"events_{number}")))
            say(f"  (c) recording, round {number + 1}/{repeat}")
        for name, samples in per_backend.items():
            cpu = _median([sample.cpu_us for sample in samples])
            wall = _median([sample.wall_us for sample in samples])
            recording.append([name, f"{cpu:.0f} µs", f"{wall:.0f} µs"])
        memo = _median([scrub_cost(memoised=True) for _ in range(repeat)])
        again = _median([scrub_cost(memoised=False) for _ in range(repeat)])

        reports: list[dict[str, Any]] = []
        district = synthetic_district(hosts)
        size = f"{len(district.hosts):,} PCs x {runs} runs"
        for name, place in where.items():
            location = place("province")
            started = time.perf_counter()
            count = fill(location, district, runs)
            say(
                f"  (d) {name}: {count:,} observations of {len(district.hosts):,} PCs x {runs} runs "
                f"loaded in {time.perf_counter() - started:.0f} s"
            )
            formats = ("json", "html", "xlsx") if name == "sqlite" else ("json",)
            for fmt in formats:
                samples = [
                    report_in_fresh_process(location, hosts, fmt)
                    for _ in range(repeat if fmt == "json" else 1)
                ]
                wall = _median([s["wall"] for s in samples])
                cpu = _median([s["cpu"] for s in samples])
                rss = max(s["rss_mb"] for s in samples)
                reports.append(
                    {"store": name, "format": fmt, "wall": wall, "cpu": cpu, "rss_mb": rss, "size": size}
                )
                say(f"  (d) {name} {fmt}: {wall:.2f} s")

        small = synthetic_district(2_000)
        location = where["sqlite"]("district")
        fill(location, small, 10)
        with open_store(location, readonly=True) as store:
            old = time.perf_counter()
            before = history_the_old_way(small, store)
            old = time.perf_counter() - old
            new = time.perf_counter()
            after = report_from_store(small, store)
            new = time.perf_counter() - new
        same = [point["installed"] for point in after["history"]] == list(before.values())

    lines = [
        f"(c) recording one probe result (5 observations), per result, in the recording process, "
        f"median of {repeat}:",
        tabulate(recording, headers=["store", "CPU", "wall"], disable_numparse=True),
        f"    secret-key scrub per result: {memo:.1f} µs memoised vs {again:.1f} µs deciding every key "
        f"({again / memo:.1f}x); PostgreSQL's own server CPU is not in these figures.",
        "",
        f"(d) report of {len(district.hosts):,} PCs x {runs} runs from the store, in a fresh process:",
        tabulate(
            [
                [r["store"], r["format"], f"{r['wall']:.2f} s", f"{r['cpu']:.2f} s", f"{r['rss_mb']:.0f} MB"]
                for r in reports
            ],
            headers=["store", "format", "wall", "CPU", "peak RSS"],
            disable_numparse=True,
        ),
        f"    history of 2,000 PCs x 10 runs: one view query per run (before) {old:.2f} s vs the whole "
        f"report_from_store {new:.2f} s ({old / new:.1f}x); same coverage per run: {same}",
    ]
    return StoreFigures(reports, "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m agentroll.benchmarks.store``: the store's benchmarks on their own."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["report"]:
        _, location, hosts, fmt = arguments
        _report_child(location, int(hosts), fmt)
        return 0
    parser = argparse.ArgumentParser(prog="agentroll-bench-store", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hosts", type=int, default=HOSTS, help=f"PCs of the report's store (default {HOSTS})"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs in it (default {RUNS})")
    parser.add_argument("--repeat", type=int, default=3, help="samples of each figure (default 3)")
    args = parser.parse_args(arguments)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    say(f"agentroll store bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(measure(args.hosts, args.runs, args.repeat, say).details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
