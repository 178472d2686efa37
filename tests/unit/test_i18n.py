"""Translations: the gettext catalogue against the code's messages, reasons in Vietnamese, local time."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from agentroll.i18n import LANGUAGES, catalog, path_of, timezone, translations
from agentroll.model import HostState
from agentroll.reasons import KNOWN_SENTENCES, TEMPLATES, TEXT, Reason, meaning, reboot_cause, text
from agentroll.reports import labels

ROOT = Path(__file__).resolve().parents[2]
#: The markers of agentroll's messages, as babel.cfg documents them for pybabel.
KEYWORDS = {"_": None, "gettext": None, "pgettext": ((1, "c"), 2), "N_": None, "NP_": ((1, "c"), 2)}


def _code_messages() -> set[tuple[str | None, str]]:
    """(context, msgid) of every message marked in the code and the templates (Babel's extractor)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _, _, message, _, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if isinstance(message, tuple):  # pgettext: (context, message) as the extractor splits them
            message = message[-1]
        found.add((context, message))
    return found


def _catalogue(lang: str) -> Catalog:
    with path_of(lang).open("rb") as source:
        return read_po(source, locale=lang)


def test_vietnamese_is_offered() -> None:
    assert LANGUAGES == ("en", "vi")


def test_the_extractor_finds_the_marked_messages() -> None:
    """The check below has teeth: messages of Python, of vocabularies and of templates are all seen."""
    messages = _code_messages()
    assert (None, "RAM {measured} MB < {required} MB") in messages  # N_ in agentroll/reasons.py
    assert ("state", "Compliant") in messages  # NP_ in agentroll/reports/labels.py
    assert (None, "Malware-monitoring agent coverage per unit against license allocations") in messages  # j2
    assert ("column", "Days left") in messages  # pgettext in the template


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_the_catalogue_has_every_message_and_no_stale_one(lang: str) -> None:
    entries = {(message.context, message.id): message for message in _catalogue(lang) if message.id}
    code = _code_messages()
    assert sorted(code - set(entries), key=str) == [], "run the pybabel commands in babel.cfg, then translate"
    assert sorted(set(entries) - code, key=str) == [], "stale messages: pybabel update --ignore-obsolete"
    assert [key for key, message in entries.items() if not message.string or message.fuzzy] == []


def _names(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_use_only_the_placeholders_of_their_message(lang: str) -> None:
    """A translation naming a value the code does not pass would fail when shown."""
    wrong = [
        (message.id, message.string)
        for message in _catalogue(lang)
        if message.id
        # Format patterns ("date format") may pick any of the fields they are given.
        and not (message.context or "").endswith("format")
        and not _names(message.string) <= _names(message.id)
    ]
    assert wrong == []


#: Values for every reason code, as its producer gives them.
EXAMPLES: dict[str, dict[str, object]] = {
    "os": {"os": "Windows 7", "build": 7601, "supported": ["Windows 10", "Windows 11"]},
    "os_build": {"os": "Windows 10", "measured": 10240, "required": 17763},
    "architecture": {"measured": "x86", "required": ["x64"]},
    "ram": {"measured": 1024, "required": 2048},
    "disk": {"drive": "C:", "measured": 900, "required": 2048},
    "system_drive_space": {"measured": 900, "required": 2048},
    "powershell": {"measured": "2.0", "required": "5.1"},
    "unknown_fact": {"fact": "ram_mb", "required": 2048},
    "never_probed": {},
    "unmanageable": {},
    "unmanageable_because": {"cause": {"code": "powershell_too_old", "required": "5.1"}},
    "license_waiting": {"unit": "SNV", "licenses": 6, "eligible": 8},
    "license_held": {"unit": "SNV", "licenses": 6, "unknown": 2},
    "over_allocation": {"unit": "SNV", "licenses": 6, "installed": 7},
    "rename_no_agent": {},
    "rename_server": {"product_type": "server"},
    "rename_type_unknown": {},
    "service_stopped": {"service": "WinMonAgent"},
    "service_missing": {"service": "WinMonAgent"},
    "service_state_unknown": {"service": "WinMonAgent"},
    "agent_service_stopped": {},
    "agent_service_missing": {},
    "agent_service_state_unknown": {},
    "name_mismatch": {"computer_name": "mayphuong", "standard_name": "TCKH-PHUONGTT"},
    "pending_name_mismatch": {"pending_name": "OTHER", "standard_name": "TCKH-PHUONGTT"},
    "name_unknown": {"standard_name": "TCKH-PHUONGTT"},
    "reboot_pending": {},
    "step_failed": {"step": "install", "error": {"code": "installer_exit_code", "exit_code": 1603}},
    "step_failed_silently": {"step": "rename"},
    "unknown_failure": {},
    "reboot_rename": {},
    "reboot_windows_update": {},
    "reboot_servicing": {},
    "reboot_file_rename": {},
    "installer_exit_code": {"exit_code": 1603},
    "installer_checksum_mismatch": {},
    "reboot_installer": {"exit_code": 3010},
    "connection_refused": {},
    "timed_out": {},
    "credentials_rejected": {},
    "connection_dropped": {},
    "host_not_found": {},
    "powershell_too_old": {"required": "5.1"},
    "details_hidden": {},
    "certificate_untrusted": {},
    "certificate_name_mismatch": {},
    "wol_no_answer": {},
    "next_first_run": {},
    "next_install": {},
    "next_wait_license": {"unit": "SNV"},
    "next_start_service": {},
    "next_rename": {},
    "next_rename_server_or_by_hand": {"product_type": "server"},
    "next_rename_by_hand": {},
    "next_reboot_rename": {},
    "next_reboot": {},
    "next_fix_or_release": {
        "fixes": [{"code": "fix_ram", "required": 2048}, {"code": "fix_disk", "drive": "C:", "missing": 1148}]
    },
    "next_release": {},
    "next_enable_remote_management": {},
    "next_switch_on_or_enable_winrm": {},
    "next_switch_on_or_open_firewall": {},
    "next_check_credentials": {},
    "next_check_network": {},
    "next_check_address": {},
    "next_trust_certificate": {},
    "next_fix_certificate_name": {},
    "next_switch_on_by_hand": {},
    "next_check_reachable": {},
    "next_installer_failed": {"exit_code": 1603},
    "next_installer_busy": {},
    "next_interrupted": {"step": "install"},
    "interrupted": {"step": "install"},
    "reboot_timeout": {"seconds": 900},
    "server_unreachable": {"server": "soc.example.gov.vn:8443"},
    "next_open_server": {"server": "soc.example.gov.vn:8443"},
    "agent_silent": {"days": 20},
    "next_check_registration": {},
    "console_not_listed": {},
    "console_not_listed_reachable": {},
    "console_never_reported": {},
    "console_stale": {"days": 12},
    "console_rename_pending": {"console_name": "mayphuong", "standard_name": "TCKH-PHUONGNT"},
    "console_old_name": {"console_name": "mayphuong", "standard_name": "TCKH-PHUONGNT"},
    "next_check_on_site": {},
    "next_read_log": {"step": "install"},
    "next_fix_error": {},
    "fix_ram": {"required": 2048},
    "fix_disk": {"drive": "C:", "missing": 1148},
    "fix_system_disk": {"missing": 1148},
    "fix_os": {"supported": ["Windows 10", "Windows 11"]},
    "fix_os_build": {"required": 17763},
    "fix_architecture": {"required": ["x64"]},
    "fix_powershell": {"required": "5.1"},
    "fix_unknown_fact": {"fact": "ram_mb"},
}


def test_every_reason_code_has_an_example() -> None:
    assert set(EXAMPLES) == set(TEMPLATES) - {TEXT}


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_every_reason_is_said_in_vietnamese_from_its_values(code: str) -> None:
    reason = Reason(code, EXAMPLES[code])
    english, vietnamese = reason.english(), reason.render(catalog("vi"))
    assert _names(TEMPLATES[code]) <= set(EXAMPLES[code]), "the template needs a value the example lacks"
    assert "{" not in english and "{" not in vietnamese
    assert vietnamese != english
    for name in _names(TEMPLATES[code]):
        if isinstance(EXAMPLES[code][name], int):
            assert str(EXAMPLES[code][name]) in vietnamese, f"{name} is lost in Vietnamese"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (
            Reason("ram", {"measured": 1024, "required": 2048}),
            "Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB",
        ),
        (
            Reason("disk", {"drive": "C:", "measured": 900, "required": 2048}),
            "Ổ đĩa C: chỉ còn trống 900 MB, yêu cầu tối thiểu 2048 MB",
        ),
        (
            Reason("os", {"os": "Windows 7", "build": 7601, "supported": ["Windows 10"]}),
            "Hệ điều hành Windows 7 (bản dựng 7601) không được hỗ trợ",
        ),
        (
            Reason("architecture", {"measured": "x86", "required": ["x64", "arm64"]}),
            "Máy tính kiến trúc x86, phần mềm chỉ hỗ trợ x64, arm64",
        ),
        (
            Reason("unknown_fact", {"fact": "system_free_mb"}),
            "Chưa xác định được dung lượng trống ổ hệ thống",
        ),
        (
            Reason("license_waiting", {"unit": "SNV", "licenses": 6, "eligible": 8}),
            "Chờ cấp bản quyền: đơn vị SNV có 6 bản quyền nhưng 8 máy đủ điều kiện",
        ),
        (
            Reason(
                "step_failed",
                {"step": "install", "error": {"code": "installer_exit_code", "exit_code": 1603}},
            ),
            "Cài đặt không thành công: Bộ cài đặt trả về mã lỗi 1603",
        ),
        (
            Reason("name_mismatch", {"computer_name": "mayphuong", "standard_name": "TCKH-PHUONGTT"}),
            'Tên máy hiện tại "mayphuong", tên theo quy định "TCKH-PHUONGTT"',
        ),
    ],
)
def test_reasons_in_vietnamese_keep_the_values(reason: Reason, expected: str) -> None:
    assert reason.render(catalog("vi")) == expected


