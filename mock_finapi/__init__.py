"""mock-finapi: an offline emulator of finAPI's sandbox (Access v1/v2 OAuth and users, Process Controller)."""

# The single source of the version (pyproject reads it); no importlib.metadata look-up at start-up.
__version__ = "0.1.0"
