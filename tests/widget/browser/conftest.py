"""Browser fixtures, shared by this package's tests: one app, two other sites and one chromium for them all.

The package holds only sync tests: Playwright's sync API keeps an event loop running in this thread, in which
pytest-asyncio could not run async tests or fixtures.
"""

from __future__ import annotations

from tests.standins.openai_fixtures import openai_standin_server
from tests.widget.browser.fixtures import browser, other_app, session, widget_server

__all__ = ["browser", "openai_standin_server", "other_app", "session", "widget_server"]
