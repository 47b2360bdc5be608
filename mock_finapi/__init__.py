"""mock-finapi: an offline emulator of finAPI's sandbox (Access v1/v2 OAuth and users, Process Controller)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mock-finapi")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
