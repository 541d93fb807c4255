"""End-to-end synthesis speed: frontend + prosody + WaveNet through the public Synthesizer.

    python benchmarks/synthesis_speed.py [--voice DIR] [--speaker ID] [--threads N]

Prints the real-time factor of ``synthesize`` on a paragraph (seconds of compute per second of
audio; below 1 is faster than real time), the time to the first chunk of ``stream``, and as its
last line ``rtf X``. Default voice: the bundled one.
"""

from __future__ import annotations

import argparse
import os
import time

PARAGRAPH = (
    "The morning train left the station at half past seven. Most of the passengers were "
    "reading, and a few of them were already asleep. Outside, the fields were covered in a "
    "thin layer of frost. By the time we reached the coast, the sun had finally come out, "
    "and the sea was calm and bright."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default=None, help="voice directory (default: bundled)")
    parser.add_argument("--speaker", default=None, help="speaker id (default: the first)")
    parser.add_argument("--threads", type=int, default=None, help="generation threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from tts.synthesizer import Synthesizer

    synth = Synthesizer.from_pretrained(args.voice, threads=args.threads)
    speaker = args.speaker or synth.speakers[0]
    # Warm-up: compiles the generation loop (numba caches it on disk) and loads CMUdict.
    synth.synthesize("Warm up.", speaker=speaker, seed=args.seed)

    started = time.perf_counter()
    first_chunk = None
    total = 0
    for chunk in synth.stream(PARAGRAPH, speaker=speaker, seed=args.seed):
        if first_chunk is None:
            first_chunk = time.perf_counter() - started
        total += len(chunk)
    stream_seconds = time.perf_counter() - started

    started = time.perf_counter()
    audio = synth.synthesize(PARAGRAPH, speaker=speaker, seed=args.seed)
    elapsed = time.perf_counter() - started
    audio_seconds = len(audio) / synth.sample_rate

    print(f"voice: {synth.voice.directory}  speaker: {speaker}  threads: {synth.threads}  "
          f"load average: {os.getloadavg()[0]:.2f}")
    print(f"paragraph: {len(PARAGRAPH.split())} words, {audio_seconds:.2f} s of audio")
    print(f"stream: first chunk after {first_chunk:.2f} s, all {total / synth.sample_rate:.2f} s "
          f"of audio in {stream_seconds:.2f} s")
    print(f"synthesize: {elapsed:.2f} s")
    print(f"rtf {elapsed / audio_seconds:.3f}")


if __name__ == "__main__":
    main()
