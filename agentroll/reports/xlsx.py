"""The workbook: sheets Units, Chart, PCs, Reallocation, History, and one sheet per unit.

Values are the report's own (coverage 32.6 stays 32.6, shown with one decimal), so a workbook read
back equals the JSON; dates and times are real date cells in local time, shown the language's way
(dd/mm/yyyy in Vietnamese). Sheet names and headers follow the language; codes and host names do not.

Texts that come from the inventory or from the PCs themselves (names, owners, computer names) are
stored as strings, never as formulas, and one that starts like a formula is shown with a leading
quote (``tables.spreadsheet_text``). Every sheet prints on A4 landscape, fitted to the page width,
with its header row repeated on each page.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from copy import copy
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from agentroll.i18n import Catalog
from agentroll.reports import console, labels, tables
from agentroll.reports.tables import Report, Table

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1565C0")
TOTAL_FONT = Font(bold=True)
AT_RISK_FONT = Font(color="C62828", bold=True)
#: A data cell in a column whose longer texts wrap.
WRAPPED = Alignment(vertical="top", wrap_text=True)
#: Each look's font, fill and alignment; None keeps the default (or WRAPPED in a wrapping column).
EMPHASIS: dict[str, tuple[Font | None, PatternFill | None, Alignment | None]] = {
    "": (None, None, None),
    "header": (HEADER_FONT, HEADER_FILL, Alignment(vertical="center", wrap_text=True)),
    "total": (TOTAL_FONT, None, None),
    "at_risk": (AT_RISK_FONT, None, None),
}
#: Longer texts wrap within this width (in characters), so that a sheet fits the page width readably.
MAX_COLUMN_WIDTH = 48
#: Points per line of a row whose cells wrap (Calibri 11 and the header's bold font).
LINE_HEIGHT = 15
#: Columns holding a percentage (already in percent in the report): shown with one decimal.
PERCENT_FORMAT = "0.0"
#: Characters a sheet name may not hold.
SHEET_NAME_FORBIDDEN = str.maketrans({character: " " for character in "[]:*?/\\"})


def _cell_value(value: Any, catalog: Catalog) -> Any:
    # Booleans become the language's yes/no: a TRUE/FALSE cell reads as English to a Vietnamese user.
    if isinstance(value, bool):
        return catalog.yes_no(value)
    # Excel has no time zones: a local time is stored as the wall-clock time it shows.
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        return tables.spreadsheet_text(value)
    return value


def _date_formats(catalog: Catalog) -> tuple[str, str]:
    """Excel number formats of a date and of a date with time in this language."""
    day = catalog.pgettext("spreadsheet date format", "yyyy-mm-dd")
    return day, f"{day} hh:mm"


class _Looks:
    """The workbook's cell styles, each made once and shared by every cell that looks the same.

    Setting a font or an alignment on a cell makes openpyxl look it up among the workbook's styles by
    its hash; done for each styled cell of a 10,000-PC workbook, that was about a tenth of its time.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._day_format, self._time_format = _date_formats(catalog)
        self._styles: dict[tuple[str, bool, str], StyleArray] = {}

    def entry(
        self,
        sheet: WriteOnlyWorksheet,
        value: Any,
        look: str = "",
        wraps: bool = False,
        number_format: str = "",
    ) -> Any:
        """What to append to ``sheet`` for ``value`` with ``look`` (see ``EMPHASIS``): the plain value
        when openpyxl would store it as it is with the default style, else a styled cell. A string is
        always stored as a string: ``_cell_value`` quotes one that starts like a formula, and one that
        openpyxl would take for an error value (``#N/A``) gets a cell marked as text. A date is shown
        in the language's format."""
        stored = _cell_value(value, self._catalog)
        if isinstance(value, date):
            number_format = self._time_format if isinstance(value, datetime) else self._day_format
        is_text = isinstance(stored, str)
        if not (look or wraps or number_format or (is_text and stored in ERROR_CODES)):
            return stored
        key = (look, wraps, number_format)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self._style(sheet, look, wraps, number_format)
        cell = WriteOnlyCell(sheet, stored)
        cell._style = copy(style)
        if is_text:
            cell.data_type = "s"
        return cell

    @staticmethod
    def _style(sheet: WriteOnlyWorksheet, look: str, wraps: bool, number_format: str) -> StyleArray:
        """The style of a cell with this look, as openpyxl registers it in the workbook."""
        template = WriteOnlyCell(sheet)
        font, fill, alignment = EMPHASIS[look]
        alignment = alignment or (WRAPPED if wraps else None)
        if font:
            template.font = font
        if fill:
            template.fill = fill
        if alignment:
            template.alignment = alignment
        if number_format:
            template.number_format = number_format
        return template._style


