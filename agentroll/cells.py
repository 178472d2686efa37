"""Cells of the spreadsheets people hand us (rosters, console exports), read as text."""

from __future__ import annotations

from typing import Any


def cell_text(value: Any) -> str | None:
    """A cell as stripped text; None when blank. Whole floats (Excel's numbers) lose their ``.0``."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
