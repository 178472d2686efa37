"""Can a PC take the agent? OS family from caption/build/product type, and measured-vs-required checks.

Every shortfall is an ``agentroll.reasons.Reason`` whose values are the measured and the required
value (English templates in ``agentroll.reasons.TEMPLATES``):

- ``os``: ``os`` (name), ``build``, ``supported`` (OS names); "OS Windows 7 (build 7601) not supported"
- ``os_build``: ``os``, ``measured`` and ``required`` builds; "OS Windows 10 build 10240 < 17763"
- ``architecture``: ``measured``, ``required`` (allowed ones); "architecture x86 not in x64"
- ``ram``: ``measured`` and ``required`` in MB; "RAM 1024 MB < 2048 MB"
- ``disk``: ``drive``, ``measured`` and ``required`` free MB; "free space on C: 900 MB < 2048 MB"
  (``system_drive_space`` when the drive letter is unknown)
- ``powershell``: ``measured`` and ``required`` versions; "PowerShell 2.0 < 5.1"
- ``unknown_fact``: ``fact`` (``os_build``, ``architecture``, ``ram_mb``, ``system_free_mb``,
  ``powershell_version``) and ``required``; "RAM unknown"

A missing fact makes the host ineligible: the agent is only installed where it is known to fit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentroll.reasons import Reason

#: OS family → display name used in reasons.
OS_DISPLAY_NAMES: dict[str, str] = {
    "windows7": "Windows 7",
    "windows8": "Windows 8",
    "windows8.1": "Windows 8.1",
    "windows10": "Windows 10",
    "windows11": "Windows 11",
    "server2008r2": "Windows Server 2008 R2",
    "server2012": "Windows Server 2012",
    "server2012r2": "Windows Server 2012 R2",
    "server2016": "Windows Server 2016",
    "server2019": "Windows Server 2019",
    "server2022": "Windows Server 2022",
    "server2025": "Windows Server 2025",
}

# (first build, family), highest first; a build belongs to the first entry it reaches. Server
# semi-annual/annual channel builds (1709 ... 23H2) fall in with the LTSC release before them.
_WORKSTATION_BUILDS: tuple[tuple[int, str], ...] = (
    (22000, "windows11"),
    (10240, "windows10"),
    (9600, "windows8.1"),
    (9200, "windows8"),
    (7600, "windows7"),
)
_SERVER_BUILDS: tuple[tuple[int, str], ...] = (
    (26100, "server2025"),
    (20348, "server2022"),
    (17763, "server2019"),
    (14393, "server2016"),
    (9600, "server2012r2"),
    (9200, "server2012"),
    (7600, "server2008r2"),
)
# Used only when the build is unknown; longer patterns first so "8.1" is not read as "8".
_CAPTION_FAMILIES: tuple[tuple[str, str], ...] = (
    (r"server 2008 r2", "server2008r2"),
    (r"server 2012 r2", "server2012r2"),
    (r"server 2012", "server2012"),
    (r"server 2016", "server2016"),
    (r"server 2019", "server2019"),
    (r"server 2022", "server2022"),
    (r"server 2025", "server2025"),
    (r"windows 11\b", "windows11"),
    (r"windows 10\b", "windows10"),
    (r"windows 8\.1\b", "windows8.1"),
    (r"windows 8\b", "windows8"),
    (r"windows 7\b", "windows7"),
)
_SERVER_PRODUCT_TYPES = frozenset({"server", "domain_controller", "2", "3"})
_WORKSTATION_PRODUCT_TYPES = frozenset({"workstation", "1"})

_ARCHITECTURE_ALIASES: dict[str, str] = {
    "x64": "x64",
    "amd64": "x64",
    "x86_64": "x64",
    "64-bit": "x64",
    "x86": "x86",
    "i386": "x86",
    "i686": "x86",
    "32-bit": "x86",
    "arm64": "arm64",
    "aarch64": "arm64",
    "arm 64-bit processor": "arm64",
}

_VERSION_PATTERN = re.compile(r"\d+(\.\d+)*")


def os_family(caption: str, build: int, product_type: str) -> str:
    """Return the OS family ("windows10", "server2019", ... or "unknown") of a Windows host.

    The build number decides; the product type says workstation or server (when it is missing,
    a caption mentioning "Server" does); the caption alone decides only when the build is unknown.
    """
    caption_text = (caption or "").lower()
    kind = str(product_type or "").strip().lower()
    is_server = kind in _SERVER_PRODUCT_TYPES or (
        kind not in _WORKSTATION_PRODUCT_TYPES and "server" in caption_text
    )
    if isinstance(build, int) and not isinstance(build, bool) and build > 0:
        for first_build, family in _SERVER_BUILDS if is_server else _WORKSTATION_BUILDS:
            if build >= first_build:
                return family
        return "unknown"
    for pattern, family in _CAPTION_FAMILIES:
        if re.search(pattern, caption_text):
            return family
    return "unknown"


def family_first_builds() -> list[dict[str, Any]]:
    """What ``os_family`` decides by, as data: the first build of each family, for workstations and
    servers (``product_type`` ``workstation`` or ``server``), with its display name."""
    return [
        {"product_type": kind, "family": family, "first_build": first_build, "name": OS_DISPLAY_NAMES[family]}
        for kind, table in (("workstation", _WORKSTATION_BUILDS), ("server", _SERVER_BUILDS))
        for first_build, family in table
    ]


def _version_tuple(text: str) -> tuple[int, ...]:
    """Parse "5.1.19041.4648" into (5, 1, 19041, 4648); ValueError when it is no dotted number."""
    match = _VERSION_PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    return tuple(int(part) for part in text.strip().split("."))


def _version_at_least(measured: str, required: str) -> bool:
    """Compare dotted versions numerically, missing parts counting as 0 ("5.1" == "5.1.0")."""
    have, need = _version_tuple(measured), _version_tuple(required)
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def normalize_architecture(value: str) -> str:
    """Map the spellings Windows uses ("AMD64", "64-bit", ...) onto x64 / x86 / arm64."""
    text = str(value).strip().lower()
    return _ARCHITECTURE_ALIASES.get(text, text)


@dataclass(frozen=True)
class Requirements:
    """What the agent needs of a PC, from the agent profile."""

    os_min_builds: Mapping[str, int]
    architectures: frozenset[str]
    min_ram_mb: int
    min_system_free_mb: int
    min_powershell: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Requirements:
        """Build from the agent profile's requirements dict; ValueError names the bad key."""
        if not isinstance(mapping, Mapping):
            raise ValueError(f"requirements must be a mapping, not {type(mapping).__name__}")
        return cls(
            os_min_builds=_os_min_builds(_required(mapping, "os")),
            architectures=_architectures(_required(mapping, "architectures")),
            min_ram_mb=_non_negative_int(mapping, "min_ram_mb"),
            min_system_free_mb=_non_negative_int(mapping, "min_system_free_mb"),
            min_powershell=_powershell_version(_required(mapping, "min_powershell")),
        )


