"""Local stand-ins for external systems, served over real HTTP for tests and benchmarks."""
