"""Helpers for test suites (needs the `test` extra for httpx)."""