def test_a_step_that_is_no_toolkit_step_is_shown_as_named() -> None:
    reason = Reason("step_failed", {"step": "Copy the policy", "error": {"code": "timed_out"}})
    assert reason.render(catalog("vi")) == (
        "Copy the policy không thành công: Hết thời gian chờ kết nối (máy tắt hoặc mất mạng)"
    )


def test_a_sentence_is_translated_only_when_the_catalogue_has_it() -> None:
    vietnamese = catalog("vi")
    assert (
        text("connection refused").render(vietnamese)
        == "Máy từ chối kết nối (máy đang tắt hoặc chưa bật WinRM)"
    )
    assert text("the moon is in the wrong phase").render(vietnamese) == "the moon is in the wrong phase"
    assert text("").render(vietnamese) == ""


def test_sentences_other_programs_write_are_read_as_what_they_mean() -> None:
    """ansible-core's own words for a PC whose PowerShell is too old reach the store verbatim; they are
    shown (in both languages, without the tool's name) as the reason they mean."""
    for sentence, reason in KNOWN_SENTENCES.items():
        assert meaning(text(sentence)) == reason
        for lang in LANGUAGES:
            assert text(sentence).render(catalog(lang)) == reason.render(catalog(lang))
            assert "Ansible" not in text(sentence).render(catalog(lang))
    unmanageable = Reason.from_value("Ansible requires PowerShell v5.1")
    assert unmanageable.english() == "PowerShell older than 5.1: cannot be managed remotely"


