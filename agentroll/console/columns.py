"""Which column of a console export holds what: the fields agentroll reads and their header spellings.

A console's endpoint export names its columns in its own words, in English or Vietnamese. A header
is compared after lower-casing and collapsing spaces; the inventory's ``agentroll_console_columns``
(field → header or list of headers) is tried before the defaults below, so a district whose console
says ``Máy trạm`` for the computer name adds that one line and keeps the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

#: The fields agentroll reads from an export; the others are optional.
REQUIRED_FIELDS = ("computer_name", "last_seen")
FIELDS = ("computer_name", "address", "mac", "last_seen", "agent_version", "group")

#: Header spellings of common consoles, English and Vietnamese (compared as ``header_key`` makes them).
DEFAULT_HEADERS: dict[str, tuple[str, ...]] = {
    "computer_name": (
        "computer name",
        "computer",
        "endpoint name",
        "endpoint",
        "device name",
        "hostname",
        "host name",
        "machine name",
        "tên máy",
        "tên máy tính",
        "tên thiết bị",
        "máy trạm",
    ),
    "address": ("ip address", "ip", "ipv4", "ipv4 address", "địa chỉ ip", "ip máy"),
    "mac": ("mac address", "mac", "physical address", "địa chỉ mac", "địa chỉ vật lý"),
    "last_seen": (
        "last seen",
        "last contact",
        "last connected",
        "last communication",
        "last check-in",
        "last online",
        "lần kết nối cuối",
        "kết nối lần cuối",
        "lần cuối kết nối",
        "thời gian kết nối cuối",
        "lần cuối trực tuyến",
    ),
    "agent_version": ("agent version", "version", "client version", "phiên bản", "phiên bản agent"),
    "group": ("group", "endpoint group", "nhóm", "nhóm máy", "đơn vị"),
}


def header_key(header: str) -> str:
    """A header as it is compared: lower case, spaces collapsed, a trailing colon dropped."""
    return re.sub(r"\s+", " ", str(header)).strip().rstrip(":").strip().lower()


def header_spellings(custom: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Each field's spellings: the inventory's first, then the defaults."""
    return {
        field: tuple(
            dict.fromkeys(header_key(name) for name in (*custom.get(field, ()), *DEFAULT_HEADERS[field]))
        )
        for field in FIELDS
    }


def locate_columns(
    headers: Sequence[str], custom: Mapping[str, Sequence[str]]
) -> tuple[dict[str, str], list[str]]:
    """The header of each field found among ``headers``, and the problems: a required field with no
    column, or a header that appears twice. The first spelling that matches wins."""
    keys = [header_key(header) for header in headers]
    found: dict[str, str] = {}
    problems: list[str] = []
    spellings_of = header_spellings(custom)
    for field, spellings in spellings_of.items():
        for spelling in spellings:
            matches = [index for index, key in enumerate(keys) if key == spelling]
            if len(matches) > 1:
                problems.append(f"column '{headers[matches[0]]}' appears {len(matches)} times")
            if matches:
                found[field] = headers[matches[0]]
                break
    present = ", ".join(f"'{header}'" for header in headers if str(header).strip()) or "none"
    for field in REQUIRED_FIELDS:
        if field not in found:
            problems.append(
                f"no column for {field} (tried: {', '.join(spellings_of[field])}); the file's columns are "
                f"{present}: name yours in agentroll_console_columns"
            )
    return found, problems
