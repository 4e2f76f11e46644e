"""Quotas and rate limits kept in Postgres, so every serverless instance counts the same hits."""

from lectern.limits.service import Allowed, hit

__all__ = ["Allowed", "hit"]
