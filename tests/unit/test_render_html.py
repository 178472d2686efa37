"""The HTML report is one self-contained page with one bar per unit and the required sections."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from agentroll.reports import render

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=["en", "vi"])
def page(request: pytest.FixtureRequest, report: dict[str, Any]) -> str:
    output = render(report, "html", lang=request.param)
    assert isinstance(output, str)
    return output


def test_page_is_self_contained(page: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    links = re.findall(r"<link[^>]*>", page, re.IGNORECASE)
    assert links == ['<link rel="icon" href="data:,">']  # the empty icon that stops a favicon request
    assert "@import" not in page
    assert not re.search(r"url\(", page)
    assert "http://" not in page and "https://" not in page


def test_page_declares_utf8_and_language(page: str) -> None:
    assert '<meta charset="utf-8">' in page
    assert re.search(r'<html lang="(en|vi)">', page)


def test_one_bar_per_unit(report: dict[str, Any], page: str) -> None:
    bars = re.findall(r'<rect class="bar" data-unit="([A-Z0-9]+)"', page)
    assert bars == [unit["code"] for unit in report["units"]]


def test_history_chart_has_one_point_per_run(report: dict[str, Any], page: str) -> None:
    assert len(re.findall(r'<circle class="run"', page)) == len(report["history"])


def test_sections_are_present(page: str) -> None:
    for section in ("units", "deadline", "states", "reallocation", "ineligible", "stragglers", "history"):
        assert f'<section id="{section}">' in page


def test_vietnamese_page(report: dict[str, Any]) -> None:
    page = render(report, "html", lang="vi")
    assert "<title>Báo cáo tình hình cài đặt phần mềm giám sát mã độc</title>" in page
    assert "Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB" in page
    assert "51,9%" in page


def test_units_at_risk_and_days_left_are_shown(report: dict[str, Any]) -> None:
    page = render(report, "html")
    assert '<div class="value" id="days-left">16</div>' in page
    at_risk = [unit["code"] for unit in report["units"] if unit["will_miss_deadline"]]
    assert at_risk == ["MANGDEN", "DAKLONG"]
    assert re.findall(r'<li><a class="risk" href="#unit-(\w+)">', page) == at_risk
    assert "deadline 2026-12-03, 4 days left" in page
    assert "deadline 2026-11-25, passed 4 days ago" in page
    assert "its deadline is 7 days away or less, or past." in page


def test_empty_history_and_no_deadline(report: dict[str, Any]) -> None:
    undated = [dict(unit, deadline=None, days_left=None) for unit in report["units"]]
    bare = dict(
        report, history=[], deadline=None, days_left=None, reallocation=[], returnable=[], units=undated
    )
    page = render(bare, "html")
    assert "No run recorded yet." in page
    assert "No deadline set" in page
    assert "No license needs to move." in page
    assert '<circle class="run"' not in page


def test_without_a_district_deadline_the_nearest_unit_deadline_is_shown(report: dict[str, Any]) -> None:
    """Only units have deadlines: the headline names the nearest one to come, not "No deadline set"."""
    unit_deadlines = dict(report, deadline=None, days_left=None)
    assert "Nearest unit deadline 2026-12-03 (DAKLONG): 4 days left" in render(unit_deadlines, "html")
    assert "Thời hạn gần nhất (đơn vị DAKLONG): 03/12/2026, còn 4 ngày" in render(
        unit_deadlines, "html", "vi"
    )
    all_passed = [dict(unit, deadline="2026-11-25", days_left=-4) for unit in report["units"]]
    passed = dict(unit_deadlines, units=all_passed)
    assert "Nearest unit deadline 2026-11-25 (DAKLONG): passed 4 days ago" in render(passed, "text")


def test_names_are_escaped(report: dict[str, Any]) -> None:
    hostile = json.loads(json.dumps(report))
    hostile["units"][0]["name"] = "<b>VP</b>"
    page = render(hostile, "html")
    assert "<b>VP</b>" not in page
    assert "&lt;b&gt;VP&lt;/b&gt;" in page


def test_many_runs_keep_every_point_but_not_every_label(report: dict[str, Any]) -> None:
    point = report["history"][-1]
    runs = [dict(point, run_id=number, playbook=f"run{number:02d}.yml") for number in range(1, 31)]
    page = render(dict(report, history=runs), "html")
    assert len(re.findall(r'<circle class="run"', page)) == 30
    labelled = re.findall(r">#\d+ run\d+\.yml<", page)
    assert 2 <= len(labelled) <= 9
    assert ">#30 run30.yml<" in page
