"""Compile the synthesis kernels now, so that a user's first ``tts say`` does not wait for them.

    python -m tts.warmup [--voice DIR]

The sample loop and the LPC filters are numba functions compiled with ``cache=True``: the first
process that runs one compiles it (10-20 s on two cores) and writes the machine code to the
numba cache, where every later process loads it in a fraction of a second. ``install.sh`` runs
this module last, so the compile happens at install time. It speaks one short sentence with the
bundled voice (or ``--voice``), which compiles every kernel synthesis calls with the argument
types synthesis uses, for the voice's weight storage and for the other one (float16 and float32
weights are two specializations of the loop).

Where the cache lives (numba's rules): beside the source in ``__pycache__`` when that directory
is writable (an editable install, or a virtual environment the user owns), else in the user's
cache directory (``~/.cache/numba``), or wherever ``NUMBA_CACHE_DIR`` points. An entry is keyed
by the source file's path and modification time and by the CPU, so reinstalling the package, or
copying an installation to another kind of machine, means one more compile (run this again).
"""

from __future__ import annotations

import argparse
import logging
import time

logger = logging.getLogger(__name__)

WARMUP_TEXT = "Hello."


def warm_up(voice: str | None = None) -> float:
    """Synthesize ``WARMUP_TEXT`` with both weight storages; returns the seconds it took."""
    from tts.synthesizer import Synthesizer
    from vocoder.generate import WEIGHT_DTYPES, Generator
    from vocoder.stream import StreamingGenerator

    start = time.perf_counter()
    synth = Synthesizer.from_pretrained(voice)
    synth.synthesize(WARMUP_TEXT, seed=0)
    # The other weight storage: the same loop specialized for float32 or float16 weights,
    # through the same streaming path as synthesis (so the same argument types).
    plan = synth.plan(next(iter(synth.phonemize(WARMUP_TEXT))), 0)
    for dtype in WEIGHT_DTYPES:
        if dtype != synth.generator.weights_dtype:
            other = Generator.from_tensors(synth.generator.config,
                                           synth.voice.tensors("wavenet"), dtype)
            audio = StreamingGenerator(other).submit(plan.conditioning[:4], 0, seed=0,
                                                     temperature=synth.temperature)
            for _ in audio:
                pass
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tts.warmup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voice", help="voice directory (default: the bundled voice)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    seconds = warm_up(args.voice)
    logger.info("tts.warmup: synthesis kernels compiled and cached (%.1f s)", seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