def test_a_sentence_that_is_the_english_of_a_code_means_that_code() -> None:
    assert meaning(text("connection refused")) == Reason("connection_refused")
    # The agent role words a failed installer so: its exit code is read back as a number.
    assert meaning(text("installer exit code 1603")) == Reason("installer_exit_code", {"exit_code": 1603})
    assert meaning(text("connection timed out")) == text("connection timed out")
    assert meaning(Reason("ram", {"measured": 1, "required": 2})) == Reason(
        "ram", {"measured": 1, "required": 2}
    )


def test_an_unknown_code_stays_readable() -> None:
    reason = Reason.from_value({"code": "disk_on_fire", "temperature": 90})
    assert reason.english() == "disk on fire: temperature 90"
    assert reason.render(catalog("vi")) == "disk on fire: temperature 90"


def test_a_reason_missing_a_value_stays_readable() -> None:
    assert Reason("ram", {"measured": 1024}).english() == "ram: measured 1024"


def test_the_probes_reboot_words_become_reasons() -> None:
    assert reboot_cause("Windows Update") == Reason("reboot_windows_update")
    assert reboot_cause("firmware") == text("firmware")


def test_every_state_has_a_vietnamese_name() -> None:
    vietnamese = catalog("vi")
    names = {state: labels.state(vietnamese, state.value) for state in HostState}
    assert names[HostState.COMPLIANT] == "Đạt chuẩn"
    assert names[HostState.MISNAMED] == "Sai tên máy"
    assert len(set(names.values())) == len(names), "two states share a name"


