"""Where in the sentence the recogniser loses words: the end of the sentence, or elsewhere.

Reads the ``--json`` file of ``benchmarks/intelligibility.py`` and, per speaker and per kind of
audio (the voice, its teacher at each of its tempos, teacher-prosody and teacher-timing
synthesis, copy synthesis and the recordings), pairs each reference transcript with the
recogniser's hypothesis (longest matching runs, as ``difflib`` finds them) and counts the
reference words left unmatched: among each sentence's last ``--last`` words, and among the
others. A voice that loses the ends of its sentences (a final consonant, a trailing syllable)
where its teacher does not shows up in the first column.

    python benchmarks/intelligibility.py --speakers p225,p232 --json results.json
    python benchmarks/word_positions.py results.json
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

PROG = "word_positions"
# (record kind, the record's transcription key) → the row label
SOURCES = ((("synth", "voice"), "voice"), (("synth", "teacher"), "teacher"),
           (("prosody", "voice"), "teacher-prosody voice"),
           (("timing", "voice"), "teacher-timing voice"), (("copy", "voice"), "copy synthesis"),
           (("copy", "recording"), "recording"))


def missed_words(reference: Sequence[str], hypothesis: Sequence[str]) -> list[bool]:
    """Per reference word: True where no hypothesis word is matched to it."""
    matcher = difflib.SequenceMatcher(None, list(reference), list(hypothesis), autojunk=False)
    matched = [False] * len(reference)
    for block in matcher.get_matching_blocks():
        for k in range(block.a, block.a + block.size):
            matched[k] = True
    return [not m for m in matched]


def count(results: dict, last: int) -> dict[tuple[str, str], list[int]]:
    """{(speaker, label): [missed last words, last words, missed others, others]}."""
    counts: dict[tuple[str, str], list[int]] = {}
    for record in results["results"]:
        reference = record["reference"].split()
        for (kind, key), label in SOURCES:
            if record["kind"] != kind or key not in record:
                continue
            row = counts.setdefault((record["speaker"], label), [0, 0, 0, 0])
            heard = record[key]  # a teacher at several tempos: each rendering's own hypothesis
            for hypothesis in [r["hypothesis"] for r in heard.get("renderings", [heard])]:
                for position, missed in enumerate(missed_words(reference, hypothesis.split())):
                    at_end = position >= len(reference) - last
                    row[0 if at_end else 2] += missed
                    row[1 if at_end else 3] += 1
    return counts


def format_table(counts: dict[tuple[str, str], list[int]], last: int) -> str:
    lines = [f"| speaker | audio | last {last} words missed % (words) | other words missed % "
             "(words) |", "|---|---|---|---|"]
    order = [label for _, label in SOURCES]
    for (speaker, label), (end_missed, end, other_missed, other) in sorted(
            counts.items(), key=lambda item: (order.index(item[0][1]), item[0][0])):
        lines.append(f"| {speaker} | {label} | {100.0 * end_missed / max(end, 1):.1f} ({end}) | "
                     f"{100.0 * other_missed / max(other, 1):.1f} ({other}) |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a --json file of benchmarks/intelligibility.py")
    parser.add_argument("--last", type=int, default=2,
                        help="how many words count as the end of a sentence (default 2)")
    args = parser.parse_args(argv)
    if args.last < 1:
        parser.error("--last must be >= 1")
    try:
        results = json.loads(args.results.read_text(encoding="utf-8"))
        counts = count(results, args.last)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"{PROG}: error: cannot read {args.results} as intelligibility.py --json output "
              f"({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    print(format_table(counts, args.last))
    return 0


if __name__ == "__main__":
    sys.exit(main())
