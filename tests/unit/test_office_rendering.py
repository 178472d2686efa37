"""The workbook and the written reply as they print: LibreOffice turns them into PDF, poppler reads it.

What is checked is what a person sees on paper: the Vietnamese workbook of a district of about 200
PCs prints each sheet one page wide (every page starts with its sheet's first column or its title),
on a handful of pages; the chart sheet prints the chart; the letter's "STT" column is not broken
and the letter fits on two pages, signed.

Without LibreOffice (``soffice``) and poppler (``pdftotext``) the tests are skipped on a developer
machine and fail in CI (``CI`` set); ``make test`` installs them when run as root.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agentroll.i18n import catalog
from agentroll.reports import render

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"
TOOLS = ("soffice", "pdftotext", "pdfinfo")
#: The sample district's PCs copied this many times: 196 PCs, the size of the demo district.
COPIES = 7

pytestmark = pytest.mark.office


def _require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = f"printing checks need {', '.join(missing)} (apt-get install libreoffice-calc-nogui "
    message += "libreoffice-writer-nogui poppler-utils)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must have them")
    pytest.skip(message)


def district_of_200(report: dict[str, Any]) -> dict[str, Any]:
    """The sample report with each PC seven times (renamed), as a district of about 200 PCs."""
    large = copy.deepcopy(report)
    large["hosts"] = [
        dict(host, host=f"{host['host']}-{copy_number}")
        for copy_number in range(COPIES)
        for host in report["hosts"]
    ]
    large["hosts"].sort(key=lambda host: (host["unit"], host["host"]))
    return large


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Vietnamese workbook and letter, printed to PDF by LibreOffice."""
    _require_tools()
    directory = tmp_path_factory.mktemp("printed")
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    report["letter"] = {
        "district": "Kon Plông",
        "issuer": "Phòng Văn hóa và Thông tin",
        "reference": "Công văn số 245/UBND-VP ngày 05/11/2026 của Ủy ban nhân dân huyện Kon Plông",
        "signer_title": "KT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG",
        "signer_name": "Nguyễn Văn Hùng",
    }
    sources = {
        "workbook": directory / "bao-cao.xlsx",
        "letter": directory / "tra-loi.docx",
    }
    sources["workbook"].write_bytes(render(district_of_200(report), "xlsx", lang="vi"))  # type: ignore[arg-type]
    sources["letter"].write_bytes(render(report, "docx", lang="vi"))  # type: ignore[arg-type]
    # A profile of its own, so that parallel test workers and a running LibreOffice do not collide.
    profile = (directory / "profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(directory),
            *map(str, sources.values()),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {name: path.with_suffix(".pdf") for name, path in sources.items()}


def pages(pdf: Path) -> list[list[str]]:
    """The non-empty lines of each page, as poppler lays them out."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    texts = []
    for number in range(1, count + 1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        texts.append([line.strip() for line in text.splitlines() if line.strip()])
    return texts


def test_the_vietnamese_workbook_prints_each_sheet_one_page_wide(printed: dict[str, Path]) -> None:
    """Every page of a table holds its first and its last column (the header row is repeated on each
    page): no sheet is cut into strips, as it was when the workbook printed on 30 pages."""
    vi = catalog("vi")
    column = lambda key: vi.pgettext("column", key)  # noqa: E731
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    titles = [f"{unit['code']} · {unit['name']}" for unit in report["units"]]
    #: sheet → (what its first printed line starts with, the first and last column headers)
    sheets = {
        "units": (column("Code"), column("Code"), column("At risk")),
        "chart": (vi.gettext("Coverage per unit (% of licenses)"), None, None),
        "pcs": (None, column("PC"), column("Knowledge age (days)")),
        "moves": (column("From unit"), column("From unit"), column("Licenses")),
        "runs": (column("Run"), column("Run"), column("Coverage (%)")),
        **{title: (title, column("PC"), column("Last seen")) for title in titles},
    }

    def sheet_of(page: list[str]) -> str:
        for name, (start, _, _) in sheets.items():
            if start is not None and page[0].startswith(start):
                return name
        return "pcs"

    printed_pages = pages(printed["workbook"])
    order = []
    for page in printed_pages:
        name = sheet_of(page)
        order.append(name)
        _, first, last = sheets[name]
        if first is not None and last is not None:
            # A header wraps over a few lines, its words among those of its neighbours: its first
            # two words on the page's first lines are enough.
            header = " ".join(page[:4])
            for words in (first, last):
                assert " ".join(words.split()[:2]) in header, f"{name}: the page is cut ({page[:4]})"
    collapsed = [name for index, name in enumerate(order) if index == 0 or order[index - 1] != name]
    assert collapsed == ["units", "chart", "pcs", "moves", "runs", *titles]
    assert 1 <= order.count("pcs") <= 5  # 196 PCs
    assert len(printed_pages) <= 16


def test_the_chart_prints_every_unit_and_its_coverage(printed: dict[str, Path]) -> None:
    chart = pages(printed["workbook"])[1]
    text = " ".join(chart)
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for unit in report["units"]:
        assert unit["code"] in text
        assert f"{unit['coverage_pct']:.1f}" in text  # the value label of its bar


def test_the_letter_prints_on_two_pages_with_its_columns_whole(printed: dict[str, Path]) -> None:
    letter = pages(printed["letter"])
    assert len(letter) <= 2
    lines = [line for page in letter for line in page]
    text = "\n".join(lines)
    # "STT" on one line in every table header (the three tables, a header repeated on a new page):
    # the column is wide enough.
    assert len([line for line in lines if line.startswith("STT")]) >= 3
    assert "ST\nT" not in text
    assert "Thực hiện Công văn số 245/UBND-VP ngày 05/11/2026" in text
    assert lines[-1] == "Nguyễn Văn Hùng" or "Nguyễn Văn Hùng" in lines[-3:]
    assert "NGƯỜI LẬP BÁO CÁO" not in text and "Ansible" not in text
