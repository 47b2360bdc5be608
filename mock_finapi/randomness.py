"""The seeded source: the only place mock-finapi makes ids, tokens, passwords and Faker data.

Values are a pure function of the seed, a named stream and a position in it (`sha1("seed:stream:position")`), and the
positions are part of the state (the store draws them). So the same seed and the same requests give the same ids and
tokens, a snapshot restores the source exactly, and several workers sharing one store never draw the same value.
Streams are independent: sending an `X-Request-Id` header, say, never shifts the tokens a run hands out.

Request ids are the exception: they must be unique within a server's run, across resets too, so they come from a
source seeded once per process (`request_id`).
"""

from __future__ import annotations

import hashlib
import random
import secrets
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

FINAPI_TOKEN_ALPHABET = string.ascii_letters + string.digits + "_"
FINAPI_TOKEN_LENGTH = 128
PASSWORD_ALPHABET = string.ascii_letters + string.digits
TOKENS, IDS, FAULTS = "tokens", "ids", "faults"
"""The streams: access and refresh tokens; ids, passwords and change tokens; fault probabilities."""


def random_seed() -> int:
    """A fresh seed for runs that did not name one (logged, so the run can be replayed)."""
    return secrets.randbits(32)


_run = random.Random(secrets.randbits(64))


def request_id() -> str:
    """`selfgen-<uuid>`: unique within this process's run (not seeded: a reset must not repeat them)."""
    return "selfgen-" + _format_uuid(_run.getrandbits(128))


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (4 << 76) | (0x8000 << 48)
"""The version (4) and variant (RFC 4122) bits of a UUID."""


def _format_uuid(bits: int) -> str:
    """A version 4 UUID of 128 random bits: what `str(uuid.UUID(int=bits, version=4))` gives, made faster."""
    digits = (bits & _UUID_CLEAR | _UUID_SET).to_bytes(16).hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class Randomness:
    """Values of the seed at a position of a stream."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _bytes(self, stream: str, position: int, length: int) -> bytes:
        key = f"{self.seed}:{stream}:{position}"
        out = hashlib.sha1(key.encode(), usedforsecurity=False).digest()
        block = 1
        while len(out) < length:  # rare: only long tokens need more than one digest
            out += hashlib.sha1(f"{key}:{block}".encode(), usedforsecurity=False).digest()
            block += 1
        return out[:length]

    def uuid(self, stream: str, position: int) -> str:
        return _format_uuid(int.from_bytes(self._bytes(stream, position, 16)))

    def token(self, fmt: str, position: int) -> str:
        """An access or refresh token: a UUID, or finAPI's 128 characters of [A-Za-z0-9_]."""
        if fmt == "finapi":
            alphabet = FINAPI_TOKEN_ALPHABET
            return "".join(alphabet[b % len(alphabet)] for b in self._bytes(TOKENS, position, FINAPI_TOKEN_LENGTH))
        return self.uuid(TOKENS, position)

    def password(self, position: int, length: int = 16) -> str:
        return "".join(PASSWORD_ALPHABET[b % len(PASSWORD_ALPHABET)] for b in self._bytes(IDS, position, length))

    def fraction(self, stream: str, position: int) -> float:
        """A number in [0, 1)."""
        return int.from_bytes(self._bytes(stream, position, 7)) / 2**56

    def faker(self, stream: str = "faker", position: int = 0) -> Faker:
        """Faker (de_DE) seeded for one use; imported on first use because it is slow to import."""
        from faker import Faker

        fake = Faker("de_DE")
        fake.seed_instance(f"{self.seed}:{stream}:{position}")
        return fake

    def generator(self, stream: str, position: int) -> random.Random:
        """A seeded PRNG for one piece of generated data (a bank connection's accounts, say)."""
        return random.Random(f"{self.seed}:{stream}:{position}")