def _required(mapping: Mapping[str, Any], key: str) -> Any:
    if key not in mapping or mapping[key] is None:
        raise ValueError(f"requirements: key {key!r} is missing")
    return mapping[key]


def _os_min_builds(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"requirements: key 'os' must map OS families to minimum builds, got {value!r}")
    builds: dict[str, int] = {}
    for family, build in value.items():
        if family not in OS_DISPLAY_NAMES:
            raise ValueError(f"requirements: key 'os' has unknown OS family {family!r}")
        if not _is_int(build) or build < 0:
            raise ValueError(f"requirements: key 'os.{family}' must be a build number, got {build!r}")
        builds[str(family)] = int(build)
    return builds


def _architectures(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset) or not value:
        raise ValueError(f"requirements: key 'architectures' must be a non-empty list, got {value!r}")
    normalized = frozenset(normalize_architecture(item) for item in value)
    unknown = sorted(normalized - {"x64", "x86", "arm64"})
    if unknown:
        raise ValueError(f"requirements: key 'architectures' has unknown architecture {unknown[0]!r}")
    return normalized


def _non_negative_int(mapping: Mapping[str, Any], key: str) -> int:
    value = _required(mapping, key)
    if not _is_int(value) or value < 0:
        raise ValueError(f"requirements: key {key!r} must be an integer >= 0, got {value!r}")
    return int(value)


