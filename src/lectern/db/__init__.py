"""Database access: URLs, the embedded server, engines, models and migrations."""
