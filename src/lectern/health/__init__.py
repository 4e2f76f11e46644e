"""Liveness, readiness (database and migrations) and the env contract's validation endpoint."""
