"""DATABASE_URL as users paste it (Neon's included) becomes a psycopg SQLAlchemy URL, options intact."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url

from lectern.db.url import is_pooled, redacted, sqlalchemy_url
from lectern.errors import ConfigError

NEON_POOLED = (
    "postgresql://neondb_owner:npg_Xy7pQ2rS9tUv@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech/neondb"
    "?sslmode=require&channel_binding=require"
)
NEON_DIRECT = NEON_POOLED.replace("-pooler", "")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example.org:5433/app", "postgresql+psycopg://u:p@db.example.org:5433/app"),
        ("postgresql://u:p@db.example.org/app", "postgresql+psycopg://u:p@db.example.org/app"),
        ("postgresql+psycopg://u:p@db.example.org/app", "postgresql+psycopg://u:p@db.example.org/app"),
        ("  postgresql://u@db.example.org/app\n", "postgresql+psycopg://u@db.example.org/app"),
    ],
)
def test_schemes_become_psycopg(given: str, expected: str) -> None:
    assert sqlalchemy_url(given) == expected


@pytest.mark.parametrize("given", ["mysql://u:sekrit-8d1f@h/db", "sqlite:///app.db", "db.example.org/app", ""])
def test_other_schemes_are_a_config_error_that_hides_the_url(given: str) -> None:
    with pytest.raises(ConfigError) as caught:
        sqlalchemy_url(given)
    assert "DATABASE_URL" in str(caught.value)
    assert "sekrit-8d1f" not in str(caught.value)


def test_neon_url_keeps_its_options_all_the_way_to_psycopg() -> None:
    url = make_url(sqlalchemy_url(NEON_POOLED))
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech"
    assert url.database == "neondb"
    assert url.password == "npg_Xy7pQ2rS9tUv"
    assert dict(url.query) == {"sslmode": "require", "channel_binding": "require"}

    # What SQLAlchemy hands psycopg when it connects.
    _, params = PGDialect_psycopg().create_connect_args(url)
    conninfo = conninfo_to_dict(make_conninfo(**params))
    assert conninfo["sslmode"] == "require"
    assert conninfo["channel_binding"] == "require"
    assert conninfo["host"] == url.host
    assert conninfo["dbname"] == "neondb"

    # And the libpq form of the same URL.
    libpq_form = conninfo_to_dict(sqlalchemy_url(NEON_POOLED).replace("postgresql+psycopg://", "postgresql://"))
    assert (libpq_form["sslmode"], libpq_form["channel_binding"]) == ("require", "require")


def test_percent_encoded_passwords_survive() -> None:
    url = make_url(sqlalchemy_url("postgres://app:p%40ss%2Fw%3Ard@db.example.org/app"))
    assert url.password == "p@ss/w:rd"


@pytest.mark.parametrize(
    ("url", "pooled"),
    [
        (NEON_POOLED, True),
        (NEON_DIRECT, False),
        (sqlalchemy_url(NEON_POOLED), True),
        ("postgresql://u@db.example.org/app-pooler", False),
        ("postgresql://u@localhost/app", False),
    ],
)
def test_is_pooled_looks_at_the_host(url: str, pooled: bool) -> None:
    assert is_pooled(url) is pooled


def test_redacted_hides_the_password_and_keeps_the_rest() -> None:
    shown = redacted(NEON_POOLED)
    assert "npg_Xy7pQ2rS9tUv" not in shown
    assert shown == NEON_POOLED.replace("npg_Xy7pQ2rS9tUv", "***")


@pytest.mark.parametrize(
    "url",
    ["postgresql://admin:admin@db.example.org/admin", "postgresql+psycopg://u:p%40ss@db.example.org:5432/app?x=1"],
)
def test_redacted_hides_passwords_that_look_like_other_parts(url: str) -> None:
    shown = redacted(url)
    assert ":***@" in shown
    assert make_url(shown).password == "***"
    assert make_url(shown).username == make_url(url).username
    assert make_url(shown).host == make_url(url).host


def test_redacted_leaves_a_url_without_password_alone() -> None:
    assert redacted("postgresql://app@db.example.org/app") == "postgresql://app@db.example.org/app"
