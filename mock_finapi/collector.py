"""Pausing Python's cycle collector while the state is built, loaded or written out.

Those jobs make or copy millions of records that hold no reference cycles, and the collector's passes would walk
them again and again: young and middle collections of 35 to 100 ms each while a snapshot is written (holding the GIL,
so the event loop waits; bench/snapshot.py), full ones that double a build's time (bench/bank_load.py). `paused()`
turns it off in any thread and on again once the last job ends, if it was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_jobs = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _jobs, _was_enabled
    with _lock:
        if _jobs == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _jobs += 1
    try:
        yield
    finally:
        with _lock:
            _jobs -= 1
            if _jobs == 0 and _was_enabled:
                gc.enable()