def _write_table(
    looks: _Looks,
    sheet: WriteOnlyWorksheet,
    table: Table,
    catalog: Catalog,
    percent_columns: Sequence[int] = (),
    filtered_rows: int | None = None,
    emphasis: Mapping[tuple[int, int], str] | None = None,
) -> None:
    """Widths, heights, frozen header, filter over the first ``filtered_rows`` data rows (all by
    default) and page setup, then the header row and the data rows; ``emphasis`` gives a look by
    (data row, column), both from 0.

    A write-only sheet: its layout is written before its first row, its rows as they come."""
    widths = _fit_widths(table, catalog)
    for index, (width, _) in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    _fit_heights(sheet, table, catalog, widths)
    sheet.freeze_panes = "A2"
    filtered = len(table.rows) if filtered_rows is None else filtered_rows
    if filtered and table.headers:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.headers))}{filtered + 1}"
    _page_setup(sheet)
    sheet.append([looks.entry(sheet, header, "header") for header in table.headers])
    formats = [PERCENT_FORMAT if index in percent_columns else "" for index in range(len(table.headers))]
    wrapping = [wraps for _, wraps in widths]
    special = emphasis or {}
    for row_index, row in enumerate(table.rows):
        looks_of_row = [special.get((row_index, column), "") for column in range(len(row))]
        sheet.append(
            [
                looks.entry(sheet, value, look, wraps, number_format)
                for value, look, wraps, number_format in zip(
                    row, looks_of_row, wrapping, formats, strict=True
                )
            ]
        )


def _fit_widths(table: Table, catalog: Catalog) -> list[tuple[int, bool]]:
    """Each column as wide as its longest text up to ``MAX_COLUMN_WIDTH``; longer texts wrap.

    Each column's width, and whether its data cells wrap.
    """
    widths = []
    for index, header in enumerate(table.headers):
        cells = [len(tables.display(row[index], catalog)) for row in table.rows if row[index] is not None]
        longest = max([min(len(str(header)), 16), *cells])
        widths.append((min(longest + 2, MAX_COLUMN_WIDTH), longest + 2 > MAX_COLUMN_WIDTH))
    return widths


def _fit_heights(
    sheet: WriteOnlyWorksheet, table: Table, catalog: Catalog, widths: Sequence[tuple[int, bool]]
) -> None:
    """Each row tall enough for its wrapped cells: spreadsheet programs keep a written file's row
    height, so a wrapped header or reason would otherwise show one line and hide the rest.

    Counted from the table: the header wraps in every column, a data cell in the columns
    ``_fit_widths`` made wrap.
    """
    # The header's bold font fills a column before its nominal character count.
    header_lines = max(
        (
            _lines(header, catalog, width - 3)
            for header, (width, _) in zip(table.headers, widths, strict=True)
        ),
        default=1,
    )
    if header_lines > 1:
        sheet.row_dimensions[1].height = LINE_HEIGHT * header_lines
    wrapping = [(index, width - 1) for index, (width, wraps) in enumerate(widths) if wraps]
    if not wrapping:
        return
    for row_number, row in enumerate(table.rows, start=2):
        lines = max(_lines(row[index], catalog, per_line) for index, per_line in wrapping)
        if lines > 1:
            sheet.row_dimensions[row_number].height = LINE_HEIGHT * lines


