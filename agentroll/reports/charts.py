"""Inline SVG charts for the HTML report, drawn in Python so the page needs no script or library.

Every chart is a self-contained ``<svg>`` string with a viewBox, so it scales to the page width.
Texts are escaped here; the template inserts the strings as trusted markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from agentroll.i18n import Catalog
from agentroll.reports import labels
from agentroll.reports.tables import STATE_ORDER

#: One colour per state, chosen so that good states read green, waiting ones amber, bad ones red.
STATE_COLOURS: dict[str, str] = {
    "compliant": "#2e7d32",
    "reboot_pending": "#7cb342",
    "misnamed": "#c0ca33",
    "agent_unhealthy": "#f9a825",
    "not_installed": "#90a4ae",
    "ineligible": "#6d4c41",
    "unmanageable": "#8e24aa",
    "unreachable": "#e65100",
    "failed": "#c62828",
    "unknown": "#cfd8dc",
}
ON_TRACK = "#1565c0"
AT_RISK = "#c62828"
GRID = "#d0d7de"
INK = "#1f2328"
MUTED = "#57606a"


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 14, **extra: str) -> str:
    attributes = "".join(f' {name.replace("_", "-")}="{escape(value)}"' for name, value in extra.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{attributes}>'
        f"{escape(content)}</text>"
    )


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        # Inline SVG in HTML needs no namespace declaration, and leaving it out keeps the page
        # free of any URL at all.
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" class="chart" fill="{INK}">' + "".join(body) + "</svg>"
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Average advance of a character, in em, of the sans-serif fonts the page lists; a little generous,
#: so that a label estimated with it ends inside the box it is given.
CHARACTER_WIDTH_EM = 0.62


def _text_width(text: str, size: int) -> float:
    """About how wide ``text`` is drawn at font ``size``."""
    return len(text) * size * CHARACTER_WIDTH_EM


def unit_coverage_chart(units: Sequence[Mapping[str, Any]], catalog: Catalog) -> str:
    """One horizontal bar per unit (exactly), coverage in % of its licenses, 100 % marked.

    The box is as wide as the labels need: names on the left, and on the right the value after the
    longest bar (the "100 %" tick included), so that no text is cut at either edge in any language.
    """
    name_size, value_size, bar_width, row, top = 14, 13, 520, 30, 34
    names = [_truncate(f"{unit['code']} · {unit['name']}", 44) for unit in units]
    values = [
        f"{catalog.percent(float(unit['coverage_pct']))}  {unit['installed']}/{unit['licenses']}"
        for unit in units
    ]
    label_width = max([_text_width(name, name_size) for name in names] + [120.0]) + 12
    tick_room = _text_width(catalog.percent(100, 0), 12) / 2
    value_room = max([_text_width(value, value_size) for value in values] + [tick_room]) + 16
    width = round(label_width + bar_width + value_room)
    height = top + row * len(units) + 30
    title = catalog.gettext("Coverage per unit (% of licenses)")
    body = [_text(label_width, 18, title, size=15, fill=MUTED)]
    for tick in (0, 25, 50, 75, 100):
        x = label_width + bar_width * tick / 100
        body.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 24}" stroke="{GRID}"/>')
        tick_label = catalog.percent(tick, 0) if tick == 100 else str(tick)
        body.append(_text(x, height - 8, tick_label, anchor="middle", size=12, fill=MUTED))
    for index, (unit, name, value) in enumerate(zip(units, names, values, strict=True)):
        y = top + index * row
        pct = float(unit["coverage_pct"])
        colour = AT_RISK if unit.get("will_miss_deadline") else ON_TRACK
        length = bar_width * min(pct, 100.0) / 100
        body.append(_text(label_width - 10, y + 15, name, anchor="end", size=name_size))
        body.append(
            f'<rect class="bar" data-unit="{escape(unit["code"])}" data-coverage="{pct:.1f}" '
            f'x="{label_width:.1f}" y="{y + 2}" width="{length:.1f}" height="{row - 10}" rx="3" '
            f'fill="{colour}">'
            f"<title>{escape(unit['name'])}: {unit['installed']}/{unit['licenses']}</title></rect>"
        )
        body.append(_text(label_width + length + 8, y + 15, value, size=value_size, fill=MUTED))
    return _svg(width, height, body, title)


def state_chart(states: Mapping[str, int], catalog: Catalog) -> str:
    """All PCs as one stacked bar split by state, with a legend of the non-empty states."""
    width, bar_height, legend_row = 940, 38, 26
    total = sum(states.get(state, 0) for state in STATE_ORDER) or 1
    present = [state for state in STATE_ORDER if states.get(state, 0)]
    height = 10 + bar_height + 14 + legend_row * ((len(present) + 2) // 3)
    body: list[str] = []
    x = 0.0
    for state in present:
        share = width * states[state] / total
        body.append(
            f'<rect class="state" data-state="{state}" x="{x:.1f}" y="10" width="{share:.1f}" '
            f'height="{bar_height}" fill="{STATE_COLOURS[state]}">'
            f"<title>{escape(labels.state(catalog, state))}: {states[state]}</title></rect>"
        )
        x += share
    for index, state in enumerate(present):
        column, line = index % 3, index // 3
        lx, ly = column * (width / 3), 10 + bar_height + 24 + line * legend_row
        swatch = STATE_COLOURS[state]
        body.append(f'<rect x="{lx:.1f}" y="{ly - 12}" width="14" height="14" fill="{swatch}"/>')
        body.append(_text(lx + 20, ly, f"{labels.state(catalog, state)}: {states[state]}", size=14))
    return _svg(width, height, body, catalog.gettext("PCs by state"))


def history_chart(history: Sequence[Mapping[str, Any]], catalog: Catalog) -> str:
    """Coverage after each recorded run as a line with labelled points, 0-100 % on the y axis."""
    width, height, left, right, top, bottom = 940, 300, 110, 90, 30, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    title = catalog.gettext("Coverage after each run (% of licenses)")
    body = [_text(left, 18, title, size=15, fill=MUTED)]
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 5, f"{tick}", anchor="end", size=12, fill=MUTED))
    count = len(history)
    step = plot_w / max(count - 1, 1)
    points = []
    for index, point in enumerate(history):
        x = left + (index * step if count > 1 else plot_w / 2)
        y = top + plot_h * (1 - min(float(point["coverage_pct"]), 100.0) / 100)
        points.append((x, y, point))
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{ON_TRACK}" stroke-width="3"/>')
    # Beyond about eight runs the axis labels would overlap: label every n-th run and the last.
    label_every = max(1, -(-count // 8))
    for index, (x, y, point) in enumerate(points):
        labelled = index % label_every == 0 or index == count - 1
        run_label = f"#{point['run_id']} {point['playbook']}"
        stamp = point.get("finished_at") or point.get("started_at")
        day = catalog.date(catalog.local(stamp)) if stamp else ""
        body.append(
            f'<circle class="run" data-run="{point["run_id"]}" cx="{x:.1f}" cy="{y:.1f}" r="6" '
            f'fill="{ON_TRACK}"/>'
        )
        if not labelled:
            continue
        body.append(_text(x, y - 12, catalog.percent(float(point["coverage_pct"])), anchor="middle", size=13))
        body.append(_text(x, height - bottom + 22, run_label, anchor="middle", size=12, fill=MUTED))
        body.append(_text(x, height - bottom + 40, day, anchor="middle", size=12, fill=MUTED))
    return _svg(width, height, body, title)
