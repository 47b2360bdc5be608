"""What the benchmark scripts share: stopping a server process they started, publishing a report."""

from __future__ import annotations

import subprocess
from pathlib import Path


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def publish(text: str, out: Path) -> None:
    """Print a report and write it to `out` (its folder made if missing)."""
    print(text, end="")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
