"""``make bench``'s goals table: how pairs of runs become verdicts, and the benchmarks' error paths."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

from agentroll import bench
from agentroll.benchmarks.fleet import SeparateFleet, separate_fleet
from agentroll.benchmarks.playbooks import (
    CallbackCost,
    Pairs,
    ReadOnlyFigures,
    Sample,
    ScaleFigures,
    SiteFigures,
)


def _pairs(a: list[tuple[float, float, int]], b: list[tuple[float, float, int]]) -> Pairs:
    def sample(wall: float, cpu: float, events: int) -> Sample:
        return Sample(wall=wall, cpu=cpu, fleet_cpu=0.0, events=events)

    return Pairs(a=[sample(*s) for s in a], b=[sample(*s) for s in b])


def _figures(dry_run: Pairs, callback: Pairs) -> ReadOnlyFigures:
    return ReadOnlyFigures(hosts=200, dry_run=dry_run, callback=callback, verify_calls={1: 200})


def test_the_dry_run_goal_takes_the_median_of_the_pairs_ratios_in_cpu_and_wall() -> None:
    # Pair ratios (CPU): 1.10, 1.30, 1.15 -> median 1.15; wall 1.0 each.
    dry_run = _pairs([(10, 10, 0), (10, 10, 0), (10, 20, 0)], [(10, 11, 0), (10, 13, 0), (10, 23, 0)])
    verdict = bench.dry_run_goal(_figures(dry_run, dry_run))
    assert verdict.passed is True
    assert "CPU 1.15 (1.10..1.30), wall 1.00 (1.00..1.00)" in verdict.measured


def test_a_dry_run_slower_in_wall_time_alone_fails_the_goal() -> None:
    dry_run = _pairs([(10, 10, 0)], [(13, 10, 0)])
    assert bench.dry_run_goal(_figures(dry_run, dry_run)).passed is False


def _cost(result_seconds: float, faults: int, ansible_copy: float, writer: float = 0.0) -> CallbackCost:
    """200 results and 200 starts (1 ms in all), 0.15 s of fixed work."""
    return CallbackCost(
        results=200,
        result_seconds=result_seconds,
        result_page_faults=faults,
        ansible_copy_seconds=ansible_copy,
        starts=200,
        start_seconds=0.001,
        fixed_seconds=0.15,
        writer_seconds=writer,
    )


def test_the_callback_share_is_whole_process_pairs_and_its_cost_per_result_its_whole_handlers() -> None:
    # Pairs off/on: shares 2.5 %, 5 %, 0 %, 4 %, 1 % -> median 2.5 %; the callback counted 0.06 s
    # in 200 results (300 us each, of which 200 us Ansible's copy of the result; 20 page faults
    # each), 1 ms in 200 starts (5 us each), 0.15 s of fixed work and 0.02 s in its writer
    # (100 us per result): 0.231 s of 10 s, 2.3 %; over all 400 events, 152 us each.
    cost = _cost(result_seconds=0.06, faults=4000, ansible_copy=0.04, writer=0.02)
    off = [(20, 9.75, 400), (20, 9.5, 400), (20, 10.0, 400), (20, 9.6, 400), (20, 9.9, 400)]
    callback = _pairs(off, [(20, 10.0, 400)] * 5)
    for sample in callback.b:
        sample.callback = cost
    figures = _figures(callback, callback)
    # Recording inside ansible-playbook: 0.16 s in 200 results, 60 page faults each.
    alone = _cost(result_seconds=0.16, faults=12000, ansible_copy=0.04)
    figures.in_process = [Sample(wall=20, cpu=10.0, fleet_cpu=1.0, events=400, callback=alone)]
    share, per_event = bench.callback_goals(figures)
    assert (share.passed, per_event.passed) == (True, False)
    assert share.measured.startswith(
        "verify.yml, 200 PCs, 5 pairs off/on: 2.5% (quartiles 0.5%..4.5%, 0.0%..5.0%)"
    )
    assert share.measured.endswith("its hooks' own count 2.3% (quartiles 2.3%..2.3%, 2.3%..2.3%)")
    assert per_event.target == "≤ 50 µs CPU per result"
    assert per_event.measured.startswith(
        "300 µs (300..300) per result, its whole handler in Ansible's main loop: 200 µs Ansible "
        "building the result's dict for this callback, 100 µs its own; 20 page faults each"
    )
    assert "200 results and 200 starts per run, a start 5 µs, 152 µs over all events" in per_event.measured
    assert "the writer process 100 µs per result" in per_event.measured
    assert "fixed part 0.15 s per run" in per_event.measured
    assert per_event.measured.endswith("(writer: false): 800 µs, 60 page faults per result")


def test_the_callback_per_event_goal_passes_on_the_whole_handler_of_a_result() -> None:
    callback = _pairs([(20, 10.0, 400)], [(20, 10.0, 400)])
    callback.b[0].callback = _cost(result_seconds=0.009, faults=0, ansible_copy=0.005)
    _, per_event = bench.callback_goals(_figures(callback, callback))
    assert per_event.passed is True
    assert per_event.measured.startswith("45 µs (45..45) per result")


def test_the_callback_share_fails_when_its_own_count_exceeds_the_goal_whatever_the_pairs_say() -> None:
    # The pairs see nothing (the same CPU off and on); the callback counted 0.4 s of 10 s: 4 %.
    cost = _cost(result_seconds=0.249, faults=0, ansible_copy=0.1)
    callback = _pairs([(20, 10.0, 400)] * 3, [(20, 10.0, 400)] * 3)
    for sample in callback.b:
        sample.callback = cost
    share, _ = bench.callback_goals(_figures(callback, callback))
    assert share.passed is False
    assert share.measured.endswith("its hooks' own count 4.0% (4.0%..4.0%)")


def test_a_run_whose_callback_wrote_no_cost_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"the coverage callback wrote no cost file .*cost\.json"):
        CallbackCost.read(tmp_path / "cost.json")


def test_a_cost_file_without_ansible_playbook_s_own_figures_is_one_clear_error(tmp_path: Path) -> None:
    cost = tmp_path / "cost.json"
    cost.write_text('{"events": {}, "ansible_copy_seconds": 0, "fixed_seconds": 0}', encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"cost file .*cost\.json has no 'main_process'"):
        CallbackCost.read(cost)


def test_the_linear_goal_says_where_the_cpu_per_pc_went_at_each_size() -> None:
    def run(cpu: float, main_user: float, main_system: float, peak_mb: int) -> Sample:
        sample = Sample(wall=cpu / 2, cpu=cpu, fleet_cpu=0.0, events=0)
        sample.callback = dataclasses.replace(
            _cost(result_seconds=0.0, faults=0, ansible_copy=0.0, writer=0.5),
            main_user_seconds=main_user,
            main_system_seconds=main_system,
            main_peak_rss_kb=peak_mb * 1024,
        )
        return sample

    # 200 PCs: 17 s of CPU, of which 3 s in ansible-playbook's own process (1.4 s system) and 0.5 s
    # in the writer: 15 ms/PC there, 67.5 ms/PC in its workers. 2,000 PCs: 190 s; 32 s (17.2 s system).
    pairs = Pairs(a=[run(17.0, 1.6, 1.4, 80)] * 2, b=[run(190.0, 14.8, 17.2, 125)] * 2)
    scale = ScaleFigures(small=200, large=2_000, pairs=pairs, largest=None, largest_sample=None)
    [verdict] = bench.linear_goals(scale)
    assert verdict.passed is False  # CPU 11.18
    assert "CPU 11.18 (11.18..11.18); 200 PCs: 85 ms CPU/PC, 2,000 PCs: 95 ms CPU/PC; " in verdict.measured
    assert verdict.measured.endswith(
        "; per PC at 200 PCs: ansible-playbook's own process 15.0 ms/PC (7.0 system), peak 80 MB; "
        "its workers 67.5 ms/PC, at 2,000 PCs: ansible-playbook's own process 16.0 ms/PC (8.6 system), "
        "peak 125 MB; its workers 78.8 ms/PC"
    )


def test_goals_not_run_print_no_verdict() -> None:
    assert [v.passed for v in bench.linear_goals(None)] == [None]
    assert bench.linear_goals(None)[0].row()[-1] == "-"


def test_a_fleet_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    with (
        pytest.raises(
            RuntimeError, match=r"the simulated fleet exited with status 2 \(.*fleet\.log\): .*hosts"
        ),
        separate_fleet(0, tmp_path),
    ):
        pass


def test_the_wall_goals_say_how_far_each_run_is_from_its_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "CORES", 2)
    # win_ping: 20 s of CPU over 200 PCs, 100 ms a call. 190 fresh PCs, 5 calls each (one PC 6:
    # 5.0 on average) on 2 cores: 47.5 s at least; 95 s is 2.0x that.
    ping = _pairs([(30, 20.0, 200)], [(30, 22.0, 200)])
    site = SiteFigures(
        hosts=190,
        fresh=Sample(wall=95.0, cpu=170.0, fleet_cpu=0.0, events=0),
        fresh_calls={5: 189, 6: 1},
        compliant_calls={1: 190},
        compliant=ping,
        waiting=Sample(wall=110.0, cpu=180.0, fleet_cpu=10.0, events=0),
        reboot_waits=[3.0, 5.0],
        fresh_reboot_waits=[0.04, 0.06],
    )
    dry, fresh = bench.wall_goals(_figures(ping, ping), site, None)
    assert dry.passed is None
    assert (
        dry.measured
        == "not run (make bench-full); floor 2,000 x 1 call x 100 ms (win_ping) / 2 cores = 100 s"
    )
    assert fresh.passed is False
    assert fresh.measured == (
        "190 PCs whose reboots leave nothing to wait for (2 reboots, 0.05 s each (median), 0 s in all): "
        "95.0 s wall, 170.0 s CPU; 2.0x its floor 190 x 5 calls x 100 ms (win_ping) / 2 cores = 48 s "
        "(file transfer and reboot commands not counted); its CPU and the fleet's on 2 cores alone take "
        "85 s. With the reboots' own wait (win_reboot's 2 s minimum shutdown delay, a 0.2 s boot, its "
        "back-off polling (2 reboots, 4.00 s each (median), 8 s in all)): 110.0 s wall, 180.0 s CPU; "
        "its CPU and the fleet's on 2 cores alone take 95 s"
    )
    # The verdict is on the run without the wait, whatever the run with it took.
    site.fresh = Sample(wall=58.0, cpu=100.0, fleet_cpu=0.0, events=0)
    assert bench.wall_goals(_figures(ping, ping), site, None)[1].passed is True
    # A smaller bench (--site-hosts) says its figures, but no verdict.
    site.hosts, site.waiting = 20, None
    small = bench.wall_goals(_figures(ping, ping), site, None)[1]
    assert small.passed is None and "With the reboots' own wait" not in small.measured


def test_a_reboot_s_wait_is_from_its_shutdown_command_to_its_test_command() -> None:
    journal = {
        "192.0.2.1": [
            {"kind": "module", "time": 10.0},
            {"kind": "reboot_boot_time", "time": 11.0},
            {"kind": "reboot_shutdown", "time": 11.5},
            # Polled while the boot time had not changed yet, then again once it had.
            {"kind": "reboot_boot_time", "time": 11.6},
            {"kind": "reboot_boot_time", "time": 14.0},
            {"kind": "reboot_test", "time": 14.5},
            {"kind": "module", "time": 15.0},
        ],
        # A PC whose reboot was its last command: nothing to measure it against.
        "192.0.2.2": [{"kind": "reboot_shutdown", "time": 20.0}],
    }
    control = SimpleNamespace(journal=journal.__getitem__)
    fleet = SeparateFleet(process=None, control=control, addresses=list(journal), port=0, scheme="http")  # type: ignore[arg-type]
    assert fleet.reboot_waits(list(journal)) == [3.0]
