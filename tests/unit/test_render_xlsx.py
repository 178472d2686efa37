"""The workbook read back equals the report: same numbers, numbers stored as numbers."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

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
    assert workbook.sheetnames[:5] == ["Units", "Chart", "PCs", "Reallocation", "History"]
    # Then one sheet per unit, named by its code and name.
    assert workbook.sheetnames[5:] == [
        "VP Văn phòng HĐND và UBND huyện",
        "TCKH Phòng Tài chính - Kế hoạch",
        "MANGDEN UBND thị trấn Măng Đen",
        "DAKLONG UBND xã Đắk Long",
    ]
    for sheet in workbook:
        if sheet.title == "Chart":
            continue
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["A"].width > 4


def test_vietnamese_sheet_names(report: dict[str, Any]) -> None:
    assert _workbook(report, "vi").sheetnames[:4] == [
        "Đơn vị",
        "Biểu đồ",
        "Máy tính",
        "Điều chuyển bản quyền",
    ]


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
    assert {row[3] for row in rows if not row[2]} == {"returned to the district"}


def test_dates_and_times_are_local_date_cells_shown_the_languages_way(report: dict[str, Any]) -> None:
    for lang, day_format in (("en", "yyyy-mm-dd"), ("vi", "dd/mm/yyyy")):
        workbook = _workbook(report, lang)
        units, hosts = workbook.worksheets[0], workbook.worksheets[2]
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


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_every_sheet_prints_landscape_one_page_wide_with_its_header_on_each_page(
    report: dict[str, Any], lang: str
) -> None:
    workbook = _workbook(report, lang)
    for sheet in workbook:
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize, setup.fitToWidth) == ("landscape", 9, 1), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        if sheet.title != catalog(lang).pgettext("sheet", "Chart"):
            assert (setup.fitToHeight, sheet.print_title_rows) == (0, "$1:$1"), sheet.title


def test_the_total_row_is_outside_the_filter(report: dict[str, Any]) -> None:
    units = _workbook(report)["Units"]
    last_unit_row = len(report["units"]) + 1
    assert (
        units.auto_filter.ref
        == f"A1:{units.cell(row=1, column=units.max_column).column_letter}{last_unit_row}"
    )
    assert units.cell(row=last_unit_row + 1, column=2).value == "All units"


def test_a_native_chart_of_coverage_per_unit(report: dict[str, Any]) -> None:
    data = render(report, "xlsx")
    assert isinstance(data, bytes)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
        assert len(charts) == 1
        chart = archive.read(charts[0]).decode("utf-8")
    space = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
    root = ElementTree.fromstring(chart)
    bars = root.find(".//c:barChart", space)
    assert bars is not None and bars.find("c:barDir", space).get("val") == "bar"  # type: ignore[union-attr]
    last = len(report["units"]) + 1
    # The bars are the Units sheet's coverage column, the categories its codes: the same numbers.
    assert bars.findtext("c:ser/c:val/c:numRef/c:f", namespaces=space) == f"'Units'!$F$2:$F${last}"
    assert bars.findtext("c:ser/c:cat/c:strRef/c:f", namespaces=space) == f"'Units'!$A$2:$A${last}"
    labels = bars.find("c:dLbls", space)
    assert labels is not None
    shown = {child.tag.split("}")[1]: child.get("val") for child in labels if child.get("val") is not None}
    assert shown == {
        "showLegendKey": "0",
        "showVal": "1",
        "showCatName": "0",
        "showSerName": "0",
        "showPercent": "0",
    }


def test_each_unit_sheet_lists_its_pcs_with_what_to_do_next(report: dict[str, Any]) -> None:
    workbook = _workbook(report, "vi")
    sheet = workbook["VP Văn phòng HĐND và UBND huyện"]
    records = _records(sheet)
    assert [row["Máy tính"] for row in records] == [h["host"] for h in report["hosts"] if h["unit"] == "VP"]
    by_host = {row["Máy tính"]: row for row in records}
    assert by_host["vp-06"]["Việc cần làm tiếp"] == (
        "Chờ bản quyền: đơn vị VP đã hết bản quyền (xem đề xuất điều chuyển bản quyền)"
    )
    assert by_host["vp-05"]["Việc cần làm tiếp"] == (
        "Để cài được phần mềm: giải phóng thêm 1148 MB trên ổ C:; nếu không, chuyển bản quyền của máy "
        "cho đơn vị khác"
    )
    assert by_host["vp-01"]["Việc cần làm tiếp"] is None  # compliant: nothing to do
    assert isinstance(by_host["vp-01"]["Lần kiểm tra cuối"], datetime)
    assert sheet.oddHeader.center.text == "VP · Văn phòng HĐND và UBND huyện"
