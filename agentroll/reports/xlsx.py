"""The workbook: sheets Units, PCs, Reallocation and History, numbers stored as numbers.

Values are the report's own (coverage 32.6 stays 32.6, shown with one decimal), so a workbook read
back equals the JSON; dates and times are real date cells in local time, shown the language's way
(dd/mm/yyyy in Vietnamese). Sheet names and headers follow the language; codes and host names do not.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from agentroll.i18n import Catalog
from agentroll.reports import labels, tables
from agentroll.reports.tables import Report, Table

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1565C0")
TOTAL_FONT = Font(bold=True)
AT_RISK_FONT = Font(color="C62828", bold=True)
MAX_COLUMN_WIDTH = 60
#: Columns holding a percentage (already in percent in the report): shown with one decimal.
PERCENT_FORMAT = "0.0"


def _cell_value(value: Any, catalog: Catalog) -> Any:
    # Booleans become the language's yes/no: a TRUE/FALSE cell reads as English to a Vietnamese user.
    if isinstance(value, bool):
        return catalog.yes_no(value)
    # Excel has no time zones: a local time is stored as the wall-clock time it shows.
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def _date_formats(catalog: Catalog) -> tuple[str, str]:
    """Excel number formats of a date and of a date with time in this language."""
    day = catalog.pgettext("spreadsheet date format", "yyyy-mm-dd")
    return day, f"{day} hh:mm"


def _write_table(
    sheet: Worksheet, table: Table, catalog: Catalog, percent_columns: Sequence[int] = ()
) -> None:
    """Header row, data rows, frozen header, filter, widths, number formats."""
    sheet.append(table.headers)
    day_format, time_format = _date_formats(catalog)
    for row_number, row in enumerate(table.rows, start=2):
        sheet.append([_cell_value(value, catalog) for value in row])
        for column, value in enumerate(row, start=1):
            if isinstance(value, date):
                number_format = time_format if isinstance(value, datetime) else day_format
                sheet.cell(row=row_number, column=column).number_format = number_format
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.freeze_panes = "A2"
    if table.rows:
        sheet.auto_filter.ref = sheet.dimensions
    for index in percent_columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            cell.number_format = PERCENT_FORMAT
    _fit_widths(sheet, table, catalog)


def _fit_widths(sheet: Worksheet, table: Table, catalog: Catalog) -> None:
    for index, header in enumerate(table.headers):
        cells = [len(tables.display(row[index], catalog)) for row in table.rows if row[index] is not None]
        longest = max([len(str(header)), *cells])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(longest + 2, MAX_COLUMN_WIDTH)


def _units_sheet(sheet: Worksheet, report: Report, catalog: Catalog) -> None:
    table = tables.units_table(report, catalog)
    coverage = tables.UNIT_COLUMNS.index("coverage")
    _write_table(sheet, table, catalog, percent_columns=[coverage])
    for cell in sheet[sheet.max_row]:
        cell.font = TOTAL_FONT
    will_miss = tables.UNIT_COLUMNS.index("will_miss") + 1
    for row_number, unit in enumerate(report["units"], start=2):
        if unit.get("will_miss_deadline"):
            sheet.cell(row=row_number, column=will_miss).font = AT_RISK_FONT


def _reallocation_table(report: Report, catalog: Catalog) -> Table:
    names = tables.unit_names(report)
    rows = [
        [move["from"], names.get(move["from"], ""), move["to"], names.get(move["to"], ""), move["licenses"]]
        for move in report.get("reallocation") or ()
    ]
    headers = labels.columns(catalog, "from", "unit", "to", "unit", "licenses")
    return Table(headers, rows)


def _created(report: Report) -> datetime | None:
    # The generation time, not "now", so one report always gives the same workbook.
    try:
        return datetime.fromisoformat(str(report["generated_at"]).replace("Z", "+00:00")).replace(tzinfo=None)
    except (KeyError, ValueError):
        return None


def render_xlsx(report: Report, catalog: Catalog) -> bytes:
    """The workbook as bytes."""
    workbook = Workbook()
    units = workbook.active
    units.title = labels.sheet(catalog, "units")
    _units_sheet(units, report, catalog)
    hosts = tables.hosts_table(report, catalog)
    _write_table(workbook.create_sheet(labels.sheet(catalog, "hosts")), hosts, catalog)
    moves = _reallocation_table(report, catalog)
    _write_table(workbook.create_sheet(labels.sheet(catalog, "reallocation")), moves, catalog)
    history = tables.history_table(report, catalog)
    _write_table(
        workbook.create_sheet(labels.sheet(catalog, "history")), history, catalog, percent_columns=[4]
    )
    created = _created(report)
    if created is not None:
        workbook.properties.created = workbook.properties.modified = created
    workbook.properties.title = catalog.gettext("Agent coverage report")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
