"""Text, Markdown and CSV renderings of the report: content and structure."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentroll.reports import BINARY_FORMATS, FORMATS, render
from tests.unit.visible import visible_text

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "report.json"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return json.loads((FIXTURES / "report_sample.json").read_text(encoding="utf-8"))


def test_the_fixture_follows_the_report_schema(report: dict[str, Any]) -> None:
    schema_path = Path(__file__).resolve().parents[2] / "agentroll" / "schemas" / "coverage-1.json"
    jsonschema.validate(report, json.loads(schema_path.read_text(encoding="utf-8")))
    assert all(count > 0 for count in report["totals"]["states"].values()), "every state must be present"


def test_formats_are_listed() -> None:
    assert set(FORMATS) >= {"text", "md", "csv", "units-csv", "html", "xlsx", "docx", "reply-html", "json"}


def test_unknown_format_and_language_are_refused(report: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(report, "pdf")
    with pytest.raises(ValueError, match="unknown language"):
        render(report, "text", lang="fr")


def test_text_has_units_totals_and_states(report: dict[str, Any]) -> None:
    text = render(report, "text")
    assert isinstance(text, str)
    for unit in report["units"]:
        assert unit["code"] in text and unit["name"] in text
    assert "14 of 27 licenses in use (51.9 %)" in text
    assert "Deadline 2026-12-15: 16 days left" in text
    for state in ("Compliant", "Reboot pending", "Misnamed", "Agent not running", "Not yet contacted"):
        assert state in text
    assert "All units" in text
    assert "UBND xã Đắk Long (DAKLONG)" in text  # the reallocation's source
    assert "Stragglers: 12" in text and "vp-02" in text


def test_text_right_aligns_numbers(report: dict[str, Any]) -> None:
    line = next(line for line in render(report, "text").splitlines() if line.startswith("MANGDEN"))
    assert " 25.0 " in line


def test_markdown_has_tables_and_reasons(report: dict[str, Any]) -> None:
    markdown = render(report, "md")
    assert markdown.startswith("# Agent coverage report")
    assert "## Coverage per unit" in markdown
    assert "| VP " in markdown
    assert "RAM 1024 MB < 2048 MB" in markdown
    assert "## Coverage over the recorded runs" in markdown


def test_markdown_escapes_pipes(report: dict[str, Any]) -> None:
    piped = json.loads(json.dumps(report))
    piped["hosts"][0]["state"] = "ineligible"
    piped["hosts"][0]["causes"] = [{"code": "text", "text": "a | b"}]
    assert "a \\| b" in render(piped, "md")


def _csv_rows(text: str | bytes) -> list[dict[str, str]]:
    """The rows of a CSV report, read as a spreadsheet program does: it starts with a byte-order mark."""
    assert isinstance(text, str) and text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_csv_has_one_row_per_host(report: dict[str, Any]) -> None:
    rows = _csv_rows(render(report, "csv"))
    assert [row["PC"] for row in rows] == [host["host"] for host in report["hosts"]]
    by_host = {row["PC"]: row for row in rows}
    assert by_host["tckh-03"]["Computer name"] == "mayphuong"
    assert by_host["tckh-03"]["State"] == "Misnamed"
    assert by_host["daklong-04"]["Reasons"] == "RAM 1536 MB < 2048 MB; free space on C: 350 MB < 2048 MB"
    assert by_host["daklong-04"]["What to do next"] == (
        "to take the agent: add RAM to at least 2048 MB, free 1698 MB on C:; "
        "otherwise its license can go to another unit"
    )


def test_units_csv_has_one_row_per_unit_with_report_numbers(report: dict[str, Any]) -> None:
    rows = _csv_rows(render(report, "units-csv"))
    assert [row["Code"] for row in rows] == [unit["code"] for unit in report["units"]]
    for row, unit in zip(rows, report["units"], strict=True):
        assert int(row["Licenses"]) == unit["licenses"]
        assert int(row["Installed"]) == unit["installed"]
        assert float(row["Coverage (%)"]) == unit["coverage_pct"]


@pytest.mark.parametrize("fmt", ["csv", "units-csv"])
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_every_csv_starts_with_a_byte_order_mark(report: dict[str, Any], fmt: str, lang: str) -> None:
    """Excel reads a CSV without one in the machine's code page: the Vietnamese names, English or not."""
    assert _csv_rows(render(report, fmt, lang=lang))


def test_vietnamese_csv_opens_in_excel(report: dict[str, Any]) -> None:
    rows = _csv_rows(render(report, "csv", lang="vi"))
    assert rows[0]["Tình trạng"] == "Đạt chuẩn"


#: Which PCs each format names: the letter only those it asks a decision about.
_EVERY_PC = ("csv", "html", "xlsx")
_PCS_TO_ACT_ON = ("text", "md")
_LETTERS = ("docx", "reply-html")


def _named_in_the_letter(host: dict[str, Any]) -> bool:
    return host["state"] in ("ineligible", "unmanageable") or host["license"] == "waiting"


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "json"])
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_core_report_renders_in_every_format(fmt: str, lang: str) -> None:
    """The report the core builds (golden file of agentroll.report) renders too, not only our fixture:
    every unit appears, and the PCs each format is for."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    output = render(golden, fmt, lang)
    assert isinstance(output, bytes if fmt in BINARY_FORMATS else str)
    shown = visible_text(fmt, output)
    unit_key = "name" if fmt in _LETTERS else "code"
    assert [unit[unit_key] for unit in golden["units"] if unit[unit_key] not in shown] == []
    if fmt in _EVERY_PC:
        expected = {host["host"] for host in golden["hosts"]}
    elif fmt in _PCS_TO_ACT_ON:
        expected = {host["host"] for host in golden["hosts"] if host["state"] != "compliant"}
    elif fmt in _LETTERS:
        expected = {host["host"] for host in golden["hosts"] if _named_in_the_letter(host)}
    else:
        expected = set()
    assert {host["host"] for host in golden["hosts"] if host["host"] in shown} == expected


def test_an_unreachable_pc_shows_how_old_its_agent_knowledge_is(report: dict[str, Any]) -> None:
    assert "connection refused; last known 12 days ago" in render(report, "md")
    assert "thông tin từ 12 ngày trước" in render(report, "md", lang="vi")


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "json"])
def test_an_empty_district_renders(report: dict[str, Any], fmt: str) -> None:
    zero_states = dict.fromkeys(report["totals"]["states"], 0)
    totals = dict(report["totals"], licenses=0, hosts=0, installed=0, coverage_pct=0.0, states=zero_states)
    totals.update(eligible=0, unknown=0, usable=0, unused_licenses=0, remaining=0)
    empty = dict(
        report, units=[], hosts=[], reallocation=[], returnable=[], stragglers=[], history=[], totals=totals
    )
    empty.update(deadline=None, days_left=None)
    for lang in ("en", "vi"):
        assert render(empty, fmt, lang)


def test_deadline_wording_when_due_or_passed(report: dict[str, Any]) -> None:
    assert "Deadline 2026-12-15: passed 3 days ago" in render(dict(report, days_left=-3), "text")
    assert "Thời hạn hoàn thành 15/12/2026: hôm nay" in render(dict(report, days_left=0), "text", lang="vi")


def test_json_is_delegated_to_the_report_module(report: dict[str, Any]) -> None:
    assert json.loads(render(report, "json")) == report
