"""The OpenAI stand-in fixtures, for the tests that check it against the SDK."""

from tests.standins.openai_fixtures import openai_standin, openai_standin_server

__all__ = ["openai_standin", "openai_standin_server"]
