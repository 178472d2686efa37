"""--lang vi leaves no English heading, column, state or reason in any format; older reports still render."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from agentroll.i18n import catalog, path_of
from agentroll.model import HostState
from agentroll.reports import FORMATS, labels, render
from tests.unit.visible import visible_text

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"
#: Words so short they occur inside data (computer names such as KETOAN-PC, host "vp-01").
SHORTEST_CHECKED = 4
#: Format patterns are no text.
FORMAT_CONTEXTS = ("date format", "long date format", "spreadsheet date format", "decimal separator")


def _english_labels() -> set[str]:
    """Every English text of the catalogue that Vietnamese says differently (around its placeholders)."""
    with path_of("vi").open("rb") as source:
        catalogue = read_po(source, locale="vi")
    labels: set[str] = set()
    for message in catalogue:
        if not message.id or message.string == message.id or message.context in FORMAT_CONTEXTS:
            continue
        parts = (part.strip() for part in re.split(r"\{[^}]*\}", message.id))
        # Names Vietnamese keeps (PowerShell, WinRM) are no English left behind.
        labels.update(part for part in parts if part not in message.string)
    return {label for label in labels if len(label) >= SHORTEST_CHECKED and re.search(r"[A-Za-z]", label)}


def _contains(text: str, label: str) -> bool:
    """``label`` occurs in ``text`` as whole words (not as a file name: "rename.yml" is data)."""
    return re.search(rf"(?<!\w){re.escape(label)}(?!\w|\.\w)", text) is not None


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "json"])
def test_vietnamese_output_has_no_english_label(report: dict[str, Any], fmt: str) -> None:
    text = visible_text(fmt, render(report, fmt, lang="vi"))
    assert sorted(label for label in _english_labels() if _contains(text, label)) == []


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "json"])
def test_vietnamese_output_has_no_state_key(report: dict[str, Any], fmt: str) -> None:
    text = visible_text(fmt, render(report, fmt, lang="vi"))
    keys = [state.value for state in HostState if re.search(rf"(?<![\w-]){state.value}(?![\w-])", text)]
    assert keys == []


@pytest.mark.parametrize("fmt", ["text", "md", "csv", "html", "docx", "reply-html"])
def test_vietnamese_output_translates_the_reasons(report: dict[str, Any], fmt: str) -> None:
    text = visible_text(fmt, render(report, fmt, lang="vi"))
    assert "Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB" in text
    assert "RAM 1024 MB < 2048 MB" not in text


def test_the_check_would_catch_english(report: dict[str, Any]) -> None:
    """The same check on the English rendering finds the English labels: the test has teeth."""
    text = visible_text("html", render(report, "html", lang="en"))
    found = {label for label in _english_labels() if _contains(text, label)}
    shown_states = {labels.state(catalog("en"), state) for state in report["totals"]["states"]}
    assert shown_states <= found
    assert {"Coverage per unit", "PCs by state", "Licenses"} <= found


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt not in ("json", "units-csv")])
def test_a_report_without_causes_still_renders_its_reasons(report: dict[str, Any], fmt: str) -> None:
    """A report of schema minor 0 has only English sentences: shown as written, known ones translated."""
    older = json.loads(json.dumps(report))
    for host in older["hosts"]:
        del host["causes"]
    text = visible_text(fmt, render(older, fmt, lang="vi"))
    if fmt in ("csv", "md", "html", "xlsx"):  # the formats that list unreachable PCs with reasons
        assert "Máy từ chối kết nối" in text  # "connection refused" is a sentence of the catalogue
    assert "RAM 1024 MB < 2048 MB" in text  # a sentence with values stays as written


def test_times_are_local_in_every_human_format(report: dict[str, Any]) -> None:
    # tckh-05 was last seen 2026-11-17T08:12:40Z: 15:12 in Vietnam, 08:12 in UTC.
    assert "17/11/2026 15:12" in visible_text("csv", render(report, "csv", lang="vi"))
    assert "2026-11-17 15:12" in visible_text("csv", render(report, "csv", lang="en"))
    assert "2026-11-17 08:12" in visible_text("csv", render(report, "csv", lang="en", tz="UTC"))
    assert "Số liệu tính đến 29/11/2026 12:00 (giờ UTC+07:00)" in render(report, "text", lang="vi")
    assert "ngày 29 tháng 11 năm 2026" in visible_text("reply-html", render(report, "reply-html", lang="vi"))
