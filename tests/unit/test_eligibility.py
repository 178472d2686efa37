"""Eligibility: requirements from the agent profile, OS families, and measured-vs-required reasons."""

from __future__ import annotations

from typing import Any

import pytest
from probe_samples import CAPABLE_PC

from agentroll.eligibility import Eligibility, Requirements, evaluate, os_family
from agentroll.reasons import Reason

PROFILE: dict[str, Any] = {
    "os": {"windows10": 17763, "windows11": 22000, "server2016": 14393},
    "architectures": ["x64"],
    "min_ram_mb": 2048,
    "min_system_free_mb": 2048,
    "min_powershell": "5.1",
}
REQUIREMENTS = Requirements.from_mapping(PROFILE)

GOOD_FACTS: dict[str, Any] = {**CAPABLE_PC, "os_family": "windows10"}


def test_requirements_from_profile() -> None:
    expected = Requirements(
        os_min_builds={"windows10": 17763, "windows11": 22000, "server2016": 14393},
        architectures=frozenset({"x64"}),
        min_ram_mb=2048,
        min_system_free_mb=2048,
        min_powershell="5.1",
    )
    assert expected == REQUIREMENTS


def test_requirements_accept_an_unquoted_yaml_version_and_windows_architecture_spellings() -> None:
    requirements = Requirements.from_mapping({**PROFILE, "min_powershell": 5.1, "architectures": ["AMD64"]})
    assert requirements.min_powershell == "5.1"
    assert requirements.architectures == frozenset({"x64"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"os": None}, "key 'os' is missing"),
        ({"os": {"windows95": 950}}, "unknown OS family 'windows95'"),
        ({"os": {"windows10": "new"}}, "key 'os.windows10' must be a build number"),
        ({"os": []}, "key 'os' must map"),
        ({"architectures": "x64"}, "key 'architectures' must be a non-empty list"),
        ({"architectures": ["sparc"]}, "unknown architecture 'sparc'"),
        ({"min_ram_mb": -1}, "key 'min_ram_mb' must be an integer >= 0"),
        ({"min_ram_mb": True}, "key 'min_ram_mb' must be an integer >= 0"),
        ({"min_system_free_mb": "2 GB"}, "key 'min_system_free_mb' must be an integer"),
        ({"min_powershell": "five"}, "key 'min_powershell' must be a version"),
    ],
)
def test_bad_requirements_name_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Requirements.from_mapping({**PROFILE, **change})


def test_missing_requirement_key_is_named() -> None:
    profile = dict(PROFILE)
    del profile["min_system_free_mb"]
    with pytest.raises(ValueError, match="key 'min_system_free_mb' is missing"):
        Requirements.from_mapping(profile)


@pytest.mark.parametrize(
    ("caption", "build", "product_type", "family"),
    [
        ("Microsoft Windows 7 Professional", 7601, "workstation", "windows7"),
        ("Microsoft Windows 8 Pro", 9200, "workstation", "windows8"),
        ("Microsoft Windows 8.1 Pro", 9600, "workstation", "windows8.1"),
        ("Microsoft Windows 10 Pro", 10240, "workstation", "windows10"),
        ("Microsoft Windows 10 Pro", 19045, "workstation", "windows10"),
        # Windows 11 is decided by the build, whatever the caption says.
        ("Microsoft Windows 10 Pro", 22000, "workstation", "windows11"),
        ("Microsoft Windows 11 Pro", 26100, "workstation", "windows11"),
        ("Microsoft Windows Server 2008 R2 Standard", 7601, "server", "server2008r2"),
        ("Microsoft Windows Server 2012 Standard", 9200, "server", "server2012"),
        ("Microsoft Windows Server 2012 R2 Standard", 9600, "server", "server2012r2"),
        ("Microsoft Windows Server 2016 Standard", 14393, "domain_controller", "server2016"),
        ("Microsoft Windows Server 2019 Standard", 17763, "server", "server2019"),
        ("Microsoft Windows Server 2022 Standard", 20348, "server", "server2022"),
        ("Microsoft Windows Server 2025 Standard", 26100, "server", "server2025"),
        # Without a product type the caption says whether it is a server.
        ("Microsoft Windows Server 2019 Datacenter", 17763, "", "server2019"),
        ("Microsoft Windows XP Professional", 2600, "workstation", "unknown"),
        # Without a build the caption decides.
        ("Microsoft Windows 8.1 Pro", 0, "workstation", "windows8.1"),
        ("Microsoft Windows Server 2012 R2 Standard", 0, "", "server2012r2"),
        ("Something else", 0, "", "unknown"),
    ],
)
def test_os_family(caption: str, build: int, product_type: str, family: str) -> None:
    assert os_family(caption, build, product_type) == family


def test_good_pc_is_eligible() -> None:
    result = evaluate(REQUIREMENTS, GOOD_FACTS)
    assert result.eligible is True
    assert result.reasons == ()
    assert result.as_value() == {"eligible": True, "reasons": []}


