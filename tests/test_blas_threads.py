"""tts_common.threads: BLAS on one thread from the first synthesis work on, set once, never
toggled while other threads may be inside a BLAS product."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from tts_common.threads import single_threaded_blas


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_blas_is_single_threaded_inside_and_stays_so_after_the_last_holder():
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
    release_inner.set()
    worker.join(5)
    # Given back, the next holder would set it again while this thread multiplies: not done.
    assert blas_threads() == {1}


def test_holders_coming_and_going_beside_matrix_products_leave_the_products_right():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 256)), rng.standard_normal((256, 256))
    expected = a @ b
    stop, failures = threading.Event(), []

    def holders() -> None:
        while not stop.is_set():
            with single_threaded_blas():
                pass

    threads = [threading.Thread(target=holders) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(200):
            if not np.allclose(a @ b, expected):
                failures.append("product changed")
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert not failures and blas_threads() == {1}


def test_a_blas_library_loaded_after_the_first_use_is_limited_too():
    with single_threaded_blas():
        pass
    pytest.importorskip("scipy.linalg")  # its own OpenBLAS (the README's install has no scipy)

    with single_threaded_blas():
        assert blas_threads() == {1}
