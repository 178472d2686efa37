"""Where the state store is: paths, SQLite and PostgreSQL URLs, the defaults, passwords never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentroll.store import StoreError, default_state_location, default_state_path, mask_password, open_store
from agentroll.store.location import POSTGRESQL, SQLITE, LocationError, parse_location


def test_default_state_path_prefers_agentroll_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENTROLL_STATE", str(tmp_path / "x.sqlite"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "x.sqlite"
    assert default_state_location() == str(tmp_path / "x.sqlite")


def test_default_state_path_follows_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AGENTROLL_STATE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "xdg" / "agentroll" / "state.sqlite"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_path() == tmp_path / "home" / ".local" / "state" / "agentroll" / "state.sqlite"
    assert default_state_location() == str(default_state_path())


def test_agentroll_state_may_hold_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTROLL_STATE", "postgresql://agentroll@db.example.org/agentroll")
    assert default_state_location() == "postgresql://agentroll@db.example.org/agentroll"


@pytest.mark.parametrize(
    ("given", "dialect", "path", "shown"),
    [
        ("/var/lib/agentroll/state.sqlite", SQLITE, Path("/var/lib/agentroll/state.sqlite"), None),
        ("relative/state.sqlite", SQLITE, Path("relative/state.sqlite"), None),
        ("sqlite:///var/lib/agentroll/state.sqlite", SQLITE, Path("/var/lib/agentroll/state.sqlite"), None),
        ("sqlite:///srv/tr%E1%BA%A1ng%20th%C3%A1i.sqlite", SQLITE, Path("/srv/trạng thái.sqlite"), None),
        ("state:v2.sqlite", SQLITE, Path("state:v2.sqlite"), None),
        (":memory:", SQLITE, None, ":memory:"),
        ("postgresql://agentroll@db/agentroll", POSTGRESQL, None, "postgresql://agentroll@db/agentroll"),
        (
            "postgres://agentroll:pw@db:5433/agentroll",
            POSTGRESQL,
            None,
            "postgres://agentroll:***@db:5433/agentroll",
        ),
    ],
)
def test_locations(given: str, dialect: str, path: Path | None, shown: str | None) -> None:
    location = parse_location(given)
    assert (location.dialect, location.path) == (dialect, path)
    assert location.shown == (shown if shown is not None else str(path))


def test_home_is_expanded_in_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_location("~/state.sqlite").path == tmp_path / "state.sqlite"


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ("", "the state store location is empty"),
        ("   ", "the state store location is empty"),
        (
            "sqlite://server/state.sqlite",
            "state store sqlite://server/state.sqlite: write a SQLite URL as sqlite:///ABSOLUTE/PATH",
        ),
        (
            "sqlite:relative.sqlite",
            "state store sqlite:relative.sqlite: write a SQLite URL as sqlite:///ABSOLUTE/PATH",
        ),
        (
            "mysql://root:hunter2@db/agentroll",
            "state store mysql://root:***@db/agentroll: unknown kind 'mysql' (give a file path, "
            "sqlite:///PATH or postgresql://…)",
        ),
    ],
)
def test_bad_locations_are_one_line_each_without_passwords(given: str, error: str) -> None:
    with pytest.raises(LocationError) as caught:
        parse_location(given)
    assert str(caught.value) == error
    with pytest.raises(StoreError, match="^" + error.split(":")[0]):
        open_store(given)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        (
            "postgresql://u@h/db?password=pw&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql:///db?host=/run/postgresql", "postgresql:///db?host=/run/postgresql"),
    ],
)
def test_mask_password(url: str, masked: str) -> None:
    assert mask_password(url) == masked
