"""mock-finapi installed without httpx (no `[pytest]` extra): pytest still runs, the fixtures say what to install.

The plugin is registered through the `pytest11` entry point, so every pytest run in an environment with mock-finapi
installed loads it, whether or not the project uses it. The environment here is a real one: a fresh virtual
environment holding this very installation of mock-finapi (its files and its entry points), pytest, and everything
they depend on, linked from the running environment, but not httpx. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

RUN_TIMEOUT = 120.0
EXTRA = "pip install 'mock-finapi[pytest]'"
PROJECT = """
import pytest


def test_unrelated():
    assert True


def test_finapi_app_needs_no_httpx(finapi_app):
    assert finapi_app.sandbox.world.scenario.name == "default"


def test_server(finapi_server):
    raise AssertionError("must not run")


def test_finapi(finapi):
    raise AssertionError("must not run")


def test_client(finapi_client):
    raise AssertionError("must not run")
"""


def installed_closure(*roots: str) -> list[importlib.metadata.Distribution]:
    """The installed distributions `roots` need (with the extras they ask for), found through their metadata."""
    found: dict[str, tuple[importlib.metadata.Distribution, set[str]]] = {}
    todo = [Requirement(root) for root in roots]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        dist, extras = found.get(name) or (importlib.metadata.distribution(requirement.name), set())
        wanted = extras | set(requirement.extras) | {""}
        if name in found and wanted <= extras:
            continue
        found[name] = (dist, wanted)
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra}) for extra in wanted):
                todo.append(needed)
    return [dist for dist, _ in found.values()]


@pytest.fixture(scope="module")
def without_httpx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with mock-finapi (no extras) and pytest, linked in; its Python."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    purelib = sysconfig.get_path("purelib", vars={"base": str(home), "platbase": str(home)})
    site = Path(purelib)
    assert site.is_dir()
    for dist in installed_closure("mock-finapi", "pytest"):
        assert canonicalize_name(dist.metadata["Name"]) not in ("httpx", "httpcore")
        top = {Path(file).parts[0] for file in dist.files or []} - {"..", "__pycache__"}
        for name in top:
            target = Path(str(dist.locate_file(name)))
            if target.exists() and not (site / name).exists():
                (site / name).symlink_to(target)
    python = home / "bin" / "python"
    assert run(python, "-c", "import httpx").returncode == 1  # the point of it all
    return python


def run(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST", "VIRTUAL_ENV"))}
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env, cwd=cwd, check=False
    )


@pytest.mark.slow
def test_pytest_runs_with_the_plugin_and_its_fixtures_name_the_extra(without_httpx: Path, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_project.py").write_text(PROJECT, encoding="utf-8")

    result = run(without_httpx, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:faker", cwd=tmp_path)

    output = result.stdout + result.stderr
    assert "--finapi-scenario" in run(without_httpx, "-m", "pytest", "--help", cwd=tmp_path).stdout  # plugin on
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "2 passed, 3 errors" in result.stdout, output
    missing = f"mock-finapi's test helpers need httpx, which is not installed: {EXTRA}"
    errors = [line for line in result.stdout.splitlines() if "need httpx" in line and not line.startswith("ERROR")]
    # `finapi` fails in its finapi_server; each error shows the one line and nothing else
    assert errors == [f"the {fixture} fixture: {missing}" for fixture in ("finapi_server",) * 2 + ("finapi_client",)]
    assert "No module named 'httpx'" not in output
    assert "Traceback" not in output
    assert "During handling" not in output


@pytest.mark.slow
@pytest.mark.parametrize("name", ["AdminClient", "ThreadedServer", "InProcessClient"])
def test_importing_a_test_helper_names_the_extra(without_httpx: Path, name: str) -> None:
    result = run(without_httpx, "-c", f"from mock_finapi.testing import {name}")

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"ModuleNotFoundError: mock-finapi's test helpers need httpx, which is not installed: {EXTRA}"
    )


def test_the_emulator_itself_does_not_need_the_extra() -> None:
    """`serve` and the plugin module import without httpx (checked in this process: nothing here imports httpx)."""
    modules = "mock_finapi.cli, mock_finapi.http.app, mock_finapi.testing.pytest_plugin"
    code = f"import sys, {modules}; print('httpx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    assert (result.returncode, result.stdout) == (0, "False\n"), result.stderr
