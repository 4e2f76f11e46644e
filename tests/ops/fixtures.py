"""Fixtures other test folders reuse: the embedded PostgreSQL reached over TCP, and a role with a real password.

The embedded server listens on a Unix socket only, with trust authentication. `PgRelay` forwards a loopback TCP
port to that socket byte for byte, so libpq goes through DNS, TCP, the SSL request and authentication against the
real server. `password_role` adds a pg_hba.conf line for one throw-away role (scram-sha-256) ahead of the trust
lines, so a wrong password is refused as on any real server while every other test's connections stay as they were.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.db.fixtures import libpq


def socket_path(server_url: str) -> str:
    """The embedded server's socket file, from its URL (`…?host=/dir`)."""
    folder = parse_qs(urlsplit(server_url.replace("+psycopg", "")).query)["host"][0]
    return f"{folder}/.s.PGSQL.5432"


class PgRelay:
    """A loopback TCP port forwarded to a Unix socket; `first_delay` holds the first bytes of the first session
    (a compute waking up)."""

    def __init__(self, target: str, *, first_delay: float = 0.0) -> None:
        self._target = target
        self._delay = first_delay
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, name="pg-relay", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self._target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, outgoing: bool) -> None:
        try:
            while data := source.recv(65536):
                if outgoing and self._delay:
                    with self._lock:
                        delay, self._delay = self._delay, 0.0
                    time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for end in self._sockets:
                end.close()


@pytest.fixture
def pg_relay(server_url: str) -> Iterator[PgRelay]:
    relay = PgRelay(socket_path(server_url))
    yield relay
    relay.close()


@dataclass(frozen=True)
class PasswordRole:
    name: str
    password: str


@pytest.fixture(scope="session")
def password_role(server_url: str) -> Iterator[PasswordRole]:
    """A login role that must give its password (scram-sha-256), even on the embedded server's socket."""
    role = PasswordRole("doctor_" + secrets.token_hex(4), "right-" + secrets.token_hex(8))
    line = f"local all {role.name} scram-sha-256\n"
    admin = libpq(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        hba = Path(str(conn.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        conn.execute(f"CREATE ROLE {role.name} LOGIN PASSWORD '{role.password}'")
        hba.write_text(line + hba.read_text())
        conn.execute("SELECT pg_reload_conf()")
    _wait_until_refused(libpq(server_url, "postgres").replace("postgres:@", f"{role.name}:wrong@", 1))
    yield role
    with psycopg.connect(admin, autocommit=True) as conn:
        hba.write_text(hba.read_text().replace(line, ""))
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(f"DROP ROLE IF EXISTS {role.name}")


def _wait_until_refused(url: str, timeout: float = 5.0) -> None:
    """The postmaster reloads pg_hba.conf on SIGHUP, a moment later: wait until the role's password is asked for."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                return
        assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
        time.sleep(0.02)


def tcp_url(relay: PgRelay, database: str, *, user: str = "postgres", password: str = "pw", query: str = "") -> str:
    """A postgres:// URL to `database` through the relay."""
    return f"postgresql://{user}:{password}@127.0.0.1:{relay.port}/{database}" + (f"?{query}" if query else "")