def _powershell_version(value: Any) -> str:
    # YAML reads an unquoted 5.1 as a float; accept it rather than make operators quote it.
    text = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    if not _VERSION_PATTERN.fullmatch(text):
        raise ValueError(f"requirements: key 'min_powershell' must be a version like \"5.1\", got {value!r}")
    return text


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Eligibility:
    """Whether a PC can take the agent, and every shortfall if not."""

    eligible: bool
    reasons: tuple[Reason, ...] = ()

    @classmethod
    def from_reasons(cls, reasons: tuple[Reason, ...]) -> Eligibility:
        """Eligible exactly when nothing falls short."""
        return cls(eligible=not reasons, reasons=reasons)

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Eligibility:
        """From an ``eligibility`` observation value (reasons of older stores are bare strings)."""
        reasons = tuple(Reason.from_value(reason) for reason in value.get("reasons") or ())
        return cls(eligible=bool(value.get("eligible")), reasons=reasons)

    def as_value(self) -> dict[str, Any]:
        """The ``eligibility`` observation value."""
        return {"eligible": self.eligible, "reasons": [reason.as_value() for reason in self.reasons]}


def _int_fact(facts: Mapping[str, Any], key: str) -> int | None:
    """An integer fact, or None when missing or not a number (numeric strings are accepted)."""
    value = facts.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _unknown(fact: str, required: Any) -> Reason:
    return Reason("unknown_fact", {"fact": fact, "required": required})


def _os_shortfalls(requirements: Requirements, facts: Mapping[str, Any]) -> list[Reason]:
    supported = [OS_DISPLAY_NAMES[f] for f in requirements.os_min_builds]
    build = _int_fact(facts, "os_build")
    if build is None:
        return [_unknown("os_build", supported)]
    caption = str(facts.get("os_caption") or "")
    family = facts.get("os_family") or os_family(caption, build, str(facts.get("product_type") or ""))
    name = OS_DISPLAY_NAMES.get(family) or caption.removeprefix("Microsoft ").strip() or "unknown"
    minimum = requirements.os_min_builds.get(family)
    if minimum is None:
        return [Reason("os", {"os": name, "build": build, "supported": supported})]
    if build < minimum:
        return [Reason("os_build", {"os": name, "measured": build, "required": minimum})]
    return []


def _architecture_shortfalls(requirements: Requirements, facts: Mapping[str, Any]) -> list[Reason]:
    allowed = sorted(requirements.architectures)
    raw = facts.get("architecture")
    if not raw:
        return [_unknown("architecture", allowed)]
    architecture = normalize_architecture(raw)
    if architecture not in requirements.architectures:
        return [Reason("architecture", {"measured": architecture, "required": allowed})]
    return []


def _ram_shortfalls(requirements: Requirements, facts: Mapping[str, Any]) -> list[Reason]:
    ram = _int_fact(facts, "ram_mb")
    if ram is None:
        return [_unknown("ram_mb", requirements.min_ram_mb)]
    if ram < requirements.min_ram_mb:
        return [Reason("ram", {"measured": ram, "required": requirements.min_ram_mb})]
    return []


def _disk_shortfalls(requirements: Requirements, facts: Mapping[str, Any]) -> list[Reason]:
    required = requirements.min_system_free_mb
    free = _int_fact(facts, "system_free_mb")
    if free is None:
        return [_unknown("system_free_mb", required)]
    if free < required:
        drive = facts.get("system_drive")
        if not drive:
            return [Reason("system_drive_space", {"measured": free, "required": required})]
        return [Reason("disk", {"drive": str(drive), "measured": free, "required": required})]
    return []


def _powershell_shortfalls(requirements: Requirements, facts: Mapping[str, Any]) -> list[Reason]:
    measured = str(facts.get("powershell_version") or "").strip()
    try:
        enough = _version_at_least(measured, requirements.min_powershell)
    except ValueError:
        return [_unknown("powershell_version", requirements.min_powershell)]
    if not enough:
        return [Reason("powershell", {"measured": measured, "required": requirements.min_powershell})]
    return []


def evaluate(requirements: Requirements, facts: Mapping[str, Any]) -> Eligibility:
    """Check a host's ``facts`` observation value against the requirements; lists every shortfall."""
    shortfalls = (
        _os_shortfalls(requirements, facts)
        + _architecture_shortfalls(requirements, facts)
        + _ram_shortfalls(requirements, facts)
        + _disk_shortfalls(requirements, facts)
        + _powershell_shortfalls(requirements, facts)
    )
    return Eligibility.from_reasons(tuple(shortfalls))
