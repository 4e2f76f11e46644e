"""Health tests build apps with custom settings, some on an unmigrated database."""

from tests.db.fixtures import empty_database
from tests.web.fixtures import make_client

__all__ = ["empty_database", "make_client"]
