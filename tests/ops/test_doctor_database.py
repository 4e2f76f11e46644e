"""The database check against the real embedded PostgreSQL, reached over TCP: each stage that can fail, with the
fix it gives, and what a healthy connection reports. The password never appears.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from lectern.ops.doctor.database import (
    Endpoint,
    Probe,
    ServerFacts,
    StageFailure,
    Timings,
    _judge_connection,
    _judge_server,
    check_database,
    classify,
    parse_endpoint,
    resolve,
)
from lectern.ops.doctor.report import CheckReport
from lectern.ops.doctor.sources import LOCAL, Setting
from tests.cli.serving import free_port
from tests.ops.fixtures import PasswordRole, PgRelay, socket_path, tcp_url

WRONG = "wrong-pw-marker-" + "3" * 10


def local(url: str | None) -> Setting:
    return Setting("DATABASE_URL", url, LOCAL)


def everything(report: CheckReport) -> str:
    return "\n".join([report.summary, *report.details, *report.fixes, repr(report.as_json())])


def test_a_wrong_password_fails_at_auth(pg_relay: PgRelay, password_role: PasswordRole) -> None:
    url = tcp_url(pg_relay, "lectern_test", user=password_role.name, password=WRONG)
    report = check_database(local(url), "production")
    assert report.status == "fail" and report.facts["stage"] == "auth"
    assert report.summary == (
        f"auth failed for postgresql://{password_role.name}:***@127.0.0.1:{pg_relay.port}/lectern_test"
        f' (the local environment): password authentication failed for user "{password_role.name}"'
    )
    (fix,) = report.fixes
    assert fix.startswith(f"the password of {password_role.name} is wrong: copy the connection string again")
    assert fix.endswith("update DATABASE_URL in your environment or .env")
    assert WRONG not in everything(report)


def test_the_right_password_gets_through(pg_relay: PgRelay, password_role: PasswordRole) -> None:
    url = tcp_url(pg_relay, "postgres", user=password_role.name, password=password_role.password)
    report = check_database(local(url), "production")
    assert report.facts["stage"] is None, report.summary
    assert report.summary.startswith(f"connected to postgresql://{password_role.name}:***@127.0.0.1:")
    assert password_role.password not in everything(report)


def test_a_server_without_tls_fails_at_tls_when_tls_is_required(pg_relay: PgRelay) -> None:
    report = check_database(local(tcp_url(pg_relay, "lectern_test", query="sslmode=require")), "production")
    assert report.status == "fail" and report.facts["stage"] == "tls"
    assert report.summary.endswith("server does not support SSL, but SSL was required")
    assert "speaks no TLS but sslmode=require requires it" in report.fixes[0]


def test_a_missing_database_fails_at_database(pg_relay: PgRelay) -> None:
    report = check_database(local(tcp_url(pg_relay, "no_such_db")), "preview")
    assert report.status == "fail" and report.facts["stage"] == "database"
    assert report.summary.endswith('database "no_such_db" does not exist')
    assert report.fixes[0].startswith("create the database no_such_db, or fix its name")


def test_an_unknown_role_fails_at_auth(pg_relay: PgRelay) -> None:
    report = check_database(local(tcp_url(pg_relay, "lectern_test", user="nobody_here")), "production")
    assert report.facts["stage"] == "auth" and report.summary.endswith('role "nobody_here" does not exist')


def test_a_closed_port_fails_at_tcp() -> None:
    port = free_port()
    report = check_database(local(f"postgresql://app:{WRONG}@127.0.0.1:{port}/db"), "production")
    assert report.status == "fail" and report.facts["stage"] == "tcp"
    assert report.summary == (
        f"tcp failed for postgresql://app:***@127.0.0.1:{port}/db (the local environment):"
        f" 127.0.0.1:{port} refused the connection"
    )
    assert report.fixes == (
        f"nothing listens on 127.0.0.1:{port}: the database server is down, or the port in DATABASE_URL is wrong",
    )
    assert WRONG not in everything(report)


def test_a_host_that_does_not_resolve_fails_at_dns() -> None:
    def nowhere(host: str, port: int) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    url = f"postgresql://app:{WRONG}@ep-gone-123.us-east-2.aws.neon.tech/neondb?sslmode=require"
    report = check_database(Setting("DATABASE_URL", url, "Vercel (production)"), "production", resolver=nowhere)
    assert report.status == "fail" and report.facts["stage"] == "dns"
    assert report.summary.endswith("ep-gone-123.us-east-2.aws.neon.tech does not resolve (Name or service not known)")
    assert "copy the connection string again from Neon" in report.fixes[0]
    assert WRONG not in everything(report)


def test_a_resolver_that_hangs_is_cut_short() -> None:
    def hangs(host: str, port: int) -> list[tuple[Any, ...]]:
        time.sleep(2)
        return []

    endpoint = parse_endpoint("postgresql://app@db.example.org/app")
    with pytest.raises(StageFailure, match="did not resolve within 0 s") as failed:
        resolve(endpoint, hangs, timeout=0.1)
    assert failed.value.stage == "dns"


def test_a_healthy_database_reports_latency_host_tls_pgvector_and_migrations(database_url: str) -> None:
    report = check_database(local(database_url), "production")
    assert report.status == "pass", report
    details = "\n".join(report.details)
    assert "host: a local socket" in details and "first connect" in details
    assert "pgvector" in details and "migrations: at the code's revision" in details
    latency = report.facts["latencyMs"]
    assert latency["firstConnect"] > 0 and latency["dns"] is None  # a socket: no DNS, no TCP


def test_an_unmigrated_database_warns_with_the_command(empty_database: str) -> None:
    report = check_database(local(empty_database), "production")
    assert report.status == "warn" and report.facts["revision"] is None
    assert any("the database is at an empty database (no migration applied)" in d for d in report.details)
    assert "run `lectern db upgrade` with DATABASE_URL_UNPOOLED set" in report.fixes[0]


def test_a_slow_first_connect_suggests_a_suspended_compute(server_url: str) -> None:
    relay = PgRelay(socket_path(server_url), first_delay=0.8)
    try:
        report = check_database(local(tcp_url(relay, "lectern_test")), "production")
    finally:
        relay.close()
    assert report.status == "warn"
    assert report.facts["latencyMs"]["firstConnect"] >= 800
    suspended = next(d for d in report.details if d.startswith("the first connect took"))
    assert "most likely suspended and woke up (Neon scales to zero after 5 minutes idle)" in suspended
    assert any("disable scale to zero" in f for f in report.fixes)


def test_no_url_is_a_warning_that_says_why() -> None:
    note = "DATABASE_URL is sensitive on Vercel (production), so Vercel does not return it"
    report = check_database(Setting("DATABASE_URL", None, "Vercel (production)", note), "production")
    assert report.status == "warn" and report.summary == "not checked: no DATABASE_URL to connect with"
    assert report.details == (f"note: {note}",)


def test_a_url_that_is_not_postgres_fails() -> None:
    report = check_database(local("mysql://app:pw@db/app"), "production")
    assert report.status == "fail" and report.facts == {"stage": "url"}


def neon(host: str, sslmode: str | None) -> Probe:
    endpoint = Endpoint(host, 5432, "app", "neondb", sslmode)
    return Probe(endpoint, Timings(0.001, 0.01, 0.05, 0.04, 0.002))


def test_a_direct_neon_host_and_a_missing_sslmode_are_warned() -> None:
    url = "postgresql://app:pw@ep-cool-1.us-east-2.aws.neon.tech/neondb"
    found = _judge_connection(neon("ep-cool-1.us-east-2.aws.neon.tech", None), url)
    warnings = [(detail, fix) for status, detail, fix in found if status == "warn"]
    assert [d.split(":")[0] for d, _ in warnings] == ["host", "sslmode not set (libpq's default"]
    assert "-pooler" in (warnings[0][1] or "") and "sslmode=require" in (warnings[1][1] or "")
    pooled = "postgresql://app:pw@ep-cool-1-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require"
    found = _judge_connection(neon("ep-cool-1-pooler.us-east-2.aws.neon.tech", "require"), pooled)
    assert [status for status, _, _ in found] == ["pass"] * 3
    assert "host: pooled" in found[1][1]


def test_slow_connects_every_time_point_at_the_region() -> None:
    probe = neon("db.example.org", "require")
    probe.timings.first_connect, probe.timings.second_connect = 1.3, 1.2
    found = _judge_connection(probe, "postgresql://app@db.example.org/app?sslmode=require")
    assert found[1][:2] == ("warn", "every connect takes about 1.20 s")


def test_a_server_without_pgvector_warns() -> None:
    found = _judge_server(ServerFacts("16.4", None, None, "0004", "0004"))
    assert found[1][:2] == ("warn", "pgvector is not available on this server")


@pytest.mark.parametrize(
    ("message", "stage"),
    [
        ('FATAL:  password authentication failed for user "neondb_owner"', "auth"),
        ("fe_sendauth: no password supplied", "auth"),
        ('FATAL:  no pg_hba.conf entry for host "1.2.3.4", user "app", database "app", SSL off', "auth"),
        ('FATAL:  database "neondb2" does not exist', "database"),
        ("FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute", "database"),
        ("ERROR:  Endpoint ID is not specified. Either please upgrade the postgres client library", "tls"),
        ("ERROR:  connection is insecure (try using `sslmode=require`)", "tls"),
        ("SSL error: certificate verify failed", "tls"),
        ("channel binding required, but server authenticated client without channel binding", "tls"),
        ('could not translate host name "db" to address: Name or service not known', "dns"),
        ('connection to server at "10.0.0.1", port 5432 failed: timeout expired', "tcp"),
        ("something nobody has seen before", "connect"),
    ],
)
def test_libpq_messages_are_classified(message: str, stage: str) -> None:
    endpoint = Endpoint("db.example.org", 5432, "app", "app", "require")
    assert classify(message, endpoint, "update it")[0] == stage
