"""How the text frontend's time grows with the input: it must be linear, not quadratic.

Homograph context used to rescan the whole sentence around every homograph, so a long text
without a full stop (``"read lead " * n``) took 0.42 s / 1.78 s / 8.52 s at 5k / 10k / 20k
characters. This times ``Frontend().utterance`` on such a text at 1x and 2x its length (best of
three each) and prints the ratio on the last line: about 2 for linear work, 4 for quadratic.
``work_ratio`` counts Python calls instead of seconds (the same count on every run, so the
test suite checks linearity with it, not with a clock).

    python benchmarks/input_scaling.py              # a few seconds
    python benchmarks/input_scaling.py --words 4000
"""

from __future__ import annotations

import argparse
import sys
import time

from frontend.features import Frontend


def best_time(frontend: Frontend, text: str, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        frontend.utterance(text)
        best = min(best, time.perf_counter() - start)
    return best


def scaling_ratio(words: int = 1000) -> float:
    """Time at ``2 * words`` homographs over the time at ``words`` (no sentence end)."""
    frontend = Frontend()
    frontend.utterance("read lead")  # CMUdict is parsed once, outside the timing
    single = best_time(frontend, "read lead " * (words // 2))
    double = best_time(frontend, "read lead " * words)
    print(f"{words // 2 * 10} chars: {single:.3f} s, {words * 10} chars: {double:.3f} s")
    return double / single


def python_calls(frontend: Frontend, text: str) -> int:
    """Python function calls and generator resumes made by ``frontend.utterance(text)``."""
    calls = 0

    def count(frame, event, arg) -> None:  # noqa: ARG001 (the sys.setprofile signature)
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        frontend.utterance(text)
    finally:
        sys.setprofile(None)
    return calls


def work_ratio(words: int = 1000) -> float:
    """Like ``scaling_ratio`` but in Python calls: deterministic, about 2 for linear work."""
    frontend = Frontend()
    frontend.utterance("read lead")  # warm the caches so both counts see the same state
    return (python_calls(frontend, "read lead " * words)
            / python_calls(frontend, "read lead " * (words // 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2000, help="homographs in the longer text")
    args = parser.parse_args()
    print(f"work_ratio {work_ratio(args.words):.2f} (Python calls)")
    print(f"scaling_ratio {scaling_ratio(args.words):.2f}")


if __name__ == "__main__":
    main()
