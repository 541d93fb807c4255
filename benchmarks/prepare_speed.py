"""Corpus-preparation throughput: seconds of audio prepared per second of wall time.

Renders (or reuses) a small demo corpus, 2 speakers x 10 sentences by default, prepares it from
scratch into a temporary directory with ``recipes.vctk.prepare`` (2 jobs), one stage after the
other so that each stage's share is visible, and prints the total last:

    python benchmarks/prepare_speed.py                 # ~1 minute on 2 cores
    python benchmarks/prepare_speed.py --jobs 1 --f0-method dio

    stage 1 audio      ...
    ...
    audio_seconds_per_second X
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import time
import warnings
from pathlib import Path

from recipes.demo.make_corpus import SPEAKERS, make_corpus
from recipes.vctk.prepare import STAGES, PrepareConfig, prepare
from tts_common.corpus import read_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds() -> float:
    """User + system time of this process and of its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path,
                        default=REPO_ROOT / "data" / "bench" / "prepare_speed",
                        help="where the demo corpus is rendered or reused")
    parser.add_argument("--speakers", type=int, default=2)
    parser.add_argument("--sentences", type=int, default=10, help="sentences per speaker")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--f0-method", default="praat", choices=("harvest", "dio", "praat"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # pyworld 0.3.5

    corpus = make_corpus(args.corpus, args.speakers, args.sentences, jobs=2)
    with tempfile.TemporaryDirectory(prefix="prepare_speed_") as tmp:
        prep = Path(tmp) / "prep"
        seconds: dict[int, float] = {}
        cpu: dict[int, float] = {}
        for stage in STAGES:
            config = PrepareConfig(corpus_dir=corpus, prep_dir=prep, stage=stage, stop_stage=stage,
                                   jobs=args.jobs, f0_method=args.f0_method, progress=False,
                                   speakers=tuple(s.speaker_id for s in SPEAKERS[:args.speakers]),
                                   max_per_speaker=args.sentences)
            start, cpu_start = time.perf_counter(), _cpu_seconds()
            prepare(config)
            seconds[stage] = time.perf_counter() - start
            cpu[stage] = _cpu_seconds() - cpu_start
        rows = read_manifest(prep, fields=("duration_s",))
        skipped = (prep / "skipped.jsonl").read_text().splitlines()
    audio_seconds = sum(row["duration_s"] for row in rows)
    total = sum(seconds.values())
    print(f"corpus: {len(rows)} utterances, {audio_seconds:.1f} s of audio after trimming, "
          f"{len(skipped)} skipped; {args.jobs} jobs, f0 method {args.f0_method}")
    # CPU seconds are what a stage costs on an idle machine; wall seconds also carry whatever
    # else the machine is doing.
    for stage, name in STAGES.items():
        print(f"stage {stage} {name:<9} {seconds[stage]:7.2f} s wall "
              f"({audio_seconds / seconds[stage]:7.1f} audio s/s)  {cpu[stage]:7.2f} s CPU "
              f"({audio_seconds / max(cpu[stage], 1e-9):7.1f} audio s per CPU s)")
    print(f"total             {total:7.2f} s wall          {sum(cpu.values()):17.2f} s CPU")
    print(f"audio_seconds_per_second {audio_seconds / total:.2f}")


if __name__ == "__main__":
    main()
