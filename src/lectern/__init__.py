"""Lectern: the backend for AI-native textbooks."""

__version__ = "0.1.0"
