"""Check 3, database: connect with the target's DATABASE_URL stage by stage (DNS, TCP, TLS, auth, database),
then latency, pooled or direct host, sslmode, pgvector and migrations. A first connect much slower than the
next suggests a suspended Neon compute waking up. The URL stays in memory; messages show it redacted.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from lectern.db.url import is_pooled, libpq_url, redacted
from lectern.errors import ConfigError
from lectern.ops.doctor.report import CheckReport, Status, worst
from lectern.ops.doctor.sources import LOCAL, Setting
from lectern.ops.errors import scrub

NAME = "database"
DNS_TIMEOUT_SECONDS = 5.0
TCP_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 10
# Neon resumes a suspended compute in "a few hundred milliseconds" (vercel.md §4): a first connect this slow,
# and several times slower than the next, is most likely that wake-up.
WAKE_SECONDS = 0.5
WAKE_RATIO = 3.0
SLOW_CONNECT_SECONDS = 1.0
SECURE_SSLMODES = ("require", "verify-ca", "verify-full")

Stage = Literal["url", "dns", "tcp", "tls", "auth", "database", "connect"]
Resolver = Callable[[str, int], list[tuple[Any, ...]]]


def system_resolver(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


@dataclass(frozen=True)
class Endpoint:
    """What a database URL points at (no password)."""

    host: str | None  # None: a Unix socket
    port: int
    user: str
    database: str
    sslmode: str | None
    socket_dir: str | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}" if self.host else f"the socket in {self.socket_dir or 'the default folder'}"

    @property
    def neon(self) -> bool:
        return bool(self.host and self.host.endswith(".neon.tech"))

    @property
    def local(self) -> bool:
        return self.host is None or self.host in ("localhost", "127.0.0.1", "::1")


def parse_endpoint(url: str) -> Endpoint:
    """Host, port, user, database and sslmode of a postgres:// URL; ConfigError if it is not one."""
    parts = urlsplit(libpq_url(url))
    query = parse_qs(parts.query)
    socket_dir = next((h for h in query.get("host", []) if h.startswith("/")), None)
    try:
        port = parts.port or 5432
    except ValueError:
        raise ConfigError("DATABASE_URL has a port that is not a number") from None
    return Endpoint(
        host=None if socket_dir or not parts.hostname else parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        database=unquote(parts.path.lstrip("/")) or unquote(parts.username or ""),
        sslmode=next(iter(query.get("sslmode", [])), None),
        socket_dir=socket_dir,
    )


@dataclass(eq=False)
class StageFailure(Exception):
    """The stage a connection failed at, why (never the password) and what to do."""

    stage: Stage
    reason: str
    fix: str


@dataclass
class Timings:
    """Seconds each stage took."""

    dns: float | None = None
    tcp: float | None = None
    first_connect: float | None = None
    second_connect: float | None = None
    round_trip: float | None = None

    def as_json(self) -> dict[str, float | None]:
        return {
            name: round(value * 1000, 2) if value is not None else None
            for name, value in (
                ("dns", self.dns),
                ("tcp", self.tcp),
                ("firstConnect", self.first_connect),
                ("secondConnect", self.second_connect),
                ("roundTrip", self.round_trip),
            )
        }


# --- stages -----------------------------------------------------------------------------------------------------


def resolve(endpoint: Endpoint, resolver: Resolver, timeout: float = DNS_TIMEOUT_SECONDS) -> list[tuple[Any, ...]]:
    """getaddrinfo in a daemon thread, so a resolver that hangs cannot hold the check past `timeout`."""
    assert endpoint.host is not None
    host = endpoint.host
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["addresses"] = resolver(host, endpoint.port)
        except OSError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=lookup, name="lectern-doctor-dns", daemon=True)
    worker.start()
    worker.join(timeout)
    fix = f"check the host in DATABASE_URL ({host}); copy the connection string again from Neon's dashboard"
    if worker.is_alive():
        raise StageFailure("dns", f"{host} did not resolve within {timeout:.0f} s", fix)
    if "error" in outcome:
        error = outcome["error"]
        reason = error.strerror if isinstance(error, socket.gaierror) and error.strerror else str(error)
        raise StageFailure("dns", f"{host} does not resolve ({reason})", fix)
    addresses: list[tuple[Any, ...]] = outcome.get("addresses") or []
    if not addresses:
        raise StageFailure("dns", f"{host} resolves to no address", fix)
    return addresses


