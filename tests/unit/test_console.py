"""``agentroll console import`` and the four-way truth: the CLI reads, checks and records an export, the
report matches it to the inventory and puts the console's count beside agentroll's."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest

from agentroll import cli
from agentroll.model import Aspect
from agentroll.report import SCHEMA_PATH
from agentroll.reports import render
from agentroll.reports.xlsx import LINE_HEIGHT
from agentroll.store import Store
from tests.unit.conftest import CONTACT_OK, RUNNING_AGENT, TINY_DISTRICT

#: A moment after the tiny district's two runs, before its console export.
AFTER_THE_TINY_RUNS = datetime(2026, 12, 3, 1, 5, tzinfo=UTC)
#: The tiny district's console, exported on 2026-12-04 at 08:00 local time (01:00 UTC).
EXPORTED_AT = "2026-12-04 08:00"
VIETNAMESE_EXPORT = (
    "Tên máy,Địa chỉ IP,Địa chỉ MAC,Lần kết nối cuối,Phiên bản,Nhóm\n"
    "VP-THANGPV,192.0.2.1,,03/12/2026 16:20,7.1,VP\n"  # by address, reporting
    "mayphuong,192.0.2.2,,04/12/2026 07:55,7.1,VP\n"  # by address, name not standard yet
    "TP-ANTV,192.0.2.11,,14/11/2026 09:00,7.1,TP\n"  # by address, last report 20 days before the export
    "KETOAN-01,192.0.2.99,,04/12/2026 07:30,7.1,TP\n"  # nobody's: the roster forgot it
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def import_export(
    capsys: pytest.CaptureFixture[str], inventory: Path, state: Path, export: Path, *extra: str
) -> tuple[int, str]:
    status, _, err = run(
        capsys, "console", "import", str(export), "-i", str(inventory), "--state", str(state), *extra
    )
    return status, err


def report_json(capsys: pytest.CaptureFixture[str], inventory: Path, state: Path) -> dict[str, Any]:
    status, out, err = run(capsys, "report", "-i", str(inventory), "--state", str(state), "--format", "json")
    assert status == 0, err
    return json.loads(out)


def imported_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, inventory: Path, state: Path
) -> dict[str, Any]:
    """The report after the Vietnamese export (exported at EXPORTED_AT) was imported."""
    export = write(tmp_path, "console.csv", VIETNAMESE_EXPORT)
    status, err = import_export(capsys, inventory, state, export, "--exported-at", EXPORTED_AT)
    assert status == 0, err
    return report_json(capsys, inventory, state)


def console_rows(state: Path) -> int:
    with sqlite3.connect(state) as connection:
        return connection.execute("SELECT count(*) FROM console_exports").fetchone()[0]


def test_a_vietnamese_export_is_recorded_and_matched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    export = write(tmp_path, "console.csv", VIETNAMESE_EXPORT)
    status, err = import_export(
        capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT
    )
    assert status == 0, err
    assert err == (
        "agentroll: recorded console export 1 (4 entries, exported 2026-12-04 01:00 UTC, as given): "
        "matched 3 (3 by address), 1 not in the inventory, 0 ambiguous, 0 conflicting\n"
    )
    report = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    hosts = {host["host"]: host["console"] for host in report["hosts"]}
    assert hosts["vp-01"] == {
        "computer_name": "VP-THANGPV",
        "matched_by": "address",
        "last_seen": "2026-12-03T09:20:00Z",
        "agent_version": "7.1",
        "truth": "reporting",
        "decided_by": "console",
        "cause": None,
        "name_truth": None,
        "name_cause": None,
    }
    assert (hosts["vp-02"]["matched_by"], hosts["vp-02"]["truth"], hosts["vp-02"]["name_truth"]) == (
        "address",
        "reporting",
        "rename_pending",
    )
    assert hosts["vp-02"]["name_cause"] == {
        "code": "console_rename_pending",
        "console_name": "mayphuong",
        "standard_name": "VP-PHUONGNT",
    }
    assert (hosts["tp-01"]["truth"], hosts["tp-01"]["cause"]) == (
        "stale",
        {"code": "console_stale", "days": 19},
    )
    # xa-02 has the agent (its service stopped) and the console does not list it.
    assert (hosts["xa-02"]["truth"], hosts["xa-02"]["cause"]) == (
        "not_reporting",
        {"code": "console_not_listed"},
    )
    assert hosts["vp-03"]["truth"] == "absent"
    console = report["console"]
    assert (console["entries"], console["reporting"], console["matched"], console["not_reporting"]) == (
        4,
        3,
        3,
        2,
    )
    assert [(entry["computer_name"], entry["hint"], entry["unit"]) for entry in console["unknown"]] == [
        ("KETOAN-01", "add_to_roster", "TP")
    ]
    # The console's figure is official by default: 3 agents report (KETOAN-01 among them) of 9 licenses.
    assert report["official"] == "console"
    assert (report["totals"]["official_installed"], report["totals"]["official_coverage_pct"]) == (3, 33.3)
    assert (report["totals"]["installed"], report["totals"]["coverage_pct"]) == (4, 44.4)
    units = {
        unit["code"]: (unit["console_reporting"], unit["console_coverage_pct"]) for unit in report["units"]
    }
    assert units == {"VP": (2, 50.0), "TP": (0, 0.0), "XA": (0, 0.0)}


def test_the_same_export_twice_is_recorded_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    export = write(tmp_path, "console.csv", VIETNAMESE_EXPORT)
    assert (
        import_export(capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT)[0]
        == 0
    )
    status, err = import_export(
        capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT
    )
    assert status == 0
    assert err.startswith("agentroll: already recorded console export 1 (4 entries")
    assert console_rows(tiny_store_path) == 1


def test_an_xlsx_export_in_english_takes_its_time_from_the_workbook(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Computer Name", "IP Address", "Last Seen", "Agent Version"])
    sheet.append(["vp-thangpv", "192.0.2.1", datetime(2026, 12, 4, 7, 0), "7.1"])
    sheet.append(["XA-NAMA", "192.0.2.22", None, "7.1"])  # never reported
    workbook.properties.created = datetime(2026, 12, 4, 1, 30)  # UTC, as document properties are
    export = tmp_path / "endpoints.xlsx"
    workbook.save(export)
    status, err = import_export(capsys, tiny_inventory_dir, tiny_store_path, export)
    assert status == 0, err
    assert "(2 entries, exported 2026-12-04 01:30 UTC, from the workbook)" in err
    report = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    hosts = {host["host"]: host["console"] for host in report["hosts"]}
    assert (hosts["vp-01"]["last_seen"], hosts["vp-01"]["truth"]) == ("2026-12-04T00:00:00Z", "reporting")
    assert (hosts["xa-02"]["truth"], hosts["xa-02"]["cause"]) == ("stale", {"code": "console_never_reported"})


@pytest.mark.parametrize(
    ("name", "content", "encoding", "message"),
    [
        (
            "columns.csv",
            "Máy,Địa chỉ IP,Lần kết nối cuối\nVP-THANGPV,192.0.2.1,03/12/2026 16:20\n",
            "utf-8",
            "columns.csv: no column for computer_name (tried: computer name, computer, ",
        ),
        (
            "dates.csv",
            "Tên máy,Lần kết nối cuối\nVP-THANGPV,03/12/2026 16:20\nVP-PHUONGNT,hôm qua\n",
            "utf-8",
            "dates.csv row 3, column 'lần kết nối cuối': 'hôm qua' is not a date and time",
        ),
        (
            "twice.csv",
            "Tên máy,Địa chỉ MAC,Lần kết nối cuối\n"
            "A,00:1a:2b:3c:4d:5e,03/12/2026\n"
            "B,00-1A-2B-3C-4D-5E,03/12/2026\n",
            "utf-8",
            "twice.csv row 3: duplicate of row 2 (MAC 00-1A-2B-3C-4D-5E)",
        ),
        ("empty.csv", "", "utf-8", "empty.csv: the file is empty"),
        (
            "header-only.csv",
            "Tên máy,Lần kết nối cuối\n",
            "utf-8",
            "header-only.csv: no entries below the header",
        ),
        (
            "unicode.txt",
            "Tên máy\tLần kết nối cuối\nMÁY-KẾ-TOÁN\t03/12/2026\n",
            "utf-16",
            "unicode.txt: not UTF-8 text; save it from Excel as 'CSV UTF-8'",
        ),
        (
            "twice-header.csv",
            "Tên máy,Tên máy,Lần kết nối cuối\nA,B,03/12/2026\n",
            "utf-8",
            "twice-header.csv: column 'tên máy' appears 2 times",
        ),
        (
            "same-name.csv",
            "Tên máy,IP,Lần kết nối cuối\nKETOAN,192.0.2.50,03/12/2026\nketoan,192.0.2.50,04/12/2026\n",
            "utf-8",
            "same-name.csv row 3: duplicate of row 2 (computer name 'ketoan')",
        ),
        (
            "mac.csv",
            "Tên máy,MAC,Lần kết nối cuối\nA,00-1A-2B,03/12/2026\n",
            "utf-8",
            "mac.csv row 2, column 'mac': '00-1A-2B' is not a MAC address",
        ),
        (
            "nameless.csv",
            "Tên máy,IP,Lần kết nối cuối\n,192.0.2.50,03/12/2026\n",
            "utf-8",
            "nameless.csv row 2, column 'tên máy': the computer name is empty",
        ),
        (
            "not-a-workbook.xlsx",
            "Tên máy,Lần kết nối cuối\n",
            "utf-8",
            "not-a-workbook.xlsx: not a readable XLSX workbook",
        ),
        (
            "address.csv",
            "Tên máy,IP,Lần kết nối cuối\nA,192.0.2.300,03/12/2026\n",
            "utf-8",
            "address.csv row 2, column 'ip': '192.0.2.300' is not an IP address",
        ),
    ],
)
def test_a_bad_export_gets_one_line_and_nothing_is_recorded(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_inventory_dir: Path,
    tiny_store_path: Path,
    name: str,
    content: str,
    encoding: str,
    message: str,
) -> None:
    export = write(tmp_path, name, content, encoding)
    status, err = import_export(
        capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT
    )
    assert status == 2
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"agentroll: error: {message}")
    assert console_rows(tiny_store_path) == 0


def test_a_bad_export_time_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    export = write(tmp_path, "console.csv", VIETNAMESE_EXPORT)
    status, err = import_export(
        capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", "last week"
    )
    assert (status, err) == (
        2,
        "agentroll: error: --exported-at: 'last week' is not a date and time "
        "(like 2026-11-05 08:30 or 05/11/2026 08:30)\n",
    )
    assert console_rows(tiny_store_path) == 0


def test_the_districts_own_headers_and_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make_inventory_dir: Any, tiny_store_path: Path
) -> None:
    inventory = make_inventory_dir(
        TINY_DISTRICT,
        group_vars={
            "all": {
                "agentroll_console_columns": {
                    "computer_name": "Máy trạm quản lý",
                    "last_seen": ["Báo cáo cuối"],
                },
                "agentroll_console_stale_days": 30,
                "agentroll_console_official": "agentroll",
            }
        },
    )
    export = write(tmp_path, "own.csv", "Máy trạm quản lý;Báo cáo cuối\nTP-ANTV;14/11/2026 09:00\n")
    status, err = import_export(capsys, inventory, tiny_store_path, export, "--exported-at", EXPORTED_AT)
    assert status == 0, err
    report = report_json(capsys, inventory, tiny_store_path)
    tp01 = next(host for host in report["hosts"] if host["host"] == "tp-01")
    assert (tp01["console"]["matched_by"], tp01["console"]["truth"]) == ("name", "reporting")
    assert report["official"] == "agentroll"
    assert report["totals"]["official_installed"] == report["totals"]["installed"] == 4


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"agentroll_console_official": "province"},
            "group 'all': agentroll_console_official 'province' is not one of console, agentroll",
        ),
        (
            {"agentroll_console_columns": {"owner": "Người dùng"}},
            "group 'all': agentroll_console_columns: unknown field 'owner'; fields: computer_name, address, "
            "mac, last_seen, agent_version, group",
        ),
        (
            {"agentroll_console_columns": ["Tên máy"]},
            "group 'all': agentroll_console_columns must map fields (computer_name, address, mac, last_seen, "
            "agent_version, group) to header names",
        ),
        (
            {"agentroll_console_columns": {"mac": 12}},
            "group 'all': agentroll_console_columns: mac must be a header name or a list of header names",
        ),
        (
            {"agentroll_console_stale_days": -1},
            "group 'all': agentroll_console_stale_days -1 is not a whole number of days (>= 0)",
        ),
    ],
)
def test_bad_console_settings_name_the_variable(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    make_inventory_dir: Any,
    tiny_store_path: Path,
    variables: dict[str, Any],
    message: str,
) -> None:
    inventory = make_inventory_dir(TINY_DISTRICT, group_vars={"all": variables})
    export = write(tmp_path, "console.csv", VIETNAMESE_EXPORT)
    status, err = import_export(capsys, inventory, tiny_store_path, export, "--exported-at", EXPORTED_AT)
    assert status == 2
    assert err.startswith(f"agentroll: error: {inventory}: {message}\n")
    assert console_rows(tiny_store_path) == 0


def with_macs(hosts: dict[str, str]) -> dict[str, Any]:
    """The tiny district with MAC addresses on some PCs."""
    document = json.loads(json.dumps(TINY_DISTRICT))
    units = document["all"]["children"]["units"]["children"]
    vp = units["departments"]["children"]["unit_vp"]["hosts"]
    for host, mac in hosts.items():
        vp[host]["agentroll_mac"] = mac
    return document


def test_ambiguous_and_conflicting_entries_are_listed_not_guessed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make_inventory_dir: Any, tiny_store_path: Path
) -> None:
    inventory = make_inventory_dir(with_macs({"vp-01": "02-00-00-00-00-01", "vp-04": "02-00-00-00-00-04"}))
    with Store(tiny_store_path) as store:
        run_id = store.start_run("verify.yml", started_at=datetime(2026, 12, 3, 1, 0, tzinfo=UTC))
        for host in ("vp-04", "vp-06"):  # two PCs that carry the same name
            store.record(
                run_id,
                host,
                [(Aspect.CONTACT, CONTACT_OK), (Aspect.NAME, {"computer_name": "KETOAN"})],
                AFTER_THE_TINY_RUNS,
            )
        store.finish_run(run_id, "ok")
    export = write(
        tmp_path,
        "console.csv",
        "Computer name,MAC address,Last seen\n"
        "VP-THANGPV,02:00:00:00:00:01,2026-12-04 07:00\n"  # MAC and name agree: matched by MAC
        "VP-PHUONGNT,02:00:00:00:00:04,2026-12-04 07:00\n"  # MAC says vp-04, name says vp-02
        "ketoan,,2026-12-04 07:00\n",  # two PCs are called KETOAN
    )
    status, err = import_export(capsys, inventory, tiny_store_path, export, "--exported-at", EXPORTED_AT)
    assert status == 0, err
    assert "matched 1 (1 by mac), 0 not in the inventory, 1 ambiguous, 1 conflicting" in err
    report = report_json(capsys, inventory, tiny_store_path)
    console = report["console"]
    assert [(e["computer_name"], e["key"], e["candidates"]) for e in console["conflicts"]] == [
        ("VP-PHUONGNT", "mac", ["vp-02", "vp-04"])
    ]
    assert [(e["computer_name"], e["key"], e["candidates"]) for e in console["ambiguous"]] == [
        ("ketoan", "name", ["vp-04", "vp-06"])
    ]
    hosts = {host["host"]: host["console"] for host in report["hosts"]}
    assert hosts["vp-01"]["matched_by"] == "mac"
    assert (hosts["vp-02"]["truth"], hosts["vp-04"]["truth"]) == ("not_reporting", "absent")
    text = render(report, "text", "en")
    assert "conflict: its MAC or address and its name point at vp-02, vp-04" in text
    assert "ambiguous: its name fits vp-04, vp-06" in text


def test_a_renamed_pc_the_console_still_shows_under_its_old_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    with Store(tiny_store_path) as store:
        run_id = store.start_run("rename.yml", started_at=datetime(2026, 12, 3, 1, 0, tzinfo=UTC))
        store.record(
            run_id,
            "vp-02",
            [
                (Aspect.CONTACT, CONTACT_OK),
                (Aspect.AGENT, RUNNING_AGENT),
                (Aspect.NAME, {"computer_name": "VP-PHUONGNT"}),
            ],
            AFTER_THE_TINY_RUNS,
        )
        store.finish_run(run_id, "ok")
    export = write(
        tmp_path,
        "console.csv",
        "Computer name,IP address,Last seen\n"
        "MAYPHUONG,192.0.2.2,2026-12-04 07:00\n"  # by its address: renamed, the console shows the old name
        "mayphuong,,2026-12-04 07:00\n",  # no address: only its old name says which PC it was
    )
    status, err = import_export(
        capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT
    )
    assert status == 0, err
    report = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    vp02 = next(host for host in report["hosts"] if host["host"] == "vp-02")["console"]
    assert (vp02["name_truth"], vp02["name_cause"]["code"]) == ("console_old_name", "console_old_name")
    assert [(e["computer_name"], e["hint"], e["host"]) for e in report["console"]["unknown"]] == [
        ("mayphuong", "renamed", "vp-02")
    ]
    vietnamese = render(report, "text", "vi")
    assert "đã đổi tên: trước đây là vp-02" in vietnamese
    assert 'Đã đổi tên thành "VP-PHUONGNT"; hệ thống giám sát vẫn hiển thị "MAYPHUONG"' in vietnamese


def test_the_reports_show_both_figures_side_by_side(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    report = imported_report(capsys, tmp_path, tiny_inventory_dir, tiny_store_path)
    text = render(report, "text", "en")
    section = text[text.index("The console's count") :]
    assert (
        "The console counts 3 agents reporting (33.3 %) in its export of 2026-12-04 08:00; "
        "agentroll counts 4 installed (44.4 %). The console's figure is the official one."
        in " ".join(section.split())
    )
    vp_row = next(line for line in section.splitlines() if line.startswith("VP "))
    assert vp_row.split()[-5:] == ["4", "2", "50.0", "2", "50.0"]
    assert "KETOAN-01" in section and "not in the roster: add it" in section
    xa02 = next(line for line in section.splitlines() if line.startswith("xa-02"))
    assert "installed, not reporting" in xa02 and "installed, but not on the console" in xa02
    html = render(report, "html", "vi")
    assert '<section id="console">' in html
    # The unit's own section lists its PCs the console sees differently.
    unit_xa = html[html.index('id="unit-XA"') :]
    assert "Máy tính mà hệ thống giám sát ghi nhận khác:" in unit_xa and "xa-02" in unit_xa
    assert "Hệ thống giám sát ghi nhận 3 máy đang báo về (33,3%)" in html
    # The headline carries the official figure beside agentroll's, marked as the official one.
    card = html[html.index('id="console-card"') :]
    card = card[: card.index("</div></div>")]
    assert "33,3%" in card and "3 / 9 · Số liệu chính thức là số liệu của hệ thống giám sát." in card
    assert 'class="card official"' in html


def test_without_an_export_the_report_is_agentrolls(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    report = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    assert 'id="console-card"' not in render(report, "html", "en")
    assert (report["console"], report["official"], report["totals"]["official_installed"]) == (
        None,
        "agentroll",
        4,
    )
    assert all(host["console"] is None for host in report["hosts"])
    assert "The console's count" not in render(report, "text", "en")


def test_the_latest_export_by_its_time_is_the_one_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    newer = write(tmp_path, "newer.csv", "Computer name,Last seen\nVP-THANGPV,2026-12-04 07:00\n")
    older = write(tmp_path, "older.csv", VIETNAMESE_EXPORT)
    assert (
        import_export(capsys, tiny_inventory_dir, tiny_store_path, newer, "--exported-at", EXPORTED_AT)[0]
        == 0
    )
    earlier = (datetime(2026, 12, 4, 8, 0) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    assert import_export(capsys, tiny_inventory_dir, tiny_store_path, older, "--exported-at", earlier)[0] == 0
    report = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    assert (report["console"]["source"], report["console"]["entries"]) == ("newer.csv", 1)


def test_a_units_view_counts_the_console_for_that_unit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    export = write(tmp_path, "console.csv", VIETNAMESE_EXPORT)
    assert (
        import_export(capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT)[0]
        == 0
    )
    status, out, err = run(
        capsys,
        "report",
        "-i",
        str(tiny_inventory_dir),
        "--state",
        str(tiny_store_path),
        "--unit",
        "TP",
        "--format",
        "json",
    )
    assert status == 0, err
    report = json.loads(out)
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    console = report["console"]
    # TP: tp-01 is on the console but stale; the forgotten KETOAN-01 is in TP's group.
    assert (console["reporting"], console["not_reporting"], console["installed_reporting"]) == (0, 1, 0)
    assert [entry["computer_name"] for entry in console["unknown"]] == ["KETOAN-01"]
    assert (report["totals"]["official_installed"], report["totals"]["official_coverage_pct"]) == (0, 0.0)
    status, out, _ = run(
        capsys, "report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "--unit", "VP"
    )
    assert "The console counts 2 agents reporting (50.0 %)" in " ".join(out.split())


def test_markdown_and_the_workbook_carry_the_consoles_count(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    report = imported_report(capsys, tmp_path, tiny_inventory_dir, tiny_store_path)
    markdown = render(report, "md", "en")
    assert "## The console's count" in markdown
    assert "| KETOAN-01 " in markdown
    workbook_path = tmp_path / "coverage.xlsx"
    workbook_path.write_bytes(render(report, "xlsx", "vi"))
    workbook = openpyxl.load_workbook(workbook_path)
    side_by_side = workbook["Hệ thống giám sát"]
    rows = list(side_by_side.iter_rows(values_only=True))
    assert rows[0][-2:] == ("Đang báo về hệ thống giám sát", "Tỷ lệ theo hệ thống giám sát (%)")
    assert rows[1][:1] + rows[1][-2:] == ("VP", 2, 50.0)
    # Its long headers wrap: the header row is written tall enough to show them whole.
    header_row = side_by_side.row_dimensions[1].height
    assert header_row is not None and header_row >= 2 * LINE_HEIGHT
    assert side_by_side.row_dimensions[2].height is None
    unknown = [row[0] for row in workbook["Giám sát - máy lạ"].iter_rows(min_row=2, values_only=True)]
    assert unknown == ["KETOAN-01"]
    differences = [row[0] for row in workbook["Giám sát - khác biệt"].iter_rows(min_row=2, values_only=True)]
    assert differences == ["tp-01", "vp-02", "xa-02"]


def test_a_missing_export_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    missing = tmp_path / "nowhere.csv"
    status, err = import_export(capsys, tiny_inventory_dir, tiny_store_path, missing)
    assert (status, err) == (2, f"agentroll: error: {missing}: file not found\n")
    assert console_rows(tiny_store_path) == 0


def reinstalled_pc_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, inventory: Path, state: Path
) -> dict[str, Any]:
    """The report after an export that lists vp-02 twice: once before its agent was reinstalled."""
    export = write(
        tmp_path,
        "console.csv",
        "Computer name,IP address,Last seen\n"
        "MAYPHUONG,,2026-11-01 07:00\n"  # the agent before it was reinstalled: an old entry, by name
        "VP-PHUONGNT,192.0.2.2,2026-12-04 07:00\n",  # the same PC now, by address
    )
    status, err = import_export(capsys, inventory, state, export, "--exported-at", EXPORTED_AT)
    assert status == 0, err
    return report_json(capsys, inventory, state)


def test_a_pc_listed_twice_is_counted_once_by_its_latest_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    report = reinstalled_pc_report(capsys, tmp_path, tiny_inventory_dir, tiny_store_path)
    vp02 = next(host for host in report["hosts"] if host["host"] == "vp-02")["console"]
    assert (vp02["computer_name"], vp02["truth"]) == ("VP-PHUONGNT", "reporting")
    assert [(entry["host"], entry["computer_name"]) for entry in report["console"]["duplicates"]] == [
        ("vp-02", "MAYPHUONG")
    ]
    assert report["units"][0]["console_reporting"] == 1


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_csv_files_carry_the_consoles_columns_in_both_languages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    report = imported_report(capsys, tmp_path, tiny_inventory_dir, tiny_store_path)
    hosts = {row["PC"]: row for row in csv_rows(render(report, "csv", "en"))}
    console_columns = (
        "Name on the console",
        "Matched by",
        "Last report to the console",
        "On the console",
        "Likely cause",
        "Name on the console vs standard name",
    )
    assert [hosts["vp-02"][column] for column in console_columns] == [
        "mayphuong",
        "IP address",
        "2026-12-04 07:55",
        "reporting",
        "",
        "rename pending",
    ]
    assert [hosts["tp-01"][column] for column in console_columns[3:5]] == [
        "no recent report",
        "the console last heard from it 19 days before the export",
    ]
    assert [hosts["vp-03"][column] for column in console_columns] == [
        "",
        "",
        "",
        "not on the console",
        "",
        "",
    ]
    units = {row["Code"]: row for row in csv_rows(render(report, "units-csv", "en"))}
    assert [units["VP"][column] for column in ("Reporting to the console", "Console coverage (%)")] == [
        "2",
        "50.0",
    ]
    assert {row["Official figure"] for row in units.values()} == {"the console's"}
    vietnamese = {row["Máy tính"]: row for row in csv_rows(render(report, "csv", "vi"))}
    assert (
        vietnamese["tp-01"]["Trên hệ thống giám sát"],
        vietnamese["vp-02"]["Tên trên hệ thống giám sát so với tên chuẩn"],
        vietnamese["vp-02"]["Đối chiếu theo"],
    ) == ("lâu không báo về", "chưa đổi tên", "địa chỉ IP")
    vp = csv_rows(render(report, "units-csv", "vi"))[0]
    assert (vp["Mã"], vp["Tỷ lệ theo hệ thống giám sát (%)"], vp["Số liệu chính thức"]) == (
        "VP",
        "50.0",
        "của hệ thống giám sát",
    )


def test_the_csv_header_is_the_same_without_an_export(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    without = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    export = write(tmp_path, "console.csv", VIETNAMESE_EXPORT)
    assert (
        import_export(capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT)[0]
        == 0
    )
    with_export = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    for fmt in ("csv", "units-csv"):
        before, after = render(without, fmt, "vi"), render(with_export, fmt, "vi")
        assert before.splitlines()[0] == after.splitlines()[0]
    hosts = csv_rows(render(without, "csv", "en"))
    assert {row["Name on the console"] + row["On the console"] + row["Matched by"] for row in hosts} == {""}
    units = csv_rows(render(without, "units-csv", "en"))
    assert {(row["Reporting to the console"], row["Official figure"]) for row in units} == {
        ("", "agentroll's")
    }


def test_a_console_name_that_reads_like_a_formula_stays_text_in_the_csv(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    export = write(
        tmp_path,
        "console.csv",
        'Computer name,IP address,Last seen\n=HYPERLINK("x"),192.0.2.1,2026-12-04 07:00\n',
    )
    assert (
        import_export(capsys, tiny_inventory_dir, tiny_store_path, export, "--exported-at", EXPORTED_AT)[0]
        == 0
    )
    report = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    vp01 = next(row for row in csv_rows(render(report, "csv", "en")) if row["PC"] == "vp-01")
    assert vp01["Name on the console"] == '\'=HYPERLINK("x")'
    assert vp01["On the console"] == "reporting"


def test_a_pcs_older_console_entry_is_listed_in_every_human_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    report = reinstalled_pc_report(capsys, tmp_path, tiny_inventory_dir, tiny_store_path)
    text = render(report, "text", "en")
    section = text[text.index("On the console, not matched to a PC of the inventory, or listed twice:") :]
    row = next(line for line in section.splitlines() if line.startswith("MAYPHUONG"))
    assert "Văn phòng" in row and "listed twice: an older entry of vp-02" in row
    assert "| MAYPHUONG " in render(report, "md", "vi") and "có hai lần: bản ghi cũ của vp-02" in render(
        report, "md", "vi"
    )
    html = render(report, "html", "vi")
    assert "hoặc có hai lần:" in html and "có hai lần: bản ghi cũ của vp-02" in html
    workbook_path = tmp_path / "coverage.xlsx"
    workbook_path.write_bytes(render(report, "xlsx", "en"))
    sheet = openpyxl.load_workbook(workbook_path)["Console unknown PCs"]
    assert [(row[0], row[-1]) for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("MAYPHUONG", "listed twice: an older entry of vp-02")
    ]


#: A probe of vp-01 eleven days after the tiny district's console export.
PROBED_AFTER_THE_EXPORT = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)


def record_checkin(store_path: Path, host: str, last_contact: str, at: datetime) -> None:
    """The probe's check-in of ``host`` at ``at``: the server answers, the agent last reached it then."""
    checkin = {
        "server": "soc.example.gov.vn:8443",
        "reachable": True,
        "error": None,
        "last_contact": last_contact,
    }
    with Store(store_path) as store:
        run_id = store.start_run("verify.yml", started_at=at)
        store.record(run_id, host, [(Aspect.CONTACT, CONTACT_OK), (Aspect.CHECKIN, checkin)], at)
        store.finish_run(run_id, "ok")


