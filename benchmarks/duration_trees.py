"""An experiment: gradient-boosted trees in place of the duration network, on the same rows.

flite's own duration models are trees over features of the phone, its syllable and word. If
the network's gap on unseen sentences came from its kind of model, a tree ensemble on the
same per-phoneme rows (``frontend.prosody_features.prosody_phone_features``, plus the speaker)
should generalize the way the teacher does. This fits scikit-learn's
``HistGradientBoostingRegressor`` on a prepared corpus's training split(s), then reports the
valid split and the Harvard sentences
against fresh teacher renderings, as ``benchmarks/prosody_vs_teacher.py`` pairs them. Not part
of the package: scikit-learn comes with librosa, and is only needed here.

    python benchmarks/duration_trees.py --prep data/demo/prep --prep data/demo/prep_varied
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from frontend.features import Frontend  # noqa: E402
from frontend.prosody_features import FEATURE_SETS, prosody_phone_features  # noqa: E402
from frontend.phonemes import split_stress  # noqa: E402
from frontend.prosody_train import load_training_set, with_feature_set  # noqa: E402
from prosody_vs_teacher import PhoneProsody, pair_phones, teacher_prosody  # noqa: E402
from recipes.demo.sentences import HARVARD_SENTENCES  # noqa: E402

FRAME_MS = 5.0
OFFSET_MS = 2.5  # log(ms + offset): a 0-frame phoneme stays finite


def rows(examples, num_speakers: int) -> tuple[np.ndarray, np.ndarray]:
    """Speech phonemes' rows with the speaker one-hot appended, and their log durations."""
    features, targets = [], []
    for u in examples:
        speech = ~u.pauses
        speaker = np.zeros((int(speech.sum()), num_speakers), np.float32)
        speaker[:, u.speaker_index] = 1.0
        features.append(np.concatenate([u.phone_feats[speech], speaker], 1))
        targets.append(np.log(u.durations[speech] * FRAME_MS + OFFSET_MS))
    return np.concatenate(features), np.concatenate(targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prep", action="append", required=True,
                        help="prepared corpus; repeat for more training splits (valid: the first)")
    parser.add_argument("--feature-set", default="phoneme+intonation", choices=tuple(FEATURE_SETS))
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--count", type=int, default=20, help="Harvard sentences per speaker")
    args = parser.parse_args(argv)
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:
        print("duration_trees: error: needs scikit-learn (pip install scikit-learn)",
              file=sys.stderr)
        return 1
    speakers, train_set, valid_set = load_training_set(args.prep[0], args.prep[1:])
    train_x, train_y = rows(with_feature_set(train_set, args.feature_set), len(speakers))
    started = time.perf_counter()
    model = HistGradientBoostingRegressor(max_iter=args.iterations, learning_rate=0.1,
                                          max_leaf_nodes=63, min_samples_leaf=20,
                                          early_stopping=False, random_state=0)
    model.fit(train_x, train_y)
    print(f"{len(train_y)} training phonemes, {train_x.shape[1]} columns: fitted in "
          f"{time.perf_counter() - started:.0f} s")
    valid_x, valid_y = rows(with_feature_set(valid_set, args.feature_set), len(speakers))
    error = np.exp(model.predict(valid_x)) - np.exp(valid_y)
    print(f"valid split: {np.sqrt(np.mean(error ** 2)):.2f} ms")

    frontend = Frontend()
    info = json.loads((Path(args.prep[0]) / "speakers.json").read_text())["speakers"]
    worst = 0.0
    for index, speaker in enumerate(info):
        flite_args = shlex.split(speaker["source"])[1:]
        errors = []
        for text in HARVARD_SENTENCES[:args.count]:
            utt = next(iter(frontend.utterances(text)))
            feats = prosody_phone_features(utt, args.feature_set)  # (N, D)
            one_hot = np.zeros((len(feats), len(speakers)), np.float32)
            one_hot[:, index] = 1.0
            ms = np.exp(model.predict(np.concatenate([feats, one_hot], 1))) - OFFSET_MS
            ours = [PhoneProsody(split_stress(p)[0], float(d), 0.0)
                    for p, d in zip(utt.phonemes, ms)]
            errors += [p.duration_ms - t.duration_ms
                       for p, t in pair_phones(ours, teacher_prosody(text, flite_args, 16000, 80))]
        errors_ms = np.array(errors)
        rmse = float(np.sqrt(np.mean(errors_ms ** 2)))
        worst = max(worst, rmse)
        print(f"{speaker['id']}: Harvard {rmse:.1f} ms (bias {errors_ms.mean():+.1f})")
    print(f"Harvard worst speaker: {worst:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