def open_tcp(endpoint: Endpoint, addresses: list[tuple[Any, ...]], timeout: float = TCP_TIMEOUT_SECONDS) -> None:
    """Open (and close) a TCP connection to the first address that answers."""
    failure: OSError | None = None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(address)
            except OSError as exc:
                failure = exc
                continue
            return
    if isinstance(failure, TimeoutError):
        raise StageFailure(
            "tcp",
            f"no answer from {endpoint.where} within {timeout:.0f} s",
            "a firewall drops the connection, or the host or port in DATABASE_URL is wrong",
        )
    if isinstance(failure, ConnectionRefusedError):
        raise StageFailure(
            "tcp",
            f"{endpoint.where} refused the connection",
            f"nothing listens on {endpoint.where}: the database server is down, or the port in DATABASE_URL is wrong",
        )
    raise StageFailure(
        "tcp", f"cannot reach {endpoint.where} ({failure})", "check the host and port in DATABASE_URL, and the network"
    )


def _fixes(endpoint: Endpoint, update: str) -> list[tuple[Stage, re.Pattern[str], str]]:
    """(stage, message pattern, fix) for libpq's connection errors, most specific first."""
    user, db = endpoint.user or "the user", endpoint.database or "the database"
    i = re.IGNORECASE
    return [
        (
            "auth",
            re.compile(r"password authentication failed|no password supplied|password is required", i),
            f"the password of {user} is wrong: copy the connection string again from Neon (Dashboard → Connect) "
            f"or reset the role's password, then {update}",
        ),
        (
            "auth",
            re.compile(r'role "[^"]*" does not exist', i),
            f"the role {user} does not exist on that server: fix the user in DATABASE_URL, then {update}",
        ),
        (
            "auth",
            re.compile(r"pg_hba\.conf|authentication failed|not permitted to log in", i),
            f"the server refuses {user} from here: allow it in the server's pg_hba.conf, or connect with TLS",
        ),
        (
            "database",
            re.compile(r'database "[^"]*" does not exist', i),
            f"create the database {db}, or fix its name at the end of DATABASE_URL, then {update}",
        ),
        (
            "database",
            re.compile(r"too many (?:connections|clients)|remaining connection slots", i),
            "the server has no connection left: use Neon's pooled host (-pooler) in DATABASE_URL",
        ),
        (
            "database",
            re.compile(r"the database system is (?:starting up|shutting down|in recovery mode)", i),
            "the server is restarting: run `lectern doctor` again in a moment",
        ),
        (
            "tls",
            re.compile(r"Endpoint ID is not specified", i),
            "the client sent no SNI: use the host exactly as Neon gives it, with psycopg 3 (libpq 14 or newer)",
        ),
        (
            "tls",
            re.compile(r"server does not support SSL", i),
            f"{endpoint.where} speaks no TLS but sslmode={endpoint.sslmode} requires it: a managed database (Neon) "
            "always speaks TLS, so check the host; for a local server without TLS use sslmode=disable",
        ),
        (
            "tls",
            re.compile(r"connection is insecure|SSL required|requires? SSL", i),
            f"the server refuses unencrypted connections: add sslmode=require to DATABASE_URL, then {update}",
        ),
        (
            "tls",
            re.compile(r"SSL|TLS|certificate|channel binding", i),
            "keep sslmode=require and channel_binding=require as Neon gives them; with verify-full, the host "
            "must match the server's certificate",
        ),
        (
            "dns",
            re.compile(r"could not translate host name|failed to resolve host|Name or service not known", i),
            f"check the host in DATABASE_URL ({endpoint.host})",
        ),
        (
            "tcp",
            re.compile(r"Connection refused|No such file or directory|Is the server running", i),
            f"nothing accepts connections at {endpoint.where}: the database server is down, or DATABASE_URL points "
            "at the wrong place",
        ),
        (
            "tcp",
            re.compile(r"timeout expired|timed out", i),
            f"{endpoint.where} did not finish the connection within {CONNECT_TIMEOUT_SECONDS} s: a suspended "
            "compute taking long to wake, a firewall, or the wrong port",
        ),
    ]


def classify(message: str, endpoint: Endpoint, update: str) -> tuple[Stage, str]:
    """The stage a libpq connection error belongs to, and its fix."""
    for stage, pattern, fix in _fixes(endpoint, update):
        if pattern.search(message):
            return stage, fix
    return "connect", f"check DATABASE_URL, then {update}"


