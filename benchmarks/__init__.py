"""Benchmarks: each compares Lectern with an anchor measured in the same run (see docs/benchmarks.md)."""