@pytest.mark.parametrize(
    ("change", "code", "reason"),
    [
        ({"ram_mb": 1024}, "ram", "RAM 1024 MB < 2048 MB"),
        ({"system_free_mb": 900}, "disk", "free space on C: 900 MB < 2048 MB"),
        (
            {"os_caption": "Microsoft Windows 7 Professional", "os_build": 7601, "os_family": "windows7"},
            "os",
            "OS Windows 7 (build 7601) not supported",
        ),
        ({"os_build": 10240}, "os_build", "OS Windows 10 build 10240 < 17763"),
        ({"architecture": "x86"}, "architecture", "architecture x86 not in x64"),
        ({"powershell_version": "2.0"}, "powershell", "PowerShell 2.0 < 5.1"),
        ({"powershell_version": "5.0.10586.117"}, "powershell", "PowerShell 5.0.10586.117 < 5.1"),
        ({"ram_mb": None}, "unknown_fact", "RAM unknown"),
        ({"os_build": None}, "unknown_fact", "OS build unknown"),
        ({"powershell_version": ""}, "unknown_fact", "PowerShell version unknown"),
        ({"architecture": None}, "unknown_fact", "architecture unknown"),
        ({"system_free_mb": "lots"}, "unknown_fact", "free space on the system drive unknown"),
    ],
)
def test_each_shortfall_gives_measured_and_required(change: dict[str, Any], code: str, reason: str) -> None:
    result = evaluate(REQUIREMENTS, {**GOOD_FACTS, **change})
    assert result.eligible is False
    assert [(shortfall.code, shortfall.english()) for shortfall in result.reasons] == [(code, reason)]


def test_shortfalls_are_data_until_rendered() -> None:
    result = evaluate(REQUIREMENTS, {**GOOD_FACTS, "ram_mb": 1024, "system_free_mb": 900, "os_build": 10240})
    assert result.reasons == (
        Reason("os_build", {"os": "Windows 10", "measured": 10240, "required": 17763}),
        Reason("ram", {"measured": 1024, "required": 2048}),
        Reason("disk", {"drive": "C:", "measured": 900, "required": 2048}),
    )
    assert result.as_value()["reasons"][1] == {"code": "ram", "measured": 1024, "required": 2048}


def test_an_unnamed_system_drive_is_still_measured() -> None:
    result = evaluate(REQUIREMENTS, {**GOOD_FACTS, "system_drive": None, "system_free_mb": 900})
    assert [reason.english() for reason in result.reasons] == [
        "free space on the system drive 900 MB < 2048 MB"
    ]


def test_an_observation_value_reads_back_older_sentences_included() -> None:
    stored = evaluate(REQUIREMENTS, {**GOOD_FACTS, "ram_mb": 1024}).as_value()
    assert Eligibility.from_value(stored) == Eligibility(
        False, (Reason("ram", {"measured": 1024, "required": 2048}),)
    )
    older = Eligibility.from_value({"eligible": False, "reasons": ["RAM 1024 MB < 2048 MB"]})
    assert older.reasons == (Reason("text", {"text": "RAM 1024 MB < 2048 MB"}),)
    assert older.reasons[0].english() == "RAM 1024 MB < 2048 MB"


def test_every_shortfall_is_listed_not_just_the_first() -> None:
    facts = {
        "os_caption": "Microsoft Windows 7 Professional",
        "os_build": 7601,
        "product_type": "workstation",
        "architecture": "x86",
        "ram_mb": 1024,
        "system_drive": "C:",
        "system_free_mb": 900,
        "powershell_version": "2.0",
    }
    result = evaluate(REQUIREMENTS, facts)
    assert [reason.english() for reason in result.reasons] == [
        "OS Windows 7 (build 7601) not supported",
        "architecture x86 not in x64",
        "RAM 1024 MB < 2048 MB",
        "free space on C: 900 MB < 2048 MB",
        "PowerShell 2.0 < 5.1",
    ]


def test_empty_facts_make_every_fact_unknown() -> None:
    result = evaluate(REQUIREMENTS, {})
    assert not result.eligible
    assert {reason.code for reason in result.reasons} == {"unknown_fact"}
    assert [reason.values["fact"] for reason in result.reasons] == [
        "os_build",
        "architecture",
        "ram_mb",
        "system_free_mb",
        "powershell_version",
    ]


def test_os_family_is_computed_when_facts_lack_it() -> None:
    facts = {**GOOD_FACTS, "os_build": 14393, "product_type": "server", "os_caption": "Windows Server 2016"}
    del facts["os_family"]
    assert evaluate(REQUIREMENTS, facts).eligible


def test_unknown_os_is_named_by_its_caption() -> None:
    facts = {**GOOD_FACTS, "os_caption": "Microsoft Windows XP Professional", "os_build": 2600}
    del facts["os_family"]
    reasons = evaluate(REQUIREMENTS, facts).reasons
    assert [reason.english() for reason in reasons] == [
        "OS Windows XP Professional (build 2600) not supported"
    ]


@pytest.mark.parametrize(
    ("measured", "eligible"), [("5.1", True), ("5.1.0", True), ("7.4.6", True), ("5.0", False)]
)
def test_powershell_versions_compare_numerically(measured: str, eligible: bool) -> None:
    assert evaluate(REQUIREMENTS, {**GOOD_FACTS, "powershell_version": measured}).eligible is eligible


def test_requirement_at_exactly_the_minimum_is_enough() -> None:
    facts = {**GOOD_FACTS, "ram_mb": 2048, "system_free_mb": 2048, "os_build": 17763}
    assert evaluate(REQUIREMENTS, facts).eligible
