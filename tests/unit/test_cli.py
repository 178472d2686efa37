"""The ``agentroll`` command: each sub-command, its output, and its one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentroll import cli
from agentroll.report import SCHEMA_PATH
from agentroll.store import Store

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "example"
AGENTROLL = REPO / ".venv" / "bin" / "agentroll"
RUN_FIRST = "run a playbook first, or give --state"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def empty_store(tmp_path: Path) -> str:
    """A state store that exists and holds nothing yet."""
    path = tmp_path / "empty-state.sqlite"
    Store(path).close()
    return str(path)


def test_names_on_the_example_before_anything_ran(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTROLL_STATE")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    state = tmp_path / "xdg" / "agentroll" / "state.sqlite"
    status, out, _ = run(capsys, "names", "-i", str(EXAMPLE), "--json")
    assert status == 0
    rows = json.loads(out)
    assert len(rows) == 8
    assert rows[0] == {
        "host": "tckh-01",
        "unit": "TCKH",
        "owner": "Đặng Đức",
        "computer_name": None,
        "standard_name": "TCKH-DUCD",
        "compliant": None,
    }
    assert not state.exists(), "reading must not create a state database"


def test_names_table_and_compliance_from_the_store(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    status, out, _ = run(capsys, "names", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path))
    assert status == 0
    header, _rule, *lines = out.splitlines()
    assert header.split() == [
        "host",
        "unit",
        "owner",
        "computer",
        "name",
        "standard",
        "name",
        "named",
        "right",
    ]
    vp02 = next(line for line in lines if line.startswith("vp-02"))
    assert "MAYPHUONG" in vp02 and "VP-PHUONGNT" in vp02 and vp02.endswith("NO")
    status, out, _ = run(
        capsys, "names", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "--json"
    )
    compliant = {row["host"]: row["compliant"] for row in json.loads(out)}
    assert (compliant["vp-01"], compliant["vp-02"], compliant["vp-05"]) == (True, False, None)


def test_names_with_a_template(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = run(
        capsys,
        "names",
        "-i",
        str(EXAMPLE),
        "--state",
        empty_store(tmp_path),
        "--json",
        "--template",
        "PC-{{ unit_code }}-{{ short }}",
    )
    assert status == 0
    assert {row["standard_name"] for row in json.loads(out)} >= {"PC-VP-THANGPV"}


def test_report_json_on_the_example_is_all_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = empty_store(tmp_path)
    status, out, _ = run(capsys, "report", "-i", str(EXAMPLE), "--state", state, "--format", "json")
    assert status == 0
    report = json.loads(out)
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    assert report["totals"]["coverage_pct"] == 0.0
    assert report["totals"]["states"]["unknown"] == report["totals"]["hosts"] == 8


def test_report_to_a_file_picks_the_format_from_the_suffix(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    output = tmp_path / "reports" / "coverage.json"
    status, out, _ = run(
        capsys, "report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "-o", str(output)
    )
    assert (status, out) == (0, "")
    report = json.loads(output.read_text(encoding="utf-8"))
    assert (report["totals"]["installed"], report["totals"]["coverage_pct"]) == (4, 44.4)
    assert [point["run_id"] for point in report["history"]] == [1, 2]


def test_report_reads_agentroll_state_by_default(
    capsys: pytest.CaptureFixture[str],
    tiny_inventory_dir: Path,
    tiny_store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENTROLL_STATE", str(tiny_store_path))
    status, out, _ = run(capsys, "report", "-i", str(tiny_inventory_dir), "--format", "json")
    assert status == 0 and json.loads(out)["totals"]["installed"] == 4


def test_report_text_goes_through_the_renderers(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    status, out, _ = run(capsys, "report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path))
    assert status == 0
    assert "Văn phòng UBND" in out and "44.4" in out


def test_stragglers_one_host_a_line(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    status, out, _ = run(capsys, "stragglers", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path))
    assert status == 0
    assert out == "tp-01\ntp-02\nvp-02\nvp-05\nxa-02\n"
    limit_file = tmp_path / "retry.txt"
    status, out, err = run(
        capsys,
        "stragglers",
        "-i",
        str(tiny_inventory_dir),
        "--state",
        str(tiny_store_path),
        "-o",
        str(limit_file),
    )
    assert (status, out) == (0, "")
    assert limit_file.read_text(encoding="utf-8") == "tp-01\ntp-02\nvp-02\nvp-05\nxa-02\n"
    assert "5 straggler(s)" in err


def test_roster_import_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    roster = EXAMPLE / "roster"
    output = tmp_path / "district"
    status, _, err = run(
        capsys,
        "roster",
        "import",
        "--units",
        str(roster / "units.csv"),
        "--pcs",
        str(roster / "pcs.csv"),
        "-o",
        str(output),
    )
    assert status == 0 and "3 unit(s), 8 PC(s)" in err
    status, _, err = run(
        capsys,
        "roster",
        "import",
        "--units",
        str(roster / "units.csv"),
        "--pcs",
        str(roster / "pcs.csv"),
        "-o",
        str(output),
    )
    assert status == 2
    assert err == (
        f"agentroll: error: {output}: directory is not empty; use --force to overwrite its inventory files\n"
    )
    status, out, _ = run(capsys, "names", "-i", str(output), "--state", empty_store(tmp_path), "--json")
    assert status == 0 and len(json.loads(out)) == 8


def test_roster_errors_are_one_line_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "units.csv").write_text("code,name,licenses\nVP,Văn phòng,abc\n", encoding="utf-8")
    (tmp_path / "pcs.csv").write_text("unit,address\nVP,10.0.0.1\nXYZ,10.0.0.2\n", encoding="utf-8")
    status, _, err = run(
        capsys,
        "roster",
        "import",
        "--units",
        str(tmp_path / "units.csv"),
        "--pcs",
        str(tmp_path / "pcs.csv"),
        "-o",
        str(tmp_path / "out"),
    )
    assert status == 2
    assert err.splitlines() == [
        "agentroll: error: units.csv row 2: licenses 'abc' is not a non-negative integer",
        "agentroll: error: pcs.csv row 3: unknown unit 'XYZ'",
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["roster", "import", "--units", "u.csv", "-o", "out"],
        ["roster", "import", "--workbook", "w.xlsx", "--units", "u.csv", "-o", "out"],
    ],
)
def test_roster_option_combinations(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2 and err.startswith("agentroll: error: give ") and err.count("\n") == 1


def test_missing_inventory_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "report", "-i", str(tmp_path / "nowhere"), "--format", "json")
    assert (status, out) == (2, "")
    assert err == f"agentroll: error: inventory '{tmp_path / 'nowhere'}' does not exist\n"


def test_invalid_inventory_lists_every_problem(
    capsys: pytest.CaptureFixture[str], make_inventory_dir: Any, tmp_path: Path
) -> None:
    path = make_inventory_dir(
        {
            "all": {
                "children": {
                    "units": {
                        "children": {
                            "a": {"vars": {"agentroll_unit_code": "a", "agentroll_licenses": 1}},
                            "b": {"vars": {"agentroll_unit_code": "B", "agentroll_licenses": -1}},
                        }
                    }
                }
            }
        }
    )
    status, _, err = run(capsys, "names", "-i", str(path), "--state", str(tmp_path / "s"))
    assert status == 2
    assert err.splitlines() == [
        f"agentroll: error: {path}: unit group 'a': agentroll_unit_code 'a' does not match [A-Z0-9]{{1,8}}",
        f"agentroll: error: {path}: unit group 'b': agentroll_licenses -1 is not a non-negative integer",
    ]


def test_bad_naming_template_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(
        capsys, "names", "-i", str(EXAMPLE), "--state", str(tmp_path / "s"), "--template", "{{ unit_code "
    )
    assert status == 2 and err.startswith("agentroll: error: ") and err.count("\n") == 1


def test_corrupted_store_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    state.write_bytes(b"garbage" * 1000)
    status, _, err = run(capsys, "stragglers", "-i", str(EXAMPLE), "--state", str(state))
    assert status == 2
    assert err.startswith(f"agentroll: error: state store {state} ") and err.count("\n") == 1


def test_unwritable_output_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    status, _, err = run(
        capsys,
        "stragglers",
        "-i",
        str(EXAMPLE),
        "--state",
        str(tmp_path / "s"),
        "-o",
        str(blocker / "retry.txt"),
    )
    assert status == 2 and err.startswith("agentroll: error: ") and err.count("\n") == 1


def test_every_sub_command_is_there() -> None:
    parser = cli.build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    assert set(commands.choices) == {
        "report",
        "stragglers",
        "names",
        "roster",
        "rerun",
        "watch",
        "bundle",
        "receipts",
        "console",
        "sim",
        "demo",
    }


def test_rerun_without_a_state_database_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.sqlite"
    status, out, err = run(capsys, "rerun", "-i", str(tiny_inventory_dir), "--state", str(missing))
    assert (status, out) == (2, "")
    assert err == f"agentroll: error: state store {missing} does not exist: {RUN_FIRST}\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rounds", "0"], "rounds must be at least 1"),
        (["-i", "nowhere"], "inventory 'nowhere' does not exist"),
    ],
)
def test_rerun_usage_errors_are_one_line_with_status_2(
    capsys: pytest.CaptureFixture[str],
    tiny_inventory_dir: Path,
    tiny_store_path: Path,
    argv: list[str],
    message: str,
) -> None:
    base = ["rerun", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path)]
    status, out, err = run(capsys, *base, *argv)
    assert (status, out, err) == (2, "", f"agentroll: error: {message}\n")


def test_installed_command_and_python_dash_m(tmp_path: Path) -> None:
    env_state = empty_store(tmp_path)
    completed = subprocess.run(
        [str(AGENTROLL), "stragglers", "-i", str(EXAMPLE), "--state", env_state],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(completed.stdout.splitlines()) == 8
    completed = subprocess.run(
        [sys.executable, "-m", "agentroll", "report", "-i", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "Traceback" not in completed.stderr
    assert completed.stderr.startswith("agentroll: error: inventory ")


def test_version_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("agentroll ")
    with pytest.raises(SystemExit) as exited:
        cli.main(["report"])
    assert exited.value.code == 2 and "-i/--inventory" in capsys.readouterr().err


def test_report_shows_times_in_the_zone_asked_for(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    base = ("report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "--format", "csv")
    _, default, _ = run(capsys, *base)
    _, utc, _ = run(capsys, *base, "--tz", "UTC")
    # vp-01 was last seen 2026-12-02T09:10:00Z.
    assert ",2026-12-02 16:10," in default and ",2026-12-02 09:10," in utc
    _, vietnamese, _ = run(capsys, *base, "--lang", "vi")
    assert ",02/12/2026 16:10," in vietnamese


def test_an_unknown_time_zone_is_one_line(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["report", "-i", str(tiny_inventory_dir), "--tz", "Mars/Olympus"])
    assert raised.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "agentroll report: error: argument --tz: unknown time zone 'Mars/Olympus'; "
        "give an IANA name such as 'Asia/Ho_Chi_Minh' or 'UTC'"
    )


@pytest.mark.parametrize("name", ["coverage.pdf", "coverage", "coverage.xls"])
def test_an_output_file_without_a_known_format_is_refused(
    capsys: pytest.CaptureFixture[str],
    tiny_inventory_dir: Path,
    tiny_store_path: Path,
    tmp_path: Path,
    name: str,
) -> None:
    output = tmp_path / name
    argv = ["report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "-o", str(output)]
    status, out, err = run(capsys, *argv)
    suffix = output.suffix or "(none)"
    assert (status, out) == (2, "")
    assert err == (
        f"agentroll: error: -o {output}: no report format for the extension '{suffix}'; use one of "
        ".csv, .docx, .htm, .html, .json, .md, .txt, .xlsx, or give --format\n"
    )
    assert not output.exists()
    # --format says what to write, whatever the name.
    assert run(capsys, *argv, "--format", "json")[0] == 0
    assert json.loads(output.read_text(encoding="utf-8"))["totals"]["installed"] == 4


def test_fail_under_exits_1_below_the_coverage_after_writing_the_report(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path, tmp_path: Path
) -> None:
    output = tmp_path / "coverage.json"
    base = ["report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "-o", str(output)]
    status, _, err = run(capsys, *base, "--fail-under", "50")
    assert (status, err) == (1, "agentroll: coverage of the district 44.4 % is below --fail-under 50 %\n")
    assert json.loads(output.read_text(encoding="utf-8"))["totals"]["coverage_pct"] == 44.4
    assert run(capsys, *base, "--fail-under", "44.4")[:3:2] == (0, "")


@pytest.mark.parametrize(
    ("value", "problem"),
    [("high", "'high' is not a number"), ("101", "101 is not a percentage from 0 to 100")],
)
def test_fail_under_takes_a_percentage(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, value: str, problem: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["report", "-i", str(tiny_inventory_dir), "--fail-under", value])
    assert exit_info.value.code == 2
    assert f"argument --fail-under: {problem}" in capsys.readouterr().err


def test_fail_under_judges_the_unit_asked_for(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    base = ["report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "--format", "json"]
    unit = json.loads(run(capsys, *base, "--unit", "VP")[1])["totals"]["coverage_pct"]
    status, _, err = run(capsys, *base, "--unit", "VP", "--fail-under", str(unit + 0.1))
    assert (status, err) == (
        1,
        f"agentroll: coverage of unit VP {unit:.1f} % is below --fail-under {unit + 0.1:g} %\n",
    )
    assert run(capsys, *base, "--unit", "VP", "--fail-under", str(unit))[0] == 0
