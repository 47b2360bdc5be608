"""The seeded source: the only place mock-finapi makes ids, tokens, passwords and Faker data.

One seed drives independent named streams, so that, say, sending an `X-Request-Id` header (which saves drawing a
request id) never shifts the tokens a run hands out. Same seed and same requests → same ids, tokens and users.
"""

from __future__ import annotations

import random
import secrets
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

FINAPI_TOKEN_ALPHABET = string.ascii_letters + string.digits + "_"
FINAPI_TOKEN_LENGTH = 128
PASSWORD_ALPHABET = string.ascii_letters + string.digits
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (4 << 76) | (0x8000 << 48)
"""The version (4) and variant (RFC 4122) bits of a UUID."""


def random_seed() -> int:
    """A fresh seed for runs that did not name one (logged, so the run can be replayed)."""
    return secrets.randbits(32)


class Randomness:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._tokens = self._stream("tokens")
        self._ids = self._stream("ids")
        self._requests = self._stream("requests")
        self._faker: Faker | None = None

    def _stream(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def stream(self, name: str) -> random.Random:
        """A further independent stream (e.g. for fault probabilities) derived from the seed."""
        return self._stream(name)

    @staticmethod
    def _uuid(rng: random.Random) -> str:
        """A version 4 UUID from 128 random bits: what `str(uuid.UUID(int=bits, version=4))` gives, made faster."""
        digits = (rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET).to_bytes(16).hex()
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    def token(self, fmt: str) -> str:
        """An access or refresh token: a UUID, or finAPI's 128 characters of [A-Za-z0-9_]."""
        if fmt == "finapi":
            return "".join(self._tokens.choices(FINAPI_TOKEN_ALPHABET, k=FINAPI_TOKEN_LENGTH))
        return self._uuid(self._tokens)

    def uuid(self) -> str:
        """An identifier (user ids, mandator ids, password change tokens)."""
        return self._uuid(self._ids)

    def password(self, length: int = 16) -> str:
        return "".join(self._ids.choices(PASSWORD_ALPHABET, k=length))

    def request_id(self) -> str:
        return "selfgen-" + self._uuid(self._requests)

    @property
    def faker(self) -> Faker:
        """Faker seeded from the same seed; imported on first use because it is slow to import."""
        if self._faker is None:
            from faker import Faker

            self._faker = Faker("de_DE")
            self._faker.seed_instance(self.seed)
        return self._faker