def test_contexts_keep_apart_what_english_says_alike() -> None:
    vietnamese = catalog("vi")
    assert (labels.column(vietnamese, "hosts"), labels.sheet(vietnamese, "hosts")) == ("Số máy", "Máy tính")


def test_numbers_follow_the_language() -> None:
    assert catalog("en").percent(32.6) == "32.6 %"
    assert catalog("vi").percent(32.6) == "32,6%"


def test_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'; choose one of: en, vi"):
        translations("fr")


MOMENT = datetime(2026, 11, 29, 20, 30, tzinfo=UTC)


def test_times_are_local_and_dates_dd_mm_yyyy_in_vietnamese() -> None:
    assert catalog("vi").moment(MOMENT) == "30/11/2026 03:30"
    assert catalog("vi").moment("2026-11-29T20:30:00Z") == "30/11/2026 03:30"
    assert catalog("vi").date(date(2026, 12, 5)) == "05/12/2026"
    assert catalog("vi").long_date(date(2026, 12, 5)) == "ngày 05 tháng 12 năm 2026"
    assert catalog("vi").zone_label(MOMENT) == "UTC+07:00"


def test_english_keeps_iso_dates_and_the_zone_is_configurable() -> None:
    assert catalog("en").moment(MOMENT) == "2026-11-30 03:30"
    assert catalog("en", "UTC").moment(MOMENT) == "2026-11-29 20:30"
    assert catalog("en", "Europe/Paris").zone_label(MOMENT) == "UTC+01:00"
    assert catalog("en").long_date(date(2026, 12, 5)) == "December 5, 2026"


def test_an_unknown_time_zone_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^unknown time zone 'Asia/Hanoi'; give an IANA name such as"):
        timezone("Asia/Hanoi")


def test_time_zones_work_without_the_systems_zone_database() -> None:
    """A machine without /usr/share/zoneinfo falls back to the pinned tzdata package."""
    script = (
        "import zoneinfo; zoneinfo.reset_tzpath(to=[]);"
        "from agentroll.i18n import catalog;"
        "print(catalog('vi').moment('2026-11-29T20:30:00Z'))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "30/11/2026 03:30"), done.stderr


def test_no_catalogue_file_is_compiled_into_the_repository() -> None:
    """The .po is the one source: it is compiled in memory, so no .mo can go stale."""
    assert not [path for path in (ROOT / "agentroll").rglob("*.mo")]
    assert re.search(r"^msgid \"computer rename\"$", path_of("vi").read_text(encoding="utf-8"), re.M)