def _lines(value: Any, catalog: Catalog, per_line: int) -> int:
    """How many lines ``value`` takes as stored in a wrapping cell ``per_line`` characters wide."""
    if value is None:
        return 1
    text = str(_cell_value(value, catalog))
    per_line = max(per_line, 1)
    return sum(max(math.ceil(len(part) / per_line), 1) for part in text.split("\n"))


def _page_setup(sheet: WriteOnlyWorksheet) -> None:
    """A4 landscape, fitted to one page wide (as many pages down as needed), header row on each page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.oddFooter.center.text = "&P / &N"


def _units_sheet(looks: _Looks, sheet: WriteOnlyWorksheet, report: Report, catalog: Catalog) -> None:
    table = tables.units_table(report, catalog)
    units = report["units"]
    coverage = tables.UNIT_COLUMNS.index("coverage")
    will_miss = tables.UNIT_COLUMNS.index("will_miss")
    at_risk = [row for row, unit in enumerate(units) if unit.get("will_miss_deadline")]
    emphasis = {(row, will_miss): "at_risk" for row in at_risk}
    if len(table.rows) > len(units):
        emphasis.update({(len(table.rows) - 1, column): "total" for column in range(len(table.headers))})
    # The total row stays out of the filter: filtering or sorting units must not move it.
    _write_table(
        looks, sheet, table, catalog, percent_columns=[coverage], filtered_rows=len(units), emphasis=emphasis
    )


def _coverage_chart(workbook: Workbook, units: WriteOnlyWorksheet, report: Report, catalog: Catalog) -> None:
    """A native bar chart of coverage per unit, drawn from the Units sheet's cells, on a sheet of its
    own right after it, sized to one landscape A4 page. (A chart sheet would be the Excel way, but
    LibreOffice prints one blank.)"""
    last = len(report["units"]) + 1
    code = tables.UNIT_COLUMNS.index("code") + 1
    coverage = tables.UNIT_COLUMNS.index("coverage") + 1
    chart = BarChart()
    chart.type = "bar"
    chart.title = catalog.gettext("Coverage per unit (% of licenses)")
    chart.legend = None
    chart.add_data(Reference(units, min_col=coverage, min_row=1, max_row=last), titles_from_data=True)
    # The unit codes are text: a string reference (openpyxl's set_categories makes a numeric one).
    codes = Reference(units, min_col=code, min_row=2, max_row=last)
    chart.series[0].cat = AxDataSource(strRef=StrRef(f=str(codes)))
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    chart.y_axis.majorUnit = 25
    chart.y_axis.number_format = "0"
    # Units read top-down in sheet order.
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.delete = chart.y_axis.delete = False
    # The value only: left unset, LibreOffice also prints the series and category names.
    chart.dataLabels = DataLabelList(
        numFmt="0.0",
        showVal=True,
        showCatName=False,
        showSerName=False,
        showLegendKey=False,
        showPercent=False,
    )
    # 26 x 15 cm: within the printable area of a landscape A4 page with the margins of _page_setup.
    chart.width, chart.height = 26, 15
    sheet = workbook.create_sheet(labels.sheet(catalog, "chart"), index=workbook.index(units) + 1)
    _page_setup(sheet)
    sheet.page_setup.fitToHeight = 1
    sheet.print_options.gridLines = False
    sheet.add_chart(chart, "A1")


def _reallocation_table(report: Report, catalog: Catalog) -> Table:
    """The advised moves, then the licenses returnable to the district (no target unit)."""
    names = tables.unit_names(report)
    rows: list[list[Any]] = [
        [move["from"], names.get(move["from"], ""), move["to"], names.get(move["to"], ""), move["licenses"]]
        for move in report.get("reallocation") or ()
    ]
    district = catalog.gettext("returned to the district")
    rows.extend(
        [entry["unit"], names.get(entry["unit"], ""), "", district, entry["licenses"]]
        for entry in report.get("returnable") or ()
    )
    headers = labels.columns(catalog, "from", "unit", "to", "unit", "licenses")
    return Table(headers, rows)


def _unit_sheet_name(unit: dict[str, Any], taken: set[str]) -> str:
    """``CODE Name`` cut to Excel's 31 characters; unique whatever the case (as Excel compares)."""
    name = f"{unit['code']} {unit['name']}".translate(SHEET_NAME_FORBIDDEN)[: labels.MAX_SHEET_NAME].strip()
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = name[: labels.MAX_SHEET_NAME - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


def _unit_sheets(looks: _Looks, workbook: Workbook, report: Report, catalog: Catalog) -> None:
    """One sheet per unit with every PC, what to do next, and the unit's name in the printed header."""
    taken = {name.lower() for name in workbook.sheetnames}
    for unit in report["units"]:
        sheet = workbook.create_sheet(_unit_sheet_name(unit, taken))
        _write_table(looks, sheet, tables.unit_hosts_table(report, catalog, unit["code"]), catalog)
        # The printed header names the unit; "&" starts a header code and is doubled to print as itself.
        title = f"{unit['code']} · {unit['name']}".replace("&", "&&")
        sheet.oddHeader.center.text = title
        sheet.oddHeader.right.text = tables.generated_line(report, catalog).replace("&", "&&")


def _created(report: Report) -> datetime | None:
    # The generation time, not "now", so one report always gives the same workbook.
    try:
        return datetime.fromisoformat(str(report["generated_at"]).replace("Z", "+00:00")).replace(tzinfo=None)
    except (KeyError, ValueError):
        return None


def render_xlsx(report: Report, catalog: Catalog) -> bytes:
    """The workbook as bytes."""
    # Write-only: each sheet is written as it is filled, with no model of every cell kept for later.
    workbook = Workbook(write_only=True)
    looks = _Looks(catalog)
    units = workbook.create_sheet(labels.sheet(catalog, "units"))
    _units_sheet(looks, units, report, catalog)
    if report["units"]:
        _coverage_chart(workbook, units, report, catalog)
    hosts = tables.hosts_table(report, catalog)
    _write_table(looks, workbook.create_sheet(labels.sheet(catalog, "hosts")), hosts, catalog)
    moves = _reallocation_table(report, catalog)
    _write_table(looks, workbook.create_sheet(labels.sheet(catalog, "reallocation")), moves, catalog)
    if console.has_console(report):
        side_by_side = console.console_units_table(report, catalog)
        sheet = workbook.create_sheet(labels.sheet(catalog, "console"))
        percent = [console.CONSOLE_UNIT_COLUMNS.index(key) for key in ("coverage", "console_coverage")]
        _write_table(looks, sheet, side_by_side, catalog, percent_columns=percent)
        sheet.oddHeader.center.text = console.console_line(report, catalog).replace("&", "&&")
        differences = workbook.create_sheet(labels.sheet(catalog, "console_pcs"))
        _write_table(looks, differences, console.console_hosts_table(report, catalog), catalog)
        unknown = workbook.create_sheet(labels.sheet(catalog, "console_unknown"))
        _write_table(looks, unknown, console.console_unknown_table(report, catalog), catalog)
    history = tables.history_table(report, catalog)
    _write_table(
        looks, workbook.create_sheet(labels.sheet(catalog, "history")), history, catalog, percent_columns=[4]
    )
    _unit_sheets(looks, workbook, report, catalog)
    created = _created(report)
    if created is not None:
        workbook.properties.created = workbook.properties.modified = created
    workbook.properties.title = catalog.gettext("Agent coverage report")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
