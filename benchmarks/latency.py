"""What a user waits for: start-up, first audio, speed and memory of the public API.

    python benchmarks/latency.py [--voice DIR] [--speaker ID] [--runs 5] [--rss-seconds 60]

Prints, each measured on this machine as it is (the load average is printed with it):
  1. the wall time of a new process running ``tts say "Hello there." -o FILE`` (median of
     ``--runs``), and of ``tts --help`` and ``tts speakers``;
  2. the time from calling ``Synthesizer.stream()`` on a loaded voice to its first chunk, for a
     text whose first sentence has 25 words (median of ``--runs``);
  3. the end-to-end real-time factor of a 55-word paragraph (``synthesize``, all threads);
  4. the peak RSS above the loaded Synthesizer while streaming one 10,000-character sentence
     without punctuation (in a child process; ``--rss-seconds`` of streaming, the memory is
     bounded after the first phrases);
and as its last line ``first_chunk_s X``. Default voice: the bundled one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PARAGRAPH = (
    "The morning train left the station at half past seven. Most of the passengers were "
    "reading, and a few of them were already asleep. Outside, the fields were covered in a "
    "thin layer of frost. By the time we reached the coast, the sun had finally come out, "
    "and the sea was calm and bright."
)
FIRST_SENTENCE_25_WORDS = (
    "When the last of the evening light had faded over the hills, the two old friends walked "
    "slowly back along the river towards the quiet village. They did not speak."
)

_RSS_CHILD = r"""
import resource, sys, time
from tts.synthesizer import Synthesizer

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20

voice, speaker, seconds = (sys.argv[1] or None), sys.argv[2], float(sys.argv[3])
synth = Synthesizer.from_pretrained(voice)
synth.synthesize("Warm up.", speaker=speaker or None)
loaded = rss_mb()
words = "the quick brown fox jumps over the lazy dog near the old mill by the river".split()
text = " ".join(words[i % len(words)] for i in range(3000))[:10_000]
peak, samples, started = loaded, 0, time.perf_counter()
stream = synth.stream(text, speaker=speaker or None)
for chunk in stream:
    samples += len(chunk)
    peak = max(peak, rss_mb())
    if time.perf_counter() - started > seconds:
        stream.close()
        break
peak = max(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(f"{loaded:.1f} {peak:.1f} {samples / synth.sample_rate:.1f} {len(text)}")
"""


def timed(command: list[str], cwd: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default=None, help="voice directory (default: bundled)")
    parser.add_argument("--speaker", default=None, help="speaker id (default: the first)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rss-seconds", type=float, default=60.0)
    args = parser.parse_args()

    tts = [sys.executable, "-m", "tts"]
    # the commands run in a scratch directory: a relative --voice must not change meaning there
    voice_args = ["--voice", os.path.abspath(args.voice)] if args.voice else []
    speaker_args = ["--speaker", args.speaker] if args.speaker else []
    with tempfile.TemporaryDirectory() as scratch:
        say = tts + ["say", "Hello there.", "-o", "hello.wav"] + voice_args + speaker_args
        timed(say, scratch)  # a warm disk cache, as the target says
        say_times = [timed(say, scratch) for _ in range(args.runs)]
        help_time = statistics.median(timed(tts + ["--help"], scratch) for _ in range(3))
        speakers_time = statistics.median(
            timed(tts + ["speakers"] + voice_args, scratch) for _ in range(3))
    print(f"load average: {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(f"tts say 'Hello there.' (new process): median {statistics.median(say_times):.2f} s "
          f"of {args.runs} ({', '.join(f'{t:.2f}' for t in say_times)})")
    print(f"tts --help {help_time:.2f} s, tts speakers {speakers_time:.2f} s")

    from tts.synthesizer import Synthesizer

    synth = Synthesizer.from_pretrained(args.voice)
    speaker = args.speaker or synth.speakers[0]
    synth.synthesize("Warm up.", speaker=speaker)
    first_chunks = []
    for _ in range(args.runs):
        started = time.perf_counter()
        stream = synth.stream(FIRST_SENTENCE_25_WORDS, speaker=speaker)
        next(stream)
        first_chunks.append(time.perf_counter() - started)
        stream.close()
    first_chunk = statistics.median(first_chunks)
    print(f"stream(): first chunk after {first_chunk:.3f} s (median of {args.runs}; first "
          f"sentence of {len(FIRST_SENTENCE_25_WORDS.split('.')[0].split())} words)")

    started = time.perf_counter()
    audio = synth.synthesize(PARAGRAPH, speaker=speaker)
    elapsed = time.perf_counter() - started
    print(f"paragraph of {len(PARAGRAPH.split())} words: {len(audio) / synth.sample_rate:.2f} s "
          f"of audio in {elapsed:.2f} s on {synth.threads} threads, "
          f"rtf {elapsed / (len(audio) / synth.sample_rate):.3f}")

    child = subprocess.run([sys.executable, "-c", _RSS_CHILD, args.voice or "", speaker,
                            str(args.rss_seconds)], check=True, capture_output=True, text=True)
    loaded, peak, streamed, chars = child.stdout.split()
    print(f"{chars}-character sentence without punctuation: peak RSS {float(peak):.0f} MB, "
          f"{float(peak) - float(loaded):.0f} MB above the loaded Synthesizer "
          f"({float(loaded):.0f} MB), over the first {streamed} s of audio")
    print(f"first_chunk_s {first_chunk:.3f}")


if __name__ == "__main__":
    main()
