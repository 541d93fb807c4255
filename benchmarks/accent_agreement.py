"""How often ``frontend.intonation`` gives a syllable the accent, end tone and break level that
flite itself gives it.

The reference is flite's own prediction, one record per sentence, as
``tests/data/flite_accents.c`` prints it: by default ``tests/data/flite_accents.json`` (the 40
Harvard and 40 everyday held-out sentences). With ``--probe`` (that program, built as its
header says) the reference is made afresh for ``--texts``: a prepared corpus's manifest or a
text file, one sentence a line.

    python benchmarks/accent_agreement.py
    python benchmarks/accent_agreement.py --probe ./flite_accents \\
        --texts data/demo/prep_varied/manifest.jsonl --count 600
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frontend.features import Frontend  # noqa: E402
from frontend.intonation import syllables  # noqa: E402

DEFAULT_REFERENCE = ROOT / "tests" / "data" / "flite_accents.json"


def parse_probe_line(line: str) -> list[list[Any]]:
    """One line of the probe → [word, accent, end_tone, syl_break, stressed] per syllable."""
    tokens = line.split()
    out = []
    for name, levels in zip(tokens[::2], tokens[1::2]):
        word = name.split("[")[0].split("{")[0]
        accent = name[name.index("[") + 1:name.index("]")] if "[" in name else None
        tone = name[name.index("{") + 1:name.index("}")] if "{" in name else None
        out.append([word.lower(), accent, tone, levels[0], levels[1:] == "1"])
    return out


def probe(binary: str, texts: list[str]) -> list[dict[str, Any]]:
    lines = subprocess.run([binary, *texts], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    return [{"text": t, "syllables": parse_probe_line(line)} for t, line in zip(texts, lines)]


def agreement(records: list[dict[str, Any]], frontend: Frontend | None = None) -> Counter:
    """Counts over the syllables paired with flite's (longest common runs of their words)."""
    frontend = frontend or Frontend()
    counts: Counter = Counter()
    for record in records:
        theirs = record["syllables"]
        utt = next(iter(frontend.utterances(record["text"])))
        ours = syllables(utt)
        counts["flite"] += len(theirs)
        counts["ours"] += len(ours)
        matcher = difflib.SequenceMatcher(None, [utt.words[s.word].lower() for s in ours],
                                          [t[0] for t in theirs], autojunk=False)
        for block in matcher.get_matching_blocks():
            for syl, (_, accent, tone, level, stressed) in zip(
                    ours[block.a:block.a + block.size], theirs[block.b:block.b + block.size]):
                counts["paired"] += 1
                counts["accent"] += syl.accent == accent
                counts["accented"] += syl.accented == (accent is not None or tone is not None)
                counts["end_tone"] += syl.end_tone == tone
                counts["break_level"] += syl.break_level == level
                counts["stress"] += syl.stressed == stressed
    return counts


def read_texts(path: Path, count: int) -> list[str]:
    if path.suffix == ".jsonl":
        texts = [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    else:
        texts = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return texts[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                        help="flite's predictions as JSON (default: %(default)s)")
    parser.add_argument("--probe", help="the built tests/data/flite_accents.c: make the "
                                        "reference afresh for --texts")
    parser.add_argument("--texts", type=Path, help="with --probe: a manifest.jsonl or a text file")
    parser.add_argument("--count", type=int, default=1000, help="with --probe: sentences")
    args = parser.parse_args(argv)
    try:
        if args.probe:
            if args.texts is None:
                raise ValueError("--probe needs --texts (a manifest.jsonl or a text file)")
            records = probe(args.probe, read_texts(args.texts, args.count))
        else:
            records = json.loads(args.reference.read_text())["sentences"]
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as exc:
        print(f"accent_agreement: error: {exc}", file=sys.stderr)
        return 1
    counts = agreement(records)
    paired = max(counts["paired"], 1)
    print(f"{len(records)} sentences, {counts['paired']} syllables paired "
          f"(flite {counts['flite']}, ours {counts['ours']})")
    for key in ("accented", "end_tone", "break_level", "stress"):
        print(f"{key:12s} {100.0 * counts[key] / paired:5.1f}%")
    print(f"accent agreement with flite: {100.0 * counts['accent'] / paired:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
