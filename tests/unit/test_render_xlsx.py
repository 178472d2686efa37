"""The workbook read back equals the report: same numbers, numbers stored as numbers."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from agentroll.i18n import catalog
from agentroll.reports import render

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _workbook(report: dict[str, Any], lang: str = "en") -> Workbook:
    data = render(report, "xlsx", lang=lang)
    assert isinstance(data, bytes)
    return load_workbook(io.BytesIO(data))


def _column(english: str, lang: str) -> str:
    """A column's header in ``lang``."""
    return catalog(lang).pgettext("column", english)


def _records(sheet: Any) -> list[dict[str, Any]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_sheets_and_frozen_headers(report: dict[str, Any]) -> None:
    workbook = _workbook(report)
    assert workbook.sheetnames[:3] == ["Units", "PCs", "Reallocation"]
    for sheet in workbook:
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["A"].width > 4


def test_vietnamese_sheet_names(report: dict[str, Any]) -> None:
    assert _workbook(report, "vi").sheetnames[:3] == ["Đơn vị", "Máy tính", "Điều chuyển bản quyền"]


def test_unit_numbers_equal_the_report(report: dict[str, Any]) -> None:
    records = _records(_workbook(report)["Units"])
    units, total = records[:-1], records[-1]
    assert [row["Code"] for row in units] == [unit["code"] for unit in report["units"]]
    for row, unit in zip(units, report["units"], strict=True):
        assert row["Licenses"] == unit["licenses"]
        assert row["PCs"] == unit["hosts"]
        assert row["Installed"] == unit["installed"]
        assert row["Coverage (%)"] == unit["coverage_pct"]
        assert row["Eligible"] == unit["eligible"]
        assert row["Not known yet"] == unit["unknown"]
        assert row["Usable"] == unit["usable"]
        assert row["Licenses to return"] == unit["unused_licenses"]
        assert row["Still to finish"] == unit["remaining"]
        assert row["Days left"] == unit["days_left"]
        assert row["At risk"] == ("yes" if unit["will_miss_deadline"] else "no")
    totals = report["totals"]
    assert (total["Licenses"], total["Installed"], total["Coverage (%)"]) == (
        totals["licenses"],
        totals["installed"],
        totals["coverage_pct"],
    )


def test_percentages_are_numbers_with_one_decimal(report: dict[str, Any]) -> None:
    sheet = _workbook(report)["Units"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("Coverage (%)") + 1)
    assert isinstance(cell.value, float)
    assert cell.number_format == "0.0"


def test_pc_sheet_has_every_host(report: dict[str, Any]) -> None:
    records = _records(_workbook(report)["PCs"])
    assert [row["PC"] for row in records] == [host["host"] for host in report["hosts"]]
    by_host = {row["PC"]: row for row in records}
    assert by_host["tckh-05"]["Knowledge age (days)"] == 12
    assert by_host["vp-05"]["Reasons"] == "free space on C: 900 MB < 2048 MB"


def test_reallocation_sheet_equals_the_report(report: dict[str, Any]) -> None:
    rows = list(_workbook(report)["Reallocation"].iter_rows(values_only=True))[1:]
    moves = [{"from": row[0], "to": row[2], "licenses": row[4]} for row in rows if row[2]]
    assert moves == report["reallocation"]
    returned = [{"unit": row[0], "licenses": row[4]} for row in rows if not row[2]]
    assert returned == report["returnable"]
    assert {row[3] for row in rows if not row[2]} == {"the district (returned)"}


def test_dates_and_times_are_local_date_cells_shown_the_languages_way(report: dict[str, Any]) -> None:
    for lang, day_format in (("en", "yyyy-mm-dd"), ("vi", "dd/mm/yyyy")):
        workbook = _workbook(report, lang)
        units, hosts = workbook.worksheets[0], workbook.worksheets[1]
        deadline = units.cell(
            row=2, column=[cell.value for cell in units[1]].index(_column("Deadline", lang)) + 1
        )
        assert (deadline.value, deadline.number_format) == (datetime(2026, 12, 15), day_format)
        # tckh-05 was last seen 2026-11-17T08:12:40Z: 15:12:40 in Vietnam.
        row = next(row for row in hosts.iter_rows(min_row=2) if row[0].value == "tckh-05")
        last_seen = row[[cell.value for cell in hosts[1]].index(_column("Last seen", lang))]
        assert (last_seen.value, last_seen.number_format) == (
            datetime(2026, 11, 17, 15, 12, 40),
            f"{day_format} hh:mm",
        )
