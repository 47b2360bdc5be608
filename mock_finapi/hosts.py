"""Which `Host` and `Origin` a request may carry: the checks against DNS rebinding and cross-site admin requests.

A server listening on a loopback address answers only requests whose `Host` names loopback (`localhost`,
`127.0.0.1`, `::1`, the address it binds) or a name added with `--allow-host`: a web page whose own name was made to
resolve to 127.0.0.1 (DNS rebinding) sends its own name, and is refused. A server on any other address answers any
`Host` (`allowed_hosts` is None). A request without `Host` (HTTP/1.0) is let through: a browser always sends one.

A browser's `Origin` names the page that made the request; a request that changes admin state is let through only
when its `Origin` is the server's own (`http://` or `https://` and the request's `Host`) or it has none (curl, test
clients).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> tuple[str, ...] | None:
    """The `Host` names requests to a server bound to `host` may carry: while that is a loopback address, loopback
    names and `extra`; on any other address, any (None)."""
    if not is_loopback(host):
        return None
    names = [*LOOPBACK_NAMES, host, *extra]
    return tuple(dict.fromkeys(name.lower().removesuffix(".") for name in names))


def host_name(value: bytes) -> str:
    """The name a `Host` header names, in lower case: its port stripped, an IPv6 address without its brackets, a
    fully qualified name without its final dot (`LocalHost.:80` → `localhost`, `[::1]:80` → `::1`)."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        name = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        name = text.partition(":")[0]
    else:  # a name without a port, or an IPv6 address without brackets
        name = text
    return name.removesuffix(".")


def same_origin(origin: bytes, host: bytes | None) -> bool:
    """Whether `Origin` is the origin of the server the request's `Host` names (the port 80 of `http` written or
    left out)."""
    if host is None:
        return False
    origin, host = origin.strip().lower(), host.strip().lower()
    scheme, _, rest = origin.partition(b"://")
    if scheme not in (b"http", b"https"):
        return False
    return rest == host or rest == host.removesuffix(b":80")
