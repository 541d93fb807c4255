"""tts_common.threads: BLAS held at one thread while any synthesis work runs, then restored."""

from __future__ import annotations

import threading

import numpy  # noqa: F401  (loads the BLAS library the test looks at)
import pytest
from threadpoolctl import threadpool_info

from tts_common.threads import single_threaded_blas


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_blas_is_single_threaded_inside_and_restored_after_the_last_holder():
    before = blas_threads()
    inner_entered, release_inner = threading.Event(), threading.Event()

    def other_holder() -> None:
        with single_threaded_blas():
            inner_entered.set()
            release_inner.wait(5)

    with single_threaded_blas():
        assert blas_threads() == {1}
        worker = threading.Thread(target=other_holder)
        worker.start()
        inner_entered.wait(5)
    assert blas_threads() == {1}, "released while another holder still runs"
    release_inner.set()
    worker.join(5)
    assert blas_threads() == before


def test_a_blas_library_loaded_after_the_first_use_is_limited_too():
    with single_threaded_blas():
        pass
    pytest.importorskip("scipy.linalg")  # its own OpenBLAS (the README's install has no scipy)

    with single_threaded_blas():
        assert blas_threads() == {1}
