"""Speed of WaveNet generation: seconds of compute per second of 16 kHz audio.

    python benchmarks/vocoder_speed.py --layers 20 --residual-channels 64 --skip-channels 128 \
        --seconds 2 --batch 4 --threads 2

Builds a random-weight model of that shape with local (80-dim frames) and global (4 speakers)
conditioning, generates the audio end to end (conditioning network + projections + sample loop),
and prints the shape, the batched throughput, and as its last line ``rtf X`` for one utterance.
The first run of a fresh checkout also compiles the loop (not timed; numba caches it on disk).
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np
import torch

from vocoder.generate import WEIGHT_DTYPES, Generator
from vocoder.model import WaveNet, WaveNetConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--stacks", type=int, default=2)
    parser.add_argument("--residual-channels", type=int, default=64)
    parser.add_argument("--gate-channels", type=int, default=None,
                        help="default: twice the residual channels")
    parser.add_argument("--skip-channels", type=int, default=128)
    parser.add_argument("--cond-channels", type=int, default=80)
    parser.add_argument("--speakers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=2.0, help="audio per utterance")
    parser.add_argument("--batch", type=int, default=4, help="utterances in the batched run")
    parser.add_argument("--threads", type=int, default=2, help="numba/torch threads")
    parser.add_argument("--weights", choices=WEIGHT_DTYPES, default="float32",
                        help="stored weight precision (math is float32 either way)")
    parser.add_argument("--repeats", type=int, default=1, help="report the best of this many")
    args = parser.parse_args()
    if args.seconds <= 0 or args.batch < 1 or args.threads < 1 or args.repeats < 1:
        parser.error("--seconds must be > 0 and --batch, --threads, --repeats >= 1")

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    torch.manual_seed(0)
    config = WaveNetConfig(
        layers=args.layers, stacks=args.stacks, residual_channels=args.residual_channels,
        gate_channels=args.gate_channels or 2 * args.residual_channels,
        skip_channels=args.skip_channels, cond_channels=args.cond_channels,
        num_speakers=args.speakers)
    model = WaveNet(config).eval()
    generator = Generator(model, weights_dtype=args.weights)
    frames = max(1, round(args.seconds * config.sample_rate / config.hop_length))
    seconds = frames * config.hop_length / config.sample_rate
    rng = np.random.default_rng(0)
    features = [rng.standard_normal((frames, config.cond_channels)).astype(np.float32)
                for _ in range(args.batch)]
    speakers = [i % config.num_speakers for i in range(args.batch)] if config.num_speakers else None

    print(f"model: {config.layers} layers in {config.stacks} stacks "
          f"(dilations 1..{max(config.dilations)}), residual {config.residual_channels}, "
          f"gate {config.gate_channels}, skip {config.skip_channels}, "
          f"output {config.output_channels}, {model.num_parameters()} parameters")
    print(f"receptive field: {config.receptive_field} samples "
          f"({1000 * config.receptive_field / config.sample_rate:.0f} ms); conditioning "
          f"{config.cond_channels}-dim frames every {config.hop_length} samples, "
          f"{config.num_speakers} speakers; weights {args.weights}")
    print(f"cpu: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"threads {args.threads}")

    start = time.perf_counter()
    generator.generate([f[:2] for f in features[:2]], speakers[:2] if speakers else None, threads=2)
    print(f"warm-up (compile or load cached loop): {time.perf_counter() - start:.1f} s")

    def timed(batch: int, threads: int) -> float:
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            generator.generate(features[:batch], speakers[:batch] if speakers else None,
                               seed=1, threads=threads)
            best = min(best, time.perf_counter() - start)
        return best

    # One utterance runs in this thread: its CPU time excludes waiting for a shared machine.
    cpu_start = time.thread_time()
    single = timed(1, 1)
    single_cpu = (time.thread_time() - cpu_start) / args.repeats
    rtf = single / seconds
    if args.batch > 1:
        batched = timed(args.batch, args.threads)
        speedup = (args.batch * seconds / batched) / (seconds / single)
        print(f"batch {args.batch} on {args.threads} thread(s): {batched:.2f} s for "
              f"{args.batch} x {seconds:.2f} s of audio, {args.batch * seconds / batched:.2f} "
              f"audio-s per s, {speedup:.2f}x the throughput of one utterance")
    print(f"batch 1: {single:.2f} s wall ({single_cpu:.2f} s cpu, rtf by cpu "
          f"{single_cpu / seconds:.3f}) for {seconds:.2f} s of audio")
    print(f"rtf {rtf:.3f}")


if __name__ == "__main__":
    main()
