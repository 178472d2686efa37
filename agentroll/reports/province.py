"""The province roll-up as text: one line per district and the province's total (English)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

HEADERS = ("district", "licenses", "PCs", "installed", "coverage %", "remaining", "stragglers")


def render_province_text(report: Mapping[str, Any]) -> str:
    """Per district (``report["districts"]``) and in total: licenses, PCs, installed, coverage."""
    stragglers: dict[str, int] = {}
    straggling = set(report["stragglers"])
    for host in report["hosts"]:
        if host["host"] in straggling:
            stragglers[host["district"]] = stragglers.get(host["district"], 0) + 1
    rows = [
        _row(part["district"], part["totals"], stragglers.get(part["district"], 0))
        for part in report["districts"]
    ]
    rows.append(_row("total", report["totals"], len(straggling)))
    return tabulate(rows, headers=HEADERS, tablefmt="simple", floatfmt=".1f") + "\n"


def _row(name: str, totals: Mapping[str, Any], stragglers: int) -> list[Any]:
    return [
        name,
        totals["licenses"],
        totals["hosts"],
        totals["installed"],
        totals["coverage_pct"],
        totals["remaining"],
        stragglers,
    ]
