"""Where the doctor's settings come from: Vercel's value when it is returned, else the local one, saying why."""

from __future__ import annotations

from lectern.deploy.vercel.models import EnvVariable
from lectern.ops.doctor.sources import LOCAL, Environment, Setting


def record(key: str, value: str | None, env_type: str = "encrypted") -> EnvVariable:
    return EnvVariable(id=f"env_{key}", key=key, type=env_type, targets=("production",), value=value)


LOCAL_ENV = {"DATABASE_URL": "postgresql://local@db/app", "FRONTEND_ORIGINS": "http://localhost:3000"}


def test_a_value_vercel_returns_wins() -> None:
    env = Environment("production", LOCAL_ENV, {"FRONTEND_ORIGINS": record("FRONTEND_ORIGINS", "https://book.org")})
    assert env.setting("FRONTEND_ORIGINS") == Setting("FRONTEND_ORIGINS", "https://book.org", "Vercel (production)")


def test_a_sensitive_value_falls_back_to_the_local_one_and_says_so() -> None:
    env = Environment("production", LOCAL_ENV, {"DATABASE_URL": record("DATABASE_URL", None, "sensitive")})
    setting = env.setting("DATABASE_URL")
    assert (setting.value, setting.source) == ("postgresql://local@db/app", LOCAL)
    assert setting.note == (
        "DATABASE_URL is sensitive on Vercel (production), so Vercel does not return it: used the local DATABASE_URL"
        " instead"
    )
    bare = Environment("preview", {}, {"DATABASE_URL": record("DATABASE_URL", None, "sensitive")})
    assert bare.setting("DATABASE_URL") == Setting(
        "DATABASE_URL",
        None,
        "Vercel (preview)",
        "DATABASE_URL is sensitive on Vercel (preview), so Vercel does not return it",
    )


def test_a_variable_missing_on_vercel_is_named() -> None:
    env = Environment("production", {}, {})
    assert env.setting("FRONTEND_ORIGINS").note == "FRONTEND_ORIGINS is not set on Vercel (production)"


def test_without_vercel_the_local_environment_is_used() -> None:
    assert Environment("production", LOCAL_ENV).setting("DATABASE_URL") == Setting(
        "DATABASE_URL", "postgresql://local@db/app", LOCAL
    )
    failed = Environment("production", LOCAL_ENV, None, "see the deployment check").setting("DATABASE_URL")
    assert failed.note == "Vercel's variables could not be read (see the deployment check): used the local DATABASE_URL"
    assert failed.value == "postgresql://local@db/app"
