"""Accounts: signup, login, rotating refresh tokens, access tokens and login throttling."""
