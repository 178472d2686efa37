"""``agentroll report --unit CODE``: a unit head's own PCs, in every format; an unknown code is one line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from agentroll import cli
from agentroll.reports import FORMATS

TINY_HOSTS = {
    "VP": ["vp-01", "vp-02", "vp-03", "vp-04", "vp-05", "vp-06"],
    "TP": ["tp-01", "tp-02"],
    "XA": ["xa-01", "xa-02"],
}


def report_of_unit(
    capsys: pytest.CaptureFixture[str], inventory: Path, state: Path, fmt: str, tmp_path: Path, unit: str
) -> str | bytes:
    output = tmp_path / f"unit.{fmt}"
    argv = ["report", "-i", str(inventory), "--state", str(state), "--unit", unit, "--format", fmt]
    status = cli.main([*argv, "-o", str(output), "--lang", "vi"])
    assert status == 0, capsys.readouterr().err
    data = output.read_bytes()
    return data if fmt in ("xlsx", "docx") else data.decode("utf-8")


def pcs_named(text: str) -> set[str]:
    return {name for names in TINY_HOSTS.values() for name in names if name in text}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_unit_report_holds_that_units_pcs_only(
    capsys: pytest.CaptureFixture[str],
    tiny_inventory_dir: Path,
    tiny_store_path: Path,
    tmp_path: Path,
    fmt: str,
) -> None:
    output = report_of_unit(capsys, tiny_inventory_dir, tiny_store_path, fmt, tmp_path, "TP")
    if fmt == "json":
        report = json.loads(output)
        assert report["unit"] == "TP" and [unit["code"] for unit in report["units"]] == ["TP"]
        assert [host["host"] for host in report["hosts"]] == TINY_HOSTS["TP"]
    elif fmt == "xlsx":
        assert isinstance(output, bytes)
        workbook = load_workbook(io.BytesIO(output))
        cells = " ".join(
            str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row
        )
        assert pcs_named(cells) == set(TINY_HOSTS["TP"])
        assert workbook.sheetnames[-1] == "TP Phòng Tư pháp"
    elif fmt == "docx":
        # The written reply lists the unit's PCs that cannot take the agent: TP has none.
        assert isinstance(output, bytes)
        document = Document(io.BytesIO(output))
        texts = " ".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
        assert pcs_named(texts) == set()
    elif fmt in ("csv", "units-csv"):
        assert isinstance(output, str)
        rows = list(csv.DictReader(io.StringIO(output.removeprefix("\ufeff"))))
        column = "Máy tính" if fmt == "csv" else "Mã"
        expected = TINY_HOSTS["TP"] if fmt == "csv" else ["TP"]
        assert [row[column] for row in rows] == expected
    elif fmt == "reply-html":
        assert isinstance(output, str)
        assert pcs_named(output) == set()
    else:
        assert isinstance(output, str)
        assert pcs_named(output) == set(TINY_HOSTS["TP"])
        assert "Phòng Tư pháp" in output and "Văn phòng UBND" not in output


def test_an_unknown_unit_is_one_line_naming_the_valid_codes(
    capsys: pytest.CaptureFixture[str], tiny_inventory_dir: Path, tiny_store_path: Path
) -> None:
    status = cli.main(
        ["report", "-i", str(tiny_inventory_dir), "--state", str(tiny_store_path), "--unit", "ZZ"]
    )
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err == "agentroll: error: unknown unit 'ZZ'; valid codes: VP, TP, XA\n"
