"""MAC addresses as the district writes them, in the one spelling agentroll keeps: ``00-1A-2B-3C-4D-5E``."""

from __future__ import annotations

import re

#: The spellings accepted: ``00-1A-2B-3C-4D-5E``, ``00:1a:2b:3c:4d:5e``, ``001A2B3C4D5E``, ``001A.2B3C.4D5E``.
MAC_PATTERN = re.compile(
    r"(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{12}|(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}"
)


def normalize_mac(mac: str) -> str:
    """Any accepted spelling as ``00-1A-2B-3C-4D-5E`` (as Windows writes it); ValueError otherwise."""
    text = str(mac).strip()
    if not MAC_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not a MAC address (like 00-1A-2B-3C-4D-5E)")
    digits = re.sub(r"[^0-9A-Fa-f]", "", text).upper()
    return "-".join(digits[index : index + 2] for index in range(0, 12, 2))
