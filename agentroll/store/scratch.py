"""A throw-away PostgreSQL cluster in a temporary directory, for the tests and the benchmarks.

It uses the server programs of Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``, else
``initdb`` on the PATH), listens only on a unix socket inside its directory (no TCP port), trusts
local connections, and is deleted when stopped. PostgreSQL refuses to run as root: as root the
cluster runs as the ``postgres`` user, in a directory that user owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

SUPERUSER = "agentroll"
SERVER_USER = "postgres"
INSTALL_HINT = "install Debian's postgresql package (apt-get install postgresql)"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server programs here, or the cluster would not start; the message says what to do."""


def server_bin() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: the newest Debian cluster version, else the PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable(f"no PostgreSQL server programs (initdb, pg_ctl) found: {INSTALL_HINT}")


class ScratchPostgres:
    """``with ScratchPostgres() as cluster: url = cluster.create_database("x")``."""

    def __init__(self, *, durable: bool = False) -> None:
        #: False trades crash safety for speed (fsync off): right for tests, not for measuring.
        self.durable = durable
        self.bin = server_bin()
        # Short on purpose: a unix socket path must fit in about 100 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix="agentroll-pg-"))
        self.data = self.directory / "data"
        self._as_server_user: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root needs the '{SERVER_USER}' user: {INSTALL_HINT}"
                ) from None
            os.chown(self.directory, account.pw_uid, account.pw_gid)
            self._as_server_user = ["runuser", "-u", SERVER_USER, "--"]
        self._started = False

    def __enter__(self) -> ScratchPostgres:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_server_user, str(self.bin / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.directory)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise PostgresUnavailable(f"{program} failed: {detail[-1] if detail else done.returncode}")

    def start(self) -> None:
        """initdb and start the server (a few seconds)."""
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
        settings = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{self.directory}'",
            "-c max_connections=50",
        ]
        if not self.durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        log = self.directory / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-o", " ".join(settings), "start")
        self._started = True

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        if self._started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, schema: str | None = None) -> str:
        """The URL of the cluster's database (over its unix socket), tables in ``schema`` if given."""
        url = f"postgresql://{SUPERUSER}@/postgres?host={quote(str(self.directory), safe='')}"
        return url if schema is None else url + "&options=" + quote(f"-c search_path={schema}", safe="")

    def fresh_store(self, name: str) -> str:
        """The URL of a new, empty place for a store: a schema of its own (far cheaper than a database)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        return self.url(name)
