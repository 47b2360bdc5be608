"""The state kept in a file across restarts (`mock-finapi serve --state-file PATH`).

At start the sandbox serves the snapshot in the file when there is one (`load`); a file that cannot be loaded stops
the server, and is never written over. While serving, `keep` writes a snapshot at most every `interval` seconds,
and only when requests (or the upkeep) may have changed the state since the last one; `save` writes the last one
when the server stops gracefully. So a crash or SIGKILL loses at most the last `interval` seconds. Each write takes
the state in one step on the event loop, builds the document off it and replaces the file atomically
(`snapshots.write_file`): a reader, or a crash mid-way, sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from mock_finapi import snapshots
from mock_finapi.settings import Settings
from mock_finapi.world import Sandbox

log = logging.getLogger("mock_finapi")
DEFAULT_INTERVAL = 5.0


class StateFileError(Exception):
    """A state file that cannot be used (`str()` says why and what to do)."""


class StateFile:
    def __init__(self, path: Path, interval: float = DEFAULT_INTERVAL) -> None:
        self.path, self.interval = path, interval
        self.saved_changes = -1
        """`Sandbox.changes` when the last write began (-1: nothing written yet)."""
        self._writing = asyncio.Lock()

    def check(self) -> None:
        """Raise StateFileError unless the file's folder exists and takes files (known before anything is served)."""
        folder = self.path.parent
        if not folder.is_dir():
            raise StateFileError(f"the folder of the state file {self.path} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StateFileError(f"the folder of the state file {self.path} is not writable")
        if self.path.exists() and not self.path.is_file():
            raise StateFileError(f"the state file {self.path} is not a file")

    def load(self, settings: Settings) -> snapshots.Loaded | None:
        """The snapshot in the file; None when there is no file yet. Raises StateFileError for one that cannot be
        loaded (it is left as it is)."""
        if not self.path.exists():
            return None
        try:
            return snapshots.read_file(self.path, journal_size=settings.journal_size, capacity=settings.capacity)
        except snapshots.SnapshotError as exc:
            raise StateFileError(
                f"cannot load the state file {self.path}: {exc} (it is left as it is: move it away to start from "
                "the scenario)"
            ) from None

    async def keep(self, sandbox: Sandbox) -> None:
        """Write the state every `interval` seconds while it changes (until cancelled); a write that fails is logged
        and tried again at the next turn."""
        self.saved_changes = sandbox.changes  # what was loaded or built is on disk, or made again the same way
        while True:
            await asyncio.sleep(self.interval)
            if sandbox.changes != self.saved_changes:
                try:
                    await self.save(sandbox)
                except OSError as exc:
                    log.error("cannot write the state file %s: %s", self.path, exc.strerror or exc)

    async def save(self, sandbox: Sandbox, *, serving: bool = True) -> int:
        """Write the state now (one write at a time; at full speed once the server serves no more); answers the
        bytes written. Raises OSError."""
        async with self._writing:
            changes = sandbox.changes
            pieces = await sandbox.snapshot(journal=True, paced=serving)
            size = await asyncio.to_thread(snapshots.write_file, self.path, pieces)
            self.saved_changes = changes
            log.debug("state written to %s: %d bytes", self.path, size)
            return size
