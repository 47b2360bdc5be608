"""hosts.py: the Host names a server answers and what counts as its own Origin."""

from __future__ import annotations

import pytest

from mock_finapi import hosts


@pytest.mark.parametrize(
    ("host", "extra", "expected"),
    [
        ("127.0.0.1", [], ("localhost", "127.0.0.1", "::1")),
        ("::1", ["Mock.Test", "other.test."], ("localhost", "127.0.0.1", "::1", "mock.test", "other.test")),
        ("LocalHost", [], ("localhost", "127.0.0.1", "::1")),
        ("127.0.0.2", [], ("localhost", "127.0.0.1", "::1", "127.0.0.2")),
        ("0.0.0.0", ["mock.test"], None),
        ("::", [], None),
        ("192.168.1.5", [], None),
        ("mock-finapi", [], None),
    ],
)
def test_only_a_loopback_bind_restricts_the_host_names(
    host: str, extra: list[str], expected: tuple[str, ...] | None
) -> None:
    assert hosts.allowed_hosts(host, extra) == expected


@pytest.mark.parametrize(
    ("header", "name"),
    [
        (b"127.0.0.1:8080", "127.0.0.1"),
        (b"LocalHost", "localhost"),
        (b"localhost.:80", "localhost"),
        (b"[::1]:8080", "::1"),
        (b"[::1]", "::1"),
        (b"::1", "::1"),
        (b"evil.example:1234", "evil.example"),
        (b" Evil.Example ", "evil.example"),
        (b"", ""),
    ],
)
def test_the_name_of_a_host_header(header: bytes, name: str) -> None:
    assert hosts.host_name(header) == name


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        (b"http://127.0.0.1:8080", b"127.0.0.1:8080", True),
        (b"HTTP://LocalHost:8080", b"localhost:8080", True),
        (b"https://mock.test", b"mock.test", True),
        (b"http://localhost", b"localhost:80", True),
        (b"http://[::1]:8080", b"[::1]:8080", True),
        (b"http://127.0.0.1:8081", b"127.0.0.1:8080", False),
        (b"http://localhost:8080", b"127.0.0.1:8080", False),
        (b"https://evil.example", b"127.0.0.1:8080", False),
        (b"null", b"127.0.0.1:8080", False),
        (b"file://127.0.0.1:8080", b"127.0.0.1:8080", False),
        (b"http://127.0.0.1:8080", None, False),
    ],
)
def test_an_origin_is_the_servers_own_when_it_names_the_requests_host(
    origin: bytes, host: bytes | None, same: bool
) -> None:
    assert hosts.same_origin(origin, host) is same
