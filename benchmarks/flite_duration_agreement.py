"""How close ``frontend.flite_durations`` comes to the phone durations flite itself renders.

For every held-out sentence (the 40 Harvard and 40 everyday sentences by default) and every
clustergen voice, ``flite -voice V -psdur`` gives flite's phone end times; the trees run on our
frontend's utterance of the same text. Sentences whose phones differ (our lexicon and flite's
disagree, e.g. "and" stressed in flite's) are counted and left out. Speech phones only: the
leading and trailing pauses are trimmed from every corpus recording anyway.

    python benchmarks/flite_duration_agreement.py
    python benchmarks/flite_duration_agreement.py --sentences harvard

Prints, per voice, the sentences compared, the RMSE in ms and the share of phones within
1.5 ms (flite prints milliseconds); the worst voice's RMSE last.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frontend.features import Frontend  # noqa: E402
from frontend.flite_durations import CLUSTERGEN_VOICES, flite_durations  # noqa: E402
from frontend.phonemes import SILENCES, split_stress  # noqa: E402
from recipes.demo.flite import render_with_phone_times  # noqa: E402
from recipes.demo.sentences import HARVARD_SENTENCES, HELDOUT_EVERYDAY  # noqa: E402


def phone_errors_ms(text: str, voice: str, frontend: Frontend) -> np.ndarray | None:
    """(speech phones,) ours − flite's in ms, or None when the phone sequences differ."""
    _, times = render_with_phone_times(text, ["-voice", voice])
    names = [name for name, _ in times]
    seconds = np.diff(np.concatenate([[0.0], [end for _, end in times]]))
    utt = next(iter(frontend.utterances(text)))
    ours = [p if p in SILENCES else split_stress(p)[0] for p in utt.phonemes]
    if ours != names:
        return None
    speech = np.array([name not in SILENCES for name in names])
    predicted = flite_durations(utt)[:, CLUSTERGEN_VOICES.index(voice)]
    return (predicted - seconds)[speech] * 1000.0


def held_out_texts(argv: list[str] | None, description: str) -> list[str]:
    """The sentences ``--sentences`` names (both sets by default)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sentences", choices=("both", "harvard", "everyday"), default="both")
    args = parser.parse_args(argv)
    return {"harvard": list(HARVARD_SENTENCES), "everyday": list(HELDOUT_EVERYDAY),
            "both": list(HARVARD_SENTENCES) + list(HELDOUT_EVERYDAY)}[args.sentences]


def voice_errors(errors_of, texts: list[str], frontend: Frontend
                 ) -> dict[str, tuple[int, np.ndarray]]:
    """voice → (sentences compared, every phone's error), ``errors_of(text, voice, frontend)``
    giving None for a sentence whose phones differ from flite's."""
    out = {}
    for voice in CLUSTERGEN_VOICES:
        errors = [e for e in (errors_of(t, voice, frontend) for t in texts) if e is not None]
        out[voice] = (len(errors), np.concatenate(errors))
    return out


def main(argv: list[str] | None = None) -> int:
    texts = held_out_texts(argv, __doc__.splitlines()[0])
    worst = 0.0
    print("voice  sentences compared  phones  RMSE ms  within 1.5 ms")
    for voice, (compared, joined) in voice_errors(phone_errors_ms, texts, Frontend()).items():
        rmse = float(np.sqrt(np.mean(joined ** 2)))
        worst = max(worst, rmse)
        print(f"{voice:5s}  {compared:3d} of {len(texts):3d}          {len(joined):6d}  "
              f"{rmse:7.2f}  {np.mean(np.abs(joined) < 1.5):.1%}")
    print(f"worst voice RMSE: {worst:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
