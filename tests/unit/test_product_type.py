"""The probe's product type in the ``facts`` observation: an unknown one stays unknown."""

from __future__ import annotations

import pytest
from probe_samples import probe_result

from agentroll.model import Aspect
from agentroll.observe import observations_from_probe


def facts_of(**changes: object) -> dict[str, object]:
    return dict(observations_from_probe(probe_result("PC01", {"installed": False}, **changes)))[Aspect.FACTS]


@pytest.mark.parametrize("raw", ["unknown", "", None, "7", "kiosk"])
def test_an_unknown_product_type_is_recorded_as_unknown_not_as_a_workstation(raw: object) -> None:
    assert facts_of(product_type=raw)["product_type"] == "unknown"


@pytest.mark.parametrize(
    ("caption", "build", "family"),
    [
        ("Microsoft Windows 10 Pro", 17763, "windows10"),
        ("Microsoft Windows Server 2019 Standard", 17763, "server2019"),
    ],
)
def test_with_an_unknown_product_type_the_os_family_goes_by_the_caption(
    caption: str, build: int, family: str
) -> None:
    """Build 17763 is both Windows 10 1809 and Server 2019: the caption tells them apart."""
    assert facts_of(product_type="unknown", os_caption=caption, os_build=build)["os_family"] == family


@pytest.mark.parametrize(
    ("raw", "product_type"),
    [("workstation", "workstation"), ("1", "workstation"), ("Server", "server"), ("2", "domain_controller")],
)
def test_known_product_types_keep_their_meaning(raw: str, product_type: str) -> None:
    assert facts_of(product_type=raw)["product_type"] == product_type
