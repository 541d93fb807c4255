"""How the text frontend's time grows with the input: it must be linear, not quadratic.

Homograph context used to rescan the whole sentence around every homograph, so a long text
without a full stop (``"read lead " * n``) took 0.42 s / 1.78 s / 8.52 s at 5k / 10k / 20k
characters. This times ``Frontend().utterance`` on such a text at 1x and 2x its length (best of
three each) and prints the ratio on the last line: about 2 for linear work, 4 for quadratic.

    python benchmarks/input_scaling.py              # a few seconds
    python benchmarks/input_scaling.py --words 4000
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2000, help="homographs in the longer text")
    args = parser.parse_args()
    print(f"scaling_ratio {scaling_ratio(args.words):.2f}")


if __name__ == "__main__":
    main()
