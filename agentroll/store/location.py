"""Where the state store lives: a SQLite file (a bare path or ``sqlite:///PATH``) or a PostgreSQL URL.

``$AGENTROLL_STATE`` holds either form; the default is a SQLite file under the XDG state directory.
A PostgreSQL URL may carry a password: it is used to connect and never shown (``shown`` masks it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
MEMORY = ":memory:"

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_POSTGRESQL_SCHEMES = frozenset({"postgresql", "postgres"})
_MASK = "***"


class LocationError(ValueError):
    """A state store location that cannot be understood; the message names it (password masked)."""


@dataclass(frozen=True)
class Location:
    """A parsed state store location."""

    dialect: str
    #: The SQLite file (None for an in-memory database or a PostgreSQL store).
    path: Path | None = None
    #: The PostgreSQL connection URL, password included: pass it to the driver, never print it.
    url: str | None = None
    #: What messages show: the path, or the URL with its password masked.
    shown: str = ""


def default_state_path() -> Path:
    """$AGENTROLL_STATE, else ${XDG_STATE_HOME:-~/.local/state}/agentroll/state.sqlite."""
    explicit = os.environ.get("AGENTROLL_STATE")
    if explicit:
        return Path(explicit).expanduser()
    return _default_sqlite_path()


def default_state_location() -> str:
    """$AGENTROLL_STATE as written (a path or a URL), else the default SQLite file."""
    return configured_state_location() or str(_default_sqlite_path())


def configured_state_location() -> str | None:
    """$AGENTROLL_STATE as written (a path or a URL), or None when it is not set."""
    return os.environ.get("AGENTROLL_STATE") or None


def _default_sqlite_path() -> Path:
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home).expanduser() / "agentroll" / "state.sqlite"


def parse_location(location: str | Path) -> Location:
    """A location from a path, ``sqlite:///PATH``, ``postgresql://…`` (``postgres://…``) or ``:memory:``."""
    if isinstance(location, Path):
        return Location(SQLITE, path=location, shown=str(location))
    text = location.strip()
    if not text:
        raise LocationError("the state store location is empty")
    if text == MEMORY:
        return Location(SQLITE, shown=MEMORY)
    if text.startswith("sqlite:"):
        return _sqlite_url(text)
    if _URL.match(text):
        scheme = text.split(":", 1)[0].lower()
        if scheme in _POSTGRESQL_SCHEMES:
            return Location(POSTGRESQL, url=text, shown=mask_password(text))
        raise LocationError(
            f"state store {mask_password(text)}: unknown kind '{scheme}' "
            "(give a file path, sqlite:///PATH or postgresql://…)"
        )
    path = Path(text).expanduser()
    return Location(SQLITE, path=path, shown=str(path))


def _sqlite_url(text: str) -> Location:
    """``sqlite:///abs/path`` (three slashes: an empty host, then the absolute path)."""
    parts = urlsplit(text)
    if parts.netloc or not parts.path.startswith("/") or parts.query:
        raise LocationError(f"state store {text}: write a SQLite URL as sqlite:///ABSOLUTE/PATH")
    path = Path(unquote(parts.path))
    return Location(SQLITE, path=path, shown=str(path))


def mask_password(url: str) -> str:
    """The URL with any password (in the user part or a ``password=`` parameter) replaced by ***."""
    parts = urlsplit(url)
    masked = url
    if "@" in parts.netloc:
        credentials, host = parts.netloc.rsplit("@", 1)
        if ":" in credentials:
            user = credentials.split(":", 1)[0]
            masked = masked.replace(f"//{parts.netloc}", f"//{user}:{_MASK}@{host}", 1)
    if parts.query:
        pieces = [
            f"password={_MASK}" if piece.split("=", 1)[0] == "password" else piece
            for piece in parts.query.split("&")
        ]
        masked = masked.replace(f"?{parts.query}", "?" + "&".join(pieces), 1)
    return masked
