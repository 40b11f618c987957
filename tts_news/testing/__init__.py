"""Fixtures for tests and benchmarks (random-weight voices); nothing here runs in a render."""
