"""The written reply (DOCX and printable HTML): motto, title, the PCs that fall short, the moves."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from agentroll.reports import render

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"
TITLE = "BÁO CÁO DANH SÁCH MÁY TÍNH KHÔNG ĐỦ ĐIỀU KIỆN CÀI ĐẶT PHẦN MỀM GIÁM SÁT MÃ ĐỘC"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _document_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    document = Document(io.BytesIO(data))
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    grids = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, grids


@pytest.fixture(scope="module")
def reply_vi(report: dict[str, Any]) -> tuple[list[str], list[list[list[str]]]]:
    data = render(report, "docx", lang="vi", district="Kon Plông")
    assert isinstance(data, bytes)
    return _document_text(data)


def test_heading_has_issuer_motto_and_date(reply_vi: tuple[list[str], list[list[list[str]]]]) -> None:
    _, grids = reply_vi
    issuer, motto = grids[0][0]
    assert "UBND HUYỆN KON PLÔNG" in issuer
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in motto
    assert "Độc lập - Tự do - Hạnh phúc" in motto
    assert "Kon Plông, ngày 29 tháng 11 năm 2026" in motto


def test_title_and_addressee(reply_vi: tuple[list[str], list[list[list[str]]]]) -> None:
    paragraphs, _ = reply_vi
    assert TITLE in paragraphs
    assert "Kính gửi: Ủy ban nhân dân huyện Kon Plông." in paragraphs


def test_pc_table_lists_ineligible_and_unmanageable_pcs(
    report: dict[str, Any], reply_vi: tuple[list[str], list[list[list[str]]]]
) -> None:
    _, grids = reply_vi
    pcs = grids[1]
    assert pcs[0] == ["STT", "Đơn vị", "Máy tính", "Người sử dụng", "Lý do không đủ điều kiện"]
    expected = [h for h in report["hosts"] if h["state"] in ("ineligible", "unmanageable")]
    assert len(pcs) - 1 == len(expected)
    rows = {row[2].split()[0]: row for row in pcs[1:]}
    assert rows["mangden-02"] == [
        "2",
        "UBND thị trấn Măng Đen",
        "mangden-02 (DESKTOP-4HX2PLA)",
        "Đinh Thị Trang",
        "Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB",
    ]
    assert rows["tckh-04"][4] == "PowerShell phiên bản 2.0, yêu cầu tối thiểu 5.1"


def test_reallocation_table_returned_licenses_and_signature(
    reply_vi: tuple[list[str], list[list[list[str]]]],
) -> None:
    paragraphs, grids = reply_vi
    assert grids[2][1:] == [
        ["1", "UBND xã Đắk Long", "Văn phòng HĐND và UBND huyện", "1"],
        ["2", "Phòng Tài chính - Kế hoạch", "Trả lại UBND huyện", "1"],
        ["3", "UBND thị trấn Măng Đen", "Trả lại UBND huyện", "2"],
        ["4", "UBND xã Đắk Long", "Trả lại UBND huyện", "2"],
    ]
    # What happens to the licenses no unit needs, said in the letter.
    assert (
        "5 bản quyền hiện chưa đơn vị nào sử dụng được xin trả lại Ủy ban nhân dân huyện Kon Plông để "
        "phân bổ lại cho các máy tính đủ điều kiện cài đặt."
    ) in paragraphs
    recipients, signer = grids[4][0]
    assert "Nơi nhận:" in recipients
    # No signer configured: a dotted title and the note, never "NGƯỜI LẬP BÁO CÁO".
    assert signer.startswith("……………\n(Ký, ghi rõ họ tên)")
    assert "NGƯỜI LẬP BÁO CÁO" not in signer


def test_pcs_waiting_for_a_license_are_listed(reply_vi: tuple[list[str], list[list[list[str]]]]) -> None:
    paragraphs, grids = reply_vi
    assert "3. Danh sách máy tính đủ điều kiện đang chờ bản quyền" in paragraphs
    assert grids[3] == [
        ["STT", "Đơn vị", "Máy tính", "Người sử dụng"],
        ["1", "Văn phòng HĐND và UBND huyện", "vp-06 (maytuan)", "Ngô Văn Hùng"],
    ]


def test_without_district_the_place_is_left_blank(report: dict[str, Any]) -> None:
    _, grids = _document_text(render(report, "docx", lang="vi"))  # type: ignore[arg-type]
    assert "UBND HUYỆN ……………" in grids[0][0][0]
    assert "……………, ngày 29 tháng 11 năm 2026" in grids[0][0][1]


def test_english_reply(report: dict[str, Any]) -> None:
    _, grids = _document_text(render(report, "docx", lang="en"))  # type: ignore[arg-type]
    assert "SOCIALIST REPUBLIC OF VIETNAM" in grids[0][0][1]
    assert grids[1][1][4] == "RAM 1536 MB < 2048 MB; free space on C: 350 MB < 2048 MB"


def test_reply_html_has_the_same_rows(report: dict[str, Any]) -> None:
    page = render(report, "reply-html", lang="vi", district="Kon Plông")
    assert isinstance(page, str)
    assert '<meta charset="utf-8">' in page
    assert TITLE in page
    assert "Độc lập - Tự do - Hạnh phúc" in page
    for host in ("daklong-04", "mangden-02", "mangden-03", "mangden-04", "tckh-04", "vp-05"):
        assert host in page
    assert "http://" not in page and "https://" not in page


LETTER = {
    "district": "Kon Plông",
    "issuer": "Phòng Văn hóa và Thông tin",
    "reference": "Công văn số 245/UBND-VP ngày 05/11/2026 của Ủy ban nhân dân huyện Kon Plông",
    "signer_title": "KT. TRƯỞNG PHÒNG\nPhó Trưởng phòng",
    "signer_name": "Nguyễn Văn Hùng",
}


@pytest.fixture(scope="module")
def official(report: dict[str, Any]) -> dict[str, Any]:
    """The sample report of a district whose inventory says how its reply is headed and signed."""
    return dict(report, letter=LETTER)


def test_the_letter_answers_its_reference_and_is_signed_by_the_configured_signer(
    official: dict[str, Any],
) -> None:
    paragraphs, grids = _document_text(render(official, "docx", lang="vi"))  # type: ignore[arg-type]
    assert paragraphs[3].startswith(
        "Thực hiện Công văn số 245/UBND-VP ngày 05/11/2026 của Ủy ban nhân dân huyện Kon Plông, "
        "Phòng Văn hóa và Thông tin báo cáo"
    )
    issuer = grids[0][0][0]
    assert issuer.splitlines()[:2] == ["UBND HUYỆN KON PLÔNG", "PHÒNG VĂN HÓA VÀ THÔNG TIN"]
    signer = [line for line in grids[-1][0][1].splitlines() if line]
    assert signer == ["KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "Nguyễn Văn Hùng"]
    page = render(official, "reply-html", lang="vi")
    assert isinstance(page, str)
    assert "Thực hiện Công văn số 245/UBND-VP" in page and "Nguyễn Văn Hùng" in page


def test_the_letter_gives_the_consoles_count_when_it_is_the_official_figure(report: dict[str, Any]) -> None:
    judged = json.loads(json.dumps(report))
    judged["official"] = "console"
    judged["console"] = {"reporting": 5, "coverage_pct": 41.7, "exported_at": "2026-11-05T00:30:00Z"}
    paragraphs, _ = _document_text(render(judged, "docx", lang="vi"))  # type: ignore[arg-type]
    official = [paragraph for paragraph in paragraphs if "số liệu chính thức" in paragraph]
    assert official == [
        "Theo hệ thống giám sát tập trung, có 5 máy tính đang báo về (đạt 41,7% số bản quyền); "
        "đây là số liệu chính thức."
    ]
    judged["official"] = "agentroll"
    paragraphs, _ = _document_text(render(judged, "docx", lang="vi"))  # type: ignore[arg-type]
    assert not [paragraph for paragraph in paragraphs if "số liệu chính thức" in paragraph]


def test_without_a_reference_the_letter_leaves_it_to_fill_in(report: dict[str, Any]) -> None:
    paragraphs, _ = _document_text(render(report, "docx", lang="vi"))  # type: ignore[arg-type]
    assert paragraphs[3].startswith("Thực hiện Công văn số …………… ngày ……………, Tổ Công nghệ thông tin báo cáo")


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("fmt", ["docx", "reply-html"])
def test_the_letter_names_no_tool(report: dict[str, Any], fmt: str, lang: str) -> None:
    """A letter to the People's Committee speaks of computers and licenses, not of the tools used."""
    unmanageable = json.loads(json.dumps(report))
    for host in unmanageable["hosts"]:
        if host["state"] == "unmanageable":  # as ansible-core words it, recorded verbatim
            host["causes"] = [{"code": "text", "text": "Ansible requires PowerShell v5.1"}]
            host["reasons"] = ["Ansible requires PowerShell v5.1"]
    output = render(unmanageable, fmt, lang=lang)
    if isinstance(output, bytes):
        paragraphs, grids = _document_text(output)
        output = "\n".join([*paragraphs, *(cell for grid in grids for row in grid for cell in row)])
    assert "PowerShell" in output
    for tool in ("Ansible", "agentroll", "WinRM", "Python"):
        assert tool.lower() not in output.lower()


def test_docx_columns_fit_the_page_no_narrow_and_reasons_wide(report: dict[str, Any]) -> None:
    data = render(report, "docx", lang="vi")
    assert isinstance(data, bytes)
    document = Document(io.BytesIO(data))
    pcs = document.tables[1]
    grid = [column.width.cm for column in pcs.columns]
    assert abs(sum(grid) - 16.0) < 0.05  # the text width of A4 with the decree's margins
    assert grid[0] == min(grid) and grid[0] < 1.5  # "STT"
    assert grid[-1] == max(grid)  # "Lý do" / what falls short
    # Word reads each cell's width, LibreOffice the grid: both agree, and the layout is fixed.
    assert [cell.width.cm for cell in pcs.rows[1].cells] == pytest.approx(grid)
    assert pcs.autofit is False
