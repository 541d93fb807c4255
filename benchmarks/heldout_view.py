"""A small VCTK-layout view of a corpus's held-out utterances, for diagnostics of a trained voice.

``recipes.vctk.prepare`` holds out validation and test utterances per speaker by a seeded hash
(``assign_splits``). A slice prepared with ``--max-per-speaker`` splits its own few utterances
afresh, so its "test" utterances may be ones the voice trained on. This writes a view (symbolic
links, next to nothing on disk) of utterances that the full corpus's split holds out: the ranks
``--first`` to ``--first + --count - 1`` of each speaker, in the split's own order (ranks below
the validation and test counts are held out; 5% each of 580 is ranks 0-57). Prepare the view
as any corpus; every utterance in it, whatever split the small preparation gives it, is unseen
by a voice trained on the full corpus. ``--train`` links training utterances instead (ranks
counted after the held-out ones), e.g. to fit per-speaker envelope heads on.

    python benchmarks/heldout_view.py data/demo/vctk data/demo/vctk_diag \\
        --speakers p225,p227,p229,p232,p233 --first 30 --count 12
    python -m recipes.vctk.prepare data/demo/vctk_diag data/demo/prep_diag --valid 1 --test 10
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

from recipes.vctk.prepare import PrepareConfig, split_counts

PROG = "heldout_view"
AUDIO_DIR = "wav48_silence_trimmed"
MIC_SUFFIX = "_mic1.flac"


class ViewError(ValueError):
    """Unusable input; the message says what to change."""


def held_out_ranking(utt_ids: Sequence[str], seed: int) -> list[str]:
    """A speaker's utterances in the order ``recipes.vctk.prepare.assign_splits`` ranks them
    (the first ones are validation, then test; tests check the two agree)."""
    return sorted(utt_ids, key=lambda u: (zlib.crc32(f"{seed}/{u}".encode()), u))


def make_view(corpus: Path, out: Path, speakers: Sequence[str], first: int, count: int,
              seed: int = 0, train: bool = False) -> dict[str, list[str]]:
    """Link the chosen held-out utterances of ``corpus`` into ``out`` (``train``: training
    utterances instead, ranks counted from the first one after the held-out ones); returns
    them."""
    defaults = {f.name: f.default for f in dataclasses.fields(PrepareConfig)}
    info = corpus / "speaker-info.txt"
    if not info.is_file():
        raise ViewError(f"{info} is missing: {corpus} is not a corpus in the VCTK 0.92 layout")
    chosen: dict[str, list[str]] = {}
    for speaker in speakers:
        utt_ids = sorted(p.stem for p in (corpus / "txt" / speaker).glob("*.txt"))
        if not utt_ids:
            raise ViewError(f"{corpus / 'txt' / speaker} holds no transcripts: is {speaker} "
                            f"a speaker of {corpus}?")
        held_out = sum(split_counts(len(utt_ids), defaults["valid"], defaults["test"]))
        start, available = (held_out, len(utt_ids) - held_out) if train else (0, held_out)
        if first + count > available:
            raise ViewError(f"{speaker} has {available} {'training' if train else 'held-out'} "
                            f"utterances: ask for --first + --count <= {available}")
        chosen[speaker] = held_out_ranking(utt_ids, seed)[start + first:start + first + count]
    (out / "txt").mkdir(parents=True, exist_ok=True)
    target = out / "speaker-info.txt"
    if not target.exists():
        target.symlink_to(info.resolve())
    for speaker, utt_ids in chosen.items():
        for folder, suffix in (("txt", ".txt"), (AUDIO_DIR, MIC_SUFFIX)):
            (out / folder / speaker).mkdir(parents=True, exist_ok=True)
            for utt_id in utt_ids:
                link = out / folder / speaker / f"{utt_id}{suffix}"
                source = corpus / folder / speaker / f"{utt_id}{suffix}"
                if not source.is_file():
                    raise ViewError(f"{source} is missing: is the corpus fully rendered?")
                if not link.exists():
                    link.symlink_to(source.resolve())
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="the full corpus (data/demo/vctk)")
    parser.add_argument("out", type=Path, help="where the view goes")
    parser.add_argument("--speakers", required=True, help="comma-separated ids")
    parser.add_argument("--first", type=int, default=30,
                        help="first held-out rank to take (default 30: inside the test split)")
    parser.add_argument("--count", type=int, default=12, help="utterances per speaker")
    parser.add_argument("--seed", type=int, default=0, help="the split seed of the preparation")
    parser.add_argument("--train", action="store_true",
                        help="training utterances instead (to fit something on, e.g. "
                             "python -m tts.envelopes), ranks counted after the held-out ones")
    args = parser.parse_args(argv)
    if args.first < 0 or args.count < 1:
        parser.error("need --first >= 0 and --count >= 1")
    speakers = [s.strip() for s in args.speakers.split(",") if s.strip()]
    try:
        chosen = make_view(args.corpus, args.out, speakers, args.first, args.count, args.seed,
                           args.train)
    except (ViewError, OSError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    for speaker, utt_ids in chosen.items():
        print(f"{speaker}: {len(utt_ids)} {'training' if args.train else 'held-out'} "
              f"utterances, {' '.join(utt_ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
