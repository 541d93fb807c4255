"""How close ``frontend.flite_f0`` comes to the F0 flite itself renders.

For every held-out sentence (the 40 Harvard and 40 everyday sentences by default) and every
clustergen voice, ``flite -voice V -psdur`` renders the sentence and prints its phone end
times; its F0 is measured on the audio with Praat in two passes, as the corpus preparation and
``benchmarks/prosody_vs_teacher.py`` measure it. The trees run on our frontend's utterance of
the same text. Sentences whose phones differ from flite's are counted and left out. Per phone
voiced in both, the mean F0 of its frames is compared:

    RMSE     cents, ours against flite's measured F0
    median   cents, of the absolute differences
    within   % of those phones within 50 cents (half a semitone)

slt and awb speak the trees' contour, rms its SPAM model. The tails are mostly the tracker's:
a few voiced frames it finds at the edge of an unvoiced consonant (f, t, sh) carry the
neighbouring vowel's pitch, and now and then an octave slip.

    python benchmarks/flite_f0_agreement.py
    python benchmarks/flite_f0_agreement.py --sentences harvard

The last line is the worst voice's RMSE.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.flite_duration_agreement import held_out_texts, voice_errors  # noqa: E402
from benchmarks.prosody_vs_teacher import teacher_prosody  # noqa: E402
from frontend.audio import HOP_LENGTH, SAMPLE_RATE  # noqa: E402
from frontend.features import Frontend  # noqa: E402
from frontend.flite_f0 import flite_f0_contour  # noqa: E402
from frontend.phonemes import SILENCES, split_stress  # noqa: E402

def phone_errors_cents(text: str, voice: str, frontend: Frontend) -> np.ndarray | None:
    """(phones voiced in both,) ours − flite's in cents, or None when the phones differ."""
    teacher = teacher_prosody(text, ["-voice", voice], SAMPLE_RATE, HOP_LENGTH)
    utt = next(iter(frontend.utterances(text)))
    ours = [p if p in SILENCES else split_stress(p)[0] for p in utt.phonemes]
    if ours != [phone.phone for phone in teacher]:
        return None
    contour = flite_f0_contour(utt, voice)
    errors = []
    for (first, last), phone in zip(contour.phone_frames, teacher):
        hz = contour.hz[first:last + 1]
        if phone.phone in SILENCES or phone.f0_hz <= 0 or not (hz > 0).any():
            continue
        errors.append(1200.0 * np.log2(hz[hz > 0].mean() / phone.f0_hz))
    return np.array(errors)


def main(argv: list[str] | None = None) -> int:
    texts = held_out_texts(argv, __doc__.splitlines()[0])
    worst = 0.0
    print("voice  sentences compared  phones  RMSE cents  median  within 50 cents")
    for voice, (compared, joined) in voice_errors(phone_errors_cents, texts, Frontend()).items():
        rmse = float(np.sqrt(np.mean(joined ** 2)))
        worst = max(worst, rmse)
        print(f"{voice:5s}  {compared:3d} of {len(texts):3d}          {len(joined):6d}  "
              f"{rmse:10.1f}  {np.median(np.abs(joined)):6.1f}  {np.mean(np.abs(joined) < 50):.1%}")
    print(f"worst voice: {worst:.1f} cents RMSE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
