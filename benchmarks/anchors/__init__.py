"""Anchor apps: the smallest reasonable apps doing the same work, to measure Lectern against."""
