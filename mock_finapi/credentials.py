"""Credentials: the one parser of `Authorization` headers, and constant-time comparison of secrets."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import NamedTuple

_NO_SECRET = b"\0" * 36


class Authorization(NamedTuple):
    """An `Authorization` header: its scheme as sent, and its credentials (Bearer: the token; Basic: the decoded
    `user:password`, None when it does not decode; "" when the header has no scheme, only a credential)."""

    scheme: str
    credentials: str | None

    @property
    def bearer(self) -> str | None:
        return self.credentials if self.scheme.lower() == "bearer" and self.credentials else None

    @property
    def basic(self) -> tuple[str, str] | None:
        """`(client id, secret)` of HTTP Basic credentials."""
        if self.scheme.lower() != "basic" or self.credentials is None:
            return None
        user, _, password = self.credentials.partition(":")
        return user, password


def parse_authorization(header: str) -> Authorization:
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            return Authorization(scheme, base64.b64decode(value, validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError):
            return Authorization(scheme, None)
    return Authorization(scheme, value)


def secrets_equal(given: str, expected: str | None) -> bool:
    """Constant-time comparison (also when there is nothing to compare with)."""
    return hmac.compare_digest(given.encode(), expected.encode() if expected is not None else _NO_SECRET)
