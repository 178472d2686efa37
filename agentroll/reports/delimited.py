"""CSV: one row per PC (``csv``) and one row per unit (``units-csv``).

Numbers are written with a dot whatever the language, because CSV files are read by programs as
much as by people; dates and times are the language's (local time, dd/mm/yyyy in Vietnamese, as a
Vietnamese Excel reads them). Every file starts with a byte-order mark, so that Excel, which most
units open them with, recognises UTF-8 and shows the diacritics (an English file holds Vietnamese
names too). A text that starts like a formula gets a leading quote (``tables.spreadsheet_text``).

Both files end with the console's columns (``reports.console``), present and empty when no console
export was imported, so a script finds the same header whether or not one was.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from agentroll.i18n import Catalog
from agentroll.reports import console, labels, tables
from agentroll.reports.tables import Report, Table

UTF8_BOM = "\ufeff"


def _cell(value: Any, catalog: Catalog) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str):
        return tables.spreadsheet_text(value)
    return tables.display(value, catalog)


def _write(table: Table, catalog: Catalog) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(header, catalog) for header in table.headers])
    writer.writerows([[_cell(value, catalog) for value in row] for row in table.rows])
    return UTF8_BOM + buffer.getvalue()


def _beside(table: Table, keys: tuple[str, ...], cells: list[list[Any]], catalog: Catalog) -> Table:
    """``table`` with the columns ``keys`` added on the right, ``cells`` row by row."""
    return Table(
        table.headers + labels.columns(catalog, *keys),
        [row + extra for row, extra in zip(table.rows, cells, strict=True)],
    )


def render_hosts_csv(report: Report, catalog: Catalog) -> str:
    """One row per PC, the console's view of it last."""
    hosts = tables.hosts_table(report, catalog)
    cells = [console.console_host_cells(host, catalog) for host in report["hosts"]]
    return _write(_beside(hosts, console.CONSOLE_HOST_COLUMNS, cells, catalog), catalog)


def render_units_csv(report: Report, catalog: Catalog) -> str:
    """One row per unit, without the total row (a program can sum), the console's count last."""
    units = tables.units_table(report, catalog, with_total=False)
    cells = [console.console_unit_cells(report, unit, catalog) for unit in report["units"]]
    return _write(_beside(units, console.CONSOLE_UNIT_CSV_COLUMNS, cells, catalog), catalog)
