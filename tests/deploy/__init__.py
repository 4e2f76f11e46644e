"""Tests for lectern.deploy."""
