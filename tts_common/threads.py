"""One thread per core is ours to schedule: numpy's BLAS must not start its own on top.

Synthesis runs the WaveNet's sample loop on every core and the small matrix products of the
prosody and conditioning networks beside it. OpenBLAS, left alone, splits even a (110, 128)
product over all cores and spin-waits for them; with the cores busy that costs 25× (40 ms
instead of 1.6 ms, measured on the 2-core machine), and it gains nothing on matrices this small.
``single_threaded_blas()`` holds BLAS at one thread while any synthesis work runs in the process
and gives it back its own setting when the last one ends. It also keeps the audio independent
of the machine: OpenBLAS's results can differ in the last bit with its thread count.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any


class _BlasLimit:
    """A count of the holders; the first one limits BLAS, the last one restores it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._limiter: Any = None
        self._libraries: Any = None
        self._modules_seen = 0

    def acquire(self) -> None:
        with self._lock:
            self._holders += 1
            if self._holders == 1:
                # A module imported since the last look may have loaded another BLAS (scipy's,
                # say): look again then (3 ms), not on every first holder.
                if self._libraries is None or self._modules_seen != len(sys.modules):
                    from threadpoolctl import ThreadpoolController

                    self._libraries = ThreadpoolController().select(user_api="blas")
                    self._modules_seen = len(sys.modules)
                with _any_thread_may_set():
                    self._limiter = self._libraries.limit(limits=1)

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._limiter is not None:
                with _any_thread_may_set():
                    self._limiter.restore_original_limits()
                self._limiter = None


@contextlib.contextmanager
def _any_thread_may_set() -> Iterator[None]:
    """threadpoolctl lets only the first thread that set OpenBLAS's pool set it again; our
    holders come and go on any thread (their count is what is serialized), so hand it over."""
    from threadpoolctl import OpenBLASController

    OpenBLASController.clear_controlling_thread(force=True)
    try:
        yield
    finally:
        OpenBLASController.clear_controlling_thread(force=True)


_LIMIT = _BlasLimit()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS on one thread inside this block (and as long as any other such block runs)."""
    _LIMIT.acquire()
    try:
        yield
    finally:
        _LIMIT.release()
