"""API tests: the emulator over HTTP only (endpoints and the admin API)."""

import pytest

pytest.register_assert_rewrite("tests.api.admin_helpers")
