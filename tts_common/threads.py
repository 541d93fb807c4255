"""One thread per core is ours to schedule: numpy's BLAS must not start its own on top.

Synthesis runs the WaveNet's sample loop on every core and the small matrix products of the
prosody and conditioning networks beside it. OpenBLAS, left alone, splits even a (110, 128)
product over all cores and spin-waits for them; with the cores busy that costs 25× (40 ms
instead of 1.6 ms, measured on the 2-core machine), and it gains nothing on matrices this small.
``single_threaded_blas()`` puts BLAS on one thread at the first synthesis work of the process,
and leaves it there: setting OpenBLAS's thread count while another thread is inside one of its
threaded products can crash the process (OpenBLAS#447), and a limit given back after every
sentence would do that many times a second in a server or a benchmark, whose other threads use
numpy meanwhile. A BLAS library loaded later (scipy's, say) is limited when it is first seen.
This also keeps the audio independent of the machine: OpenBLAS's results can differ in the last
bit with its thread count.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator


class _BlasLimit:
    """Every loaded BLAS library on one thread, each set once (when first seen)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._modules_seen = -1  # len(sys.modules) at the last look

    def hold(self) -> None:
        # A module imported since the last look may have loaded another BLAS: look again then
        # (3 ms), not on every call. Reading the count unlocked is safe: at worst one more look.
        if self._modules_seen == len(sys.modules):
            return
        with self._lock:
            modules = len(sys.modules)
            if self._modules_seen == modules:
                return
            from threadpoolctl import ThreadpoolController

            libraries = ThreadpoolController().select(user_api="blas").lib_controllers
            with _any_thread_may_set():
                for library in libraries:
                    if library.get_num_threads() != 1:
                        library.set_num_threads(1)
            self._modules_seen = modules


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
    """BLAS on one thread inside this block, and from then on (see the module's docstring)."""
    _LIMIT.hold()
    yield