def _reason(message: str, url: str) -> str:
    """libpq's own words, after its `connection to server … failed:` preamble, without the password."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if lines and lines[0].startswith("Multiple connection attempts failed") and len(lines) > 1:
        lines = lines[-1:]  # one line per address tried: the last says what finally happened
    text = scrub(lines[0] if lines else message, url).rsplit("failed: ", 1)[-1]
    return re.sub(r"^(?:FATAL|ERROR):\s+", "", text).strip()


def connect(url: str, endpoint: Endpoint, update: str) -> Any:
    """A psycopg connection in autocommit (no server-side prepares: PgBouncer), or StageFailure."""
    import psycopg

    try:
        return psycopg.connect(
            libpq_url(url), connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True, prepare_threshold=None
        )
    except psycopg.Error as exc:
        message = str(exc)
        stage, fix = classify(message, endpoint, update)
        raise StageFailure(stage, _reason(message, url), fix) from None


# --- what the server holds ----------------------------------------------------------------------------------------


@dataclass
class ServerFacts:
    version: str = ""
    pgvector: str | None = None  # installed version
    pgvector_available: str | None = None  # version the server could install
    revision: str | None = None
    head: str | None = None


def read_facts(connection: Any) -> ServerFacts:
    """Server version, pgvector (installed or available) and the Alembic revision."""
    from lectern.db import migrate

    version = str(connection.info.parameter_status("server_version") or "unknown")
    facts = ServerFacts(version=version.split()[0])  # "16.4 (Debian …)" → "16.4"
    row = connection.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    facts.pgvector = row[0] if row else None
    if facts.pgvector is None:
        row = connection.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
        facts.pgvector_available = row[0] if row else None
    if connection.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is not None:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        facts.revision = row[0] if row else None
    facts.head = migrate.head_revision()
    return facts


@dataclass
class Probe:
    """Everything learned about one database URL."""

    endpoint: Endpoint
    timings: Timings = field(default_factory=Timings)
    failure: StageFailure | None = None
    facts: ServerFacts | None = None


def probe(url: str, update: str, *, resolver: Resolver = system_resolver) -> Probe:
    """Go through the stages in order, stopping at the first that fails; then connect once more to compare."""
    import psycopg

    result = Probe(parse_endpoint(url))
    endpoint, timings = result.endpoint, result.timings
    try:
        if endpoint.host is not None:
            started = time.perf_counter()
            addresses = resolve(endpoint, resolver)
            timings.dns = time.perf_counter() - started
            started = time.perf_counter()
            open_tcp(endpoint, addresses)
            timings.tcp = time.perf_counter() - started
        started = time.perf_counter()
        with connect(url, endpoint, update) as connection:
            timings.first_connect = time.perf_counter() - started
            started = time.perf_counter()
            try:
                connection.execute("SELECT 1")
                timings.round_trip = time.perf_counter() - started
                result.facts = read_facts(connection)
            except psycopg.Error as exc:
                reason = _reason(str(exc), url)
                raise StageFailure(
                    "database",
                    reason,
                    f"{endpoint.user or 'the user'} cannot read the catalog "
                    "or alembic_version: use the database's owner role",
                ) from None
        started = time.perf_counter()
        with connect(url, endpoint, update):
            timings.second_connect = time.perf_counter() - started
    except StageFailure as failure:
        result.failure = failure
    return result


# --- the verdict ----------------------------------------------------------------------------------------------------


def _update_hint(setting: Setting, target: str) -> str:
    if setting.source == LOCAL:
        return "update DATABASE_URL in your environment or .env"
    return f"`lectern env set DATABASE_URL --target {target}` and deploy again"


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds is not None else "n/a"


def _judge_connection(result: Probe, url: str) -> list[tuple[Status, str, str | None]]:
    """(status, detail, fix) about latency, host kind and TLS."""
    endpoint, timings = result.endpoint, result.timings
    found: list[tuple[Status, str, str | None]] = []
    first, second = timings.first_connect or 0.0, timings.second_connect or 0.0
    found.append(
        (
            "pass",
            f"latency: DNS {_ms(timings.dns)}, TCP {_ms(timings.tcp)}, first connect {_ms(timings.first_connect)}, "
            f"second {_ms(timings.second_connect)}, a query round trip {_ms(timings.round_trip)}",
            None,
        )
    )
    if first >= WAKE_SECONDS and first >= WAKE_RATIO * second:
        found.append(
            (
                "warn",
                f"the first connect took {first:.2f} s and the next {second:.2f} s: the compute was most likely "
                "suspended and woke up (Neon scales to zero after 5 minutes idle)",
                "expect this on the first request after a quiet spell; on a paid Neon plan, disable scale to zero "
                "for the production compute if it matters",
            )
        )
    elif second >= SLOW_CONNECT_SECONDS:
        found.append(
            (
                "warn",
                f"every connect takes about {second:.2f} s",
                "run the function in the region next to the database (`regions` in vercel.json)",
            )
        )
    if endpoint.host is None:
        found.append(("pass", "host: a local socket", None))
    elif is_pooled(url):
        found.append(("pass", "host: pooled (-pooler: PgBouncer in transaction mode, as serverless wants)", None))
    elif endpoint.neon:
        found.append(
            (
                "warn",
                f"host: direct ({endpoint.host}); serverless functions should use the pooled host",
                "use the pooled host in DATABASE_URL (the endpoint id followed by -pooler); keep the direct one in "
                "DATABASE_URL_UNPOOLED for migrations",
            )
        )
    else:
        found.append(("pass", f"host: direct ({endpoint.host})", None))
    sslmode = endpoint.sslmode
    shown = f"sslmode={sslmode}" if sslmode else "sslmode not set (libpq's default: prefer)"
    if endpoint.local or sslmode in SECURE_SSLMODES:
        found.append(("pass", shown, None))
    else:
        found.append(
            (
                "warn",
                shown + f": the connection to {endpoint.host} may go unencrypted",
                "add sslmode=require to DATABASE_URL (Neon's strings carry it: paste them as they are)",
            )
        )
    return found


def _judge_server(facts: ServerFacts) -> list[tuple[Status, str, str | None]]:
    found: list[tuple[Status, str, str | None]] = [("pass", f"PostgreSQL {facts.version}", None)]
    if facts.pgvector:
        found.append(("pass", f"pgvector {facts.pgvector} installed", None))
    elif facts.pgvector_available:
        found.append(("pass", f"pgvector {facts.pgvector_available} available, not created in this database", None))
    else:
        found.append(
            (
                "warn",
                "pgvector is not available on this server",
                "use a server with the pgvector extension (Neon has it on every plan)",
            )
        )
    if facts.revision == facts.head:
        found.append(("pass", f"migrations: at the code's revision ({facts.head})", None))
    else:
        at = facts.revision or "an empty database (no migration applied)"
        found.append(
            (
                "warn",
                f"migrations: the database is at {at}, the code at {facts.head}",
                "run `lectern db upgrade` with DATABASE_URL_UNPOOLED set to this database's direct URL",
            )
        )
    return found


def check_database(setting: Setting, target: str, *, resolver: Resolver = system_resolver) -> CheckReport:
    """Connect with the setting's URL and report the first failing stage, or what the connected server holds."""
    notes = (f"note: {setting.note}",) if setting.note else ()
    if setting.value is None:
        return CheckReport(
            NAME,
            "warn",
            "not checked: no DATABASE_URL to connect with",
            notes,
            ("set DATABASE_URL locally (or in .env) to check the database from here",),
        )
    url = setting.value
    update = _update_hint(setting, target)
    try:
        result = probe(url, update, resolver=resolver)
    except ConfigError as exc:
        return CheckReport(
            NAME,
            "fail",
            f"DATABASE_URL ({setting.source}) is not usable: {exc}",
            notes,
            (f"paste the URL as Neon gives it, then {update}",),
            {"stage": "url"},
        )
    shown = redacted(libpq_url(url))
    facts: dict[str, Any] = {
        "source": setting.source,
        "url": shown,
        "stage": None,
        "latencyMs": result.timings.as_json(),
        "pooled": is_pooled(url),
        "sslmode": result.endpoint.sslmode,
    }
    if result.failure is not None:
        failure = result.failure
        facts.update(stage=failure.stage, reason=failure.reason)
        summary = f"{failure.stage} failed for {shown} ({setting.source}): {failure.reason}"
        return CheckReport(NAME, "fail", summary, notes, (failure.fix,), facts)
    assert result.facts is not None
    findings = [*_judge_connection(result, url), *_judge_server(result.facts)]
    facts.update(pgvector=result.facts.pgvector, revision=result.facts.revision, head=result.facts.head)
    status = worst(status for status, _, _ in findings)
    summary = f"connected to {shown} ({setting.source}) as {result.endpoint.user or 'the default user'}"
    details = (*notes, *(detail for _, detail, _ in findings))
    fixes = tuple(fix for _, _, fix in findings if fix)
    return CheckReport(NAME, status, summary, details, fixes, facts)
