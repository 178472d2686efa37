"""Standard names: transliteration, SHORT, validity, fitting to 15, collisions, overrides, templates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentroll.model import Host, Inventory, Unit
from agentroll.naming import (
    DEFAULT_TEMPLATE,
    NamingError,
    is_correctly_named,
    is_valid_name,
    short_name,
    standard_names,
    transliterate,
)


def make_inventory(*hosts: Host) -> Inventory:
    """An inventory whose units are exactly the codes the hosts use, 10 licenses each."""
    codes = sorted({host.unit for host in hosts})
    units = tuple(Unit(code=code, name=f"Unit {code}", licenses=10, group=code.lower()) for code in codes)
    return Inventory(units=units, hosts=hosts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Phạm Văn Thắng", "Pham Van Thang"),
        ("Đặng Đức", "Dang Duc"),
        ("đường", "duong"),
        ("Ðặng", "Dang"),  # eth, as left behind by old Vietnamese encodings
        ("Nguyễn Thị Ánh Tuyết", "Nguyen Thi Anh Tuyet"),
        ("Ỷ Lan ỗ ự", "Y Lan o u"),
        ("ASCII stays", "ASCII stays"),
        ("", ""),
    ],
)
def test_transliterate(text: str, expected: str) -> None:
    assert transliterate(text) == expected


def test_transliterate_handles_precomposed_and_decomposed_input_alike() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Thắng")
    assert transliterate(decomposed) == transliterate("Thắng") == "Thang"


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("Phạm Văn Thắng", "THANGPV"),
        ("Nguyễn Thị Ánh Tuyết", "TUYETNTA"),
        ("Đặng Đức", "DUCD"),
        ("Phương", "PHUONG"),
        ("  Lê   Thị\tHoa  ", "HOALT"),
        ("đỗ đình đạt", "DATDD"),
        ("Nguyễn Văn A.", "ANV"),
        ("Trần O'Neil", "ONEILT"),
    ],
)
def test_short_name(owner: str, expected: str) -> None:
    assert short_name(owner) == expected


def test_short_name_without_letters_is_an_error_naming_the_owner() -> None:
    with pytest.raises(NamingError, match=r"'\.\.\.'"):
        short_name("...")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("SNV-THANGPV", True),
        ("A", True),
        ("ABCDEFGHIJKLMNO", True),
        ("ABCDEFGHIJKLMNOP", False),
        ("12345", False),
        ("-SNV", False),
        ("SNV-", False),
        ("snv-thangpv", False),
        ("SNV_THANGPV", False),
        ("SNV THANGPV", False),
        ("SNV-THANGPV\n", False),
        ("", False),
        ("1-2", True),
    ],
)
def test_is_valid_name(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid


@pytest.mark.parametrize(
    ("computer_name", "standard", "expected"),
    [
        ("snv-thangpv", "SNV-THANGPV", True),
        ("SNV-THANGPV", "SNV-THANGPV", True),
        ("MAYPHUONG", "SNV-PHUONGNT", False),
        (None, "SNV-PHUONGNT", False),
    ],
)
def test_is_correctly_named(computer_name: str | None, standard: str, expected: bool) -> None:
    assert is_correctly_named(computer_name, standard) is expected


def test_default_names_of_owners() -> None:
    inventory = make_inventory(
        Host("snv-01", "SNV", owner="Phạm Văn Thắng"),
        Host("snv-02", "SNV", owner="Nguyễn Thị Ánh Tuyết"),
        Host("xd-01", "XAHUNG", owner="Đặng Đức"),
    )
    assert standard_names(inventory) == {
        "snv-01": "SNV-THANGPV",
        "snv-02": "SNV-TUYETNTA",
        "xd-01": "XAHUNG-DUCD",
    }


def test_ownerless_hosts_get_pc_numbers_in_hostname_order_per_unit() -> None:
    inventory = make_inventory(
        Host("snv-c", "SNV"),
        Host("snv-a", "SNV"),
        Host("snv-b", "SNV", owner="Phương"),
        Host("vp-z", "VP"),
    )
    assert standard_names(inventory) == {
        "snv-c": "SNV-PC02",
        "snv-a": "SNV-PC01",
        "snv-b": "SNV-PHUONG",
        "vp-z": "VP-PC01",
    }


def test_overridden_ownerless_hosts_keep_their_pc_number() -> None:
    inventory = make_inventory(Host("a", "SNV", standard_name_override="SNV-SERVER"), Host("b", "SNV"))
    assert standard_names(inventory) == {"a": "SNV-SERVER", "b": "SNV-PC02"}


def test_owner_without_letters_counts_as_no_owner() -> None:
    inventory = make_inventory(Host("a", "SNV", owner="  ?? "))
    assert standard_names(inventory) == {"a": "SNV-PC01"}


@pytest.mark.parametrize(
    ("unit", "owner", "expected"),
    [
        ("SNV", "Nguyễn Thị Ánh Tuyết Hoàng Longlonglong", "SNV-LONGLONGLON"),
        ("TTVHTTTT", "Nguyễn Thị Ánh Tuyết", "TTVHTTTT-TUYETN"),
        ("ABCDEFGH", "Phạm Văn Thắng", "ABCDEFGH-THANGP"),
        ("ABCDEFGH", "Lê Na", "ABCDEFGH-NAL"),
    ],
)
def test_long_names_are_cut_to_15(unit: str, owner: str, expected: str) -> None:
    names = standard_names(make_inventory(Host("h", unit, owner=owner)))
    assert names == {"h": expected}
    assert len(expected) <= 15


def test_collisions_across_units_get_2_3_in_hostname_order() -> None:
    inventory = make_inventory(
        Host("c-host", "SNV", owner="Phạm Văn Thắng"),
        Host("a-host", "SNV", owner="Phạm Văn Thắng"),
        Host("b-host", "SNV", owner="Phạm Văn Thắng"),
        Host("d-host", "VP", owner="Phạm Văn Thắng"),
    )
    assert standard_names(inventory) == {
        "a-host": "SNV-THANGPV",
        "b-host": "SNV-THANGPV2",
        "c-host": "SNV-THANGPV3",
        "d-host": "VP-THANGPV",
    }


def test_collision_suffix_cuts_short_further_to_fit() -> None:
    owner = "Nguyễn Thị Ánh Tuyết"
    inventory = make_inventory(Host("a", "TTVHTTTT", owner=owner), Host("b", "TTVHTTTT", owner=owner))
    assert standard_names(inventory) == {"a": "TTVHTTTT-TUYETN", "b": "TTVHTTTT-TUYET2"}


def test_collision_between_two_cut_names_of_different_owners() -> None:
    inventory = make_inventory(
        Host("a", "ABCDEFGH", owner="Trần Văn Anh Thắng"),
        Host("b", "ABCDEFGH", owner="Trần Văn Bình Thắng"),
    )
    assert standard_names(inventory) == {"a": "ABCDEFGH-THANGT", "b": "ABCDEFGH-THANG2"}


def test_suffixed_name_never_takes_a_later_hosts_natural_name() -> None:
    # "b" would naturally be "SNV-AN2"; "a2" must skip it rather than displace it.
    inventory = make_inventory(
        Host("a1", "SNV", owner="An"),
        Host("a2", "SNV", owner="An"),
        Host("b", "SNV", standard_name_override=None, owner="An2"),
    )
    assert standard_names(inventory) == {"a1": "SNV-AN", "a2": "SNV-AN3", "b": "SNV-AN2"}


def test_override_wins_and_is_upper_cased() -> None:
    inventory = make_inventory(
        Host("a", "SNV", owner="Phạm Văn Thắng", standard_name_override=" snv-boss "),
        Host("b", "SNV", owner="Phạm Văn Thắng"),
    )
    assert standard_names(inventory) == {"a": "SNV-BOSS", "b": "SNV-THANGPV"}


def test_computed_name_colliding_with_an_override_gets_a_suffix() -> None:
    inventory = make_inventory(
        Host("a", "SNV", owner="Phạm Văn Thắng"),
        Host("z", "SNV", standard_name_override="SNV-THANGPV"),
    )
    assert standard_names(inventory) == {"a": "SNV-THANGPV2", "z": "SNV-THANGPV"}


def test_two_overrides_on_one_name_name_both_hosts() -> None:
    inventory = make_inventory(
        Host("alpha", "SNV", standard_name_override="SNV-X"),
        Host("beta", "SNV", standard_name_override="snv-x"),
    )
    with pytest.raises(NamingError, match=r"alpha and beta.*SNV-X"):
        standard_names(inventory)


@pytest.mark.parametrize("override", ["12345", "SNV_X", "-SNV", "A" * 16, ""])
def test_invalid_override_names_the_host(override: str) -> None:
    inventory = make_inventory(Host("pc-7", "SNV", standard_name_override=override))
    with pytest.raises(NamingError, match=r"^host pc-7: standard name"):
        standard_names(inventory)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ short }}-{{ unit_code }}", {"a": "THANGPV-SNV", "b": "PC01-SNV"}),
        ("{{ unit_code }}{{ given }}{{ initials }}", {"a": "SNVTHANGPV", "b": "SNV"}),
        ("{{ unit_code }}-{{ short if given else '%03d' % index }}", {"a": "SNV-THANGPV", "b": "SNV-001"}),
        ("{{ host }}{{ owner | replace(' ', '') }}", {"a": "APHAMVANTHANG", "b": "B"}),
    ],
)
def test_custom_template(template: str, expected: dict[str, str]) -> None:
    inventory = make_inventory(Host("a", "SNV", owner="Phạm Văn Thắng"), Host("b", "SNV"))
    assert standard_names(inventory, template) == expected


def test_custom_template_too_long_cuts_the_rendered_short_part() -> None:
    inventory = make_inventory(
        Host("a", "TTVHTTTT", owner="Nguyễn Thị Ánh Tuyết"),
        Host("b", "TTVHTTTT", owner="Nguyễn Thị Ánh Tuyết"),
    )
    names = standard_names(inventory, "{{ short }}-{{ unit_code }}")
    assert names == {"a": "TUYETN-TTVHTTTT", "b": "TUYET-TTVHTTTT2"}


def test_default_template_is_the_contract() -> None:
    inventory = make_inventory(Host("a", "SNV", owner="Phạm Văn Thắng"))
    assert standard_names(inventory, DEFAULT_TEMPLATE) == standard_names(inventory) == {"a": "SNV-THANGPV"}


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{{ unit_code }}_{{ short }}", "characters other than"),
        ("{{ index }}", "all digits"),
        ("{{ unit_code }}-{{ given }}", "ends with -"),
        ("{{ host }}-{{ unit_code }}-LONGLONG", "longer than 15"),
        ("{{ nonexistent }}", "template failed"),
    ],
)
def test_template_output_that_cannot_be_valid_names_the_host(template: str, why: str) -> None:
    inventory = make_inventory(Host("pc-nine", "SNV"))
    with pytest.raises(NamingError, match=rf"^host pc-nine: .*{why}"):
        standard_names(inventory, template)


def test_template_syntax_error_names_the_template() -> None:
    with pytest.raises(NamingError, match=r"name template '\{\{ short' is invalid"):
        standard_names(make_inventory(Host("a", "SNV")), "{{ short")


def test_template_is_sandboxed() -> None:
    template = "{{ short.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(NamingError, match=r"^host a: name template failed"):
        standard_names(make_inventory(Host("a", "SNV")), template)


# Vietnamese-ish owners: letters with and without diacritics, Đ/đ, odd spacing and punctuation.
_VIETNAMESE_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
_owner_words = st.text(
    alphabet=_VIETNAMESE_LETTERS + _VIETNAMESE_LETTERS.upper() + "Đ.'-", min_size=1, max_size=12
)
_owners = st.one_of(
    st.none(),
    st.lists(_owner_words, min_size=1, max_size=6).map(" ".join),
    st.text(max_size=20),
)
_unit_codes = st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True)
_hosts = st.lists(
    st.tuples(_unit_codes, _owners),
    min_size=1,
    max_size=25,
)


# Few units and owners, many hosts: collisions, suffixes and cuts on almost every example.
_crowded_hosts = st.lists(
    st.tuples(
        st.sampled_from(["A", "SNV", "ABCDEFGH", "12345678"]),
        st.sampled_from(
            [None, "An", "Phạm Văn Thắng", "Nguyễn Thị Ánh Tuyết Hoàng Longlonglong", "Đặng Đức"]
        ),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_hosts, _crowded_hosts))
def test_generated_names_are_valid_and_unique(specs: list[tuple[str, str | None]]) -> None:
    hosts = tuple(Host(f"host-{i:03d}", unit, owner=owner) for i, (unit, owner) in enumerate(specs))
    names = standard_names(make_inventory(*hosts))
    assert set(names) == {host.name for host in hosts}
    assert all(is_valid_name(name) for name in names.values()), names
    assert len(set(names.values())) == len(names), names


@settings(max_examples=200, deadline=None)
@given(_hosts)
def test_names_do_not_depend_on_inventory_order(specs: list[tuple[str, str | None]]) -> None:
    hosts = tuple(Host(f"host-{i:03d}", unit, owner=owner) for i, (unit, owner) in enumerate(specs))
    assert standard_names(make_inventory(*hosts)) == standard_names(make_inventory(*reversed(hosts)))


def _load_filter_plugin():
    path = Path(__file__).resolve().parents[2] / "plugins" / "filter" / "naming.py"
    spec = importlib.util.spec_from_file_location("agentroll_filter_naming", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_filter_plugin_exposes_the_naming_functions() -> None:
    filters = _load_filter_plugin().FilterModule().filters()
    assert set(filters) == {"agentroll_transliterate", "agentroll_short_name", "agentroll_valid_name"}
    assert filters["agentroll_transliterate"]("Đặng Đức") == "Dang Duc"
    assert filters["agentroll_short_name"]("Phạm Văn Thắng") == "THANGPV"
    assert filters["agentroll_valid_name"]("SNV-THANGPV") is True
    assert filters["agentroll_valid_name"]("snv_thangpv") is False
    assert filters["agentroll_valid_name"](12345) is False


def test_filter_plugin_turns_naming_errors_into_filter_errors() -> None:
    from ansible.errors import AnsibleFilterError

    filters = _load_filter_plugin().FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="agentroll_short_name: owner '---'"):
        filters["agentroll_short_name"]("---")
    with pytest.raises(AnsibleFilterError, match="expected a string, got int"):
        filters["agentroll_transliterate"](5)


def test_filter_docs_exist_for_every_filter() -> None:
    import yaml

    folder = Path(__file__).resolve().parents[2] / "plugins" / "filter"
    for name in _load_filter_plugin().FilterModule().filters():
        doc = yaml.safe_load((folder / f"{name}.yml").read_text(encoding="utf-8"))
        assert doc["DOCUMENTATION"]["name"] == name
        assert {"EXAMPLES", "RETURN"} <= doc.keys()