def test_the_agents_own_last_contact_after_the_export_makes_it_stale(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    # The console saw vp-01 the day before its export; the agent says that was its last contact, and
    # a probe eleven days after the export reads it: the agent no longer reports, the console cannot know.
    record_checkin(tiny_store_path, "vp-01", "2026-12-03T09:20:00Z", PROBED_AFTER_THE_EXPORT)
    record_checkin(tiny_store_path, "vp-02", "2026-12-14T23:00:00Z", PROBED_AFTER_THE_EXPORT)
    # xa-02's agent is not on the console; by its own account it last reached its server a month ago.
    record_checkin(tiny_store_path, "xa-02", "2026-11-15T01:00:00Z", PROBED_AFTER_THE_EXPORT)
    report = imported_report(capsys, tmp_path, tiny_inventory_dir, tiny_store_path)
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    hosts = {host["host"]: host for host in report["hosts"]}
    judged = {name: (hosts[name]["console"]["truth"], hosts[name]["console"]["decided_by"]) for name in hosts}
    assert judged["vp-01"] == ("stale", "agent")
    assert hosts["vp-01"]["console"]["cause"] == {"code": "agent_silent", "days": 11}
    assert judged["vp-02"] == ("reporting", "console")
    assert judged["tp-01"] == ("stale", "console")
    assert judged["xa-02"] == ("not_reporting", "console")
    assert hosts["xa-02"]["console"]["cause"] == {"code": "agent_silent", "days": 30}
    # The province's figure stays the console's own count; vp-01's unit no longer counts it.
    assert (report["console"]["reporting"], report["units"][0]["console_reporting"]) == (3, 1)
    assert (hosts["vp-01"]["state"], hosts["vp-01"]["causes"]) == (
        "agent_unhealthy",
        [{"code": "agent_silent", "days": 11}],
    )
    assert hosts["vp-01"]["next_step"] == {"code": "next_check_registration"}
    vp01 = next(row for row in csv_rows(render(report, "csv", "en")) if row["PC"] == "vp-01")
    assert (vp01["On the console"], vp01["Likely cause"]) == (
        "no recent report",
        "the agent last reached its management server 11 days before the probe",
    )
    assert "liên lạc với máy chủ quản lý lần cuối 11 ngày trước lần kiểm tra" in render(report, "text", "vi")


def test_a_probe_before_the_export_leaves_the_judgement_to_the_console(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    # xa-02's agent (its service stopped) is not on the console; a probe before the export read that it
    # last reached its server a month earlier: the console decides, the agent's silence is the cause.
    record_checkin(tiny_store_path, "xa-02", "2026-11-02T01:00:00Z", AFTER_THE_TINY_RUNS)
    record_checkin(tiny_store_path, "vp-01", "2026-11-02T01:00:00Z", AFTER_THE_TINY_RUNS)
    report = imported_report(capsys, tmp_path, tiny_inventory_dir, tiny_store_path)
    hosts = {host["host"]: host["console"] for host in report["hosts"]}
    assert (hosts["vp-01"]["truth"], hosts["vp-01"]["decided_by"]) == ("reporting", "console")
    assert (hosts["xa-02"]["truth"], hosts["xa-02"]["decided_by"], hosts["xa-02"]["cause"]) == (
        "not_reporting",
        "console",
        {"code": "console_not_listed_reachable"},
    )


def test_without_an_export_the_agents_own_last_contact_judges_it(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    record_checkin(tiny_store_path, "vp-01", "2026-11-20T01:00:00Z", AFTER_THE_TINY_RUNS)
    report = report_json(capsys, tiny_inventory_dir, tiny_store_path)
    vp01 = next(host for host in report["hosts"] if host["host"] == "vp-01")
    assert (vp01["state"], vp01["causes"], vp01["console"]) == (
        "agent_unhealthy",
        [{"code": "agent_silent", "days": 13}],
        None,
    )
    text = " ".join(render(report, "text", "en").split())
    assert (
        "the agent does not report to its server: check its registration key and server, or reinstall it"
        in text
    )


def test_a_province_whose_districts_differ_says_so_in_the_units_csv(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    report = {**report_json(capsys, tiny_inventory_dir, tiny_store_path), "official": "mixed"}
    units = csv_rows(render(report, "units-csv", "vi"))
    assert {row["Số liệu chính thức"] for row in units} == {"của từng huyện"}
