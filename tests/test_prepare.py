"""The VCTK preparation recipe, end to end on the tiny flite demo corpus (tests/conftest.py)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from frontend.audio import HOP_LENGTH, SAMPLE_RATE
from frontend.conditioning import (
    LOG_F0_COLUMN, VOICED_COLUMN, conditioning_channels, wavenet_conditioning,
)
from frontend.features import (
    FRAME_FEATURE_DIM, PHONEME_FEATURE_DIM, Utterance, frame_features, text_to_utterance,
)
from recipes.vctk.prepare import (
    PrepareConfig, PrepareError, assign_splits, check_english, parse_speaker_info, prepare,
    reannotate_pauses, split_counts,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recipes.vctk.prepare", *args, "--no-progress"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------------------------------------
# The prepared tiny corpus


def test_manifest_lists_every_utterance_with_consistent_files(tiny_prepared: Path) -> None:
    rows = read_jsonl(tiny_prepared / "manifest.jsonl")
    assert [r["utt_id"] for r in rows] == [f"p{s}_00{i}" for s in (225, 226) for i in (1, 2, 3)]
    speakers = json.loads((tiny_prepared / "speakers.json").read_text())["speakers"]
    assert [(s["id"], s["index"], s["gender"]) for s in speakers] == [("p225", 0, "F"),
                                                                       ("p226", 1, "M")]
    assert speakers[0]["source"].startswith("flite -voice slt")
    assert read_jsonl(tiny_prepared / "skipped.jsonl") == []
    for row in rows:
        assert row["speaker_index"] == {"p225": 0, "p226": 1}[row["speaker"]]
        wav_info = sf.info(str(tiny_prepared / row["wav"]))
        assert (wav_info.samplerate, wav_info.channels, wav_info.subtype) == (16000, 1, "PCM_16")
        n, t = row["num_samples"], row["num_frames"]
        assert wav_info.frames == n
        assert t == math.ceil(n / HOP_LENGTH)
        assert row["duration_s"] == pytest.approx(n / SAMPLE_RATE, abs=1e-3)
        # flite's sentences last 3-7 s; trimming may only shorten them a little.
        assert 2.0 < row["duration_s"] < 7.0

        record = json.loads((tiny_prepared / row["align"]).read_text())
        durations = np.array(record["durations"])
        assert durations.sum() == t
        assert (durations >= 1).all()
        phonemes = record["phonemes"]
        assert phonemes == record["utterance"]["phonemes"]
        assert phonemes[0] == phonemes[-1] == "sil"
        assert "sil" not in phonemes[1:-1]
        assert Utterance.from_dict(record["utterance"]).phonemes == phonemes

        phone_feats = load(tiny_prepared / row["phone_feats"])
        assert phone_feats.shape == (len(phonemes), PHONEME_FEATURE_DIM)
        assert phone_feats.dtype == np.float32
        f0 = load(tiny_prepared / row["f0"])
        assert f0.shape == (t, 2) and f0.dtype == np.float32
        assert set(np.unique(f0[:, 1])) <= {0.0, 1.0}
        assert (f0[f0[:, 1] == 0, 0] == 0).all() and (f0[f0[:, 1] == 1, 0] > 0).all()
        cond = load(tiny_prepared / row["cond"])
        assert cond.shape == (t, conditioning_channels()) and cond.dtype == np.float32
        np.testing.assert_array_equal(cond[:, :FRAME_FEATURE_DIM],
                                      frame_features(phone_feats, durations))
        np.testing.assert_array_equal(cond[:, VOICED_COLUMN], f0[:, 1])
        assert np.isfinite(cond).all()


def test_splits_are_per_speaker_and_cover_train_valid_test(tiny_prepared: Path) -> None:
    rows = read_jsonl(tiny_prepared / "manifest.jsonl")
    for speaker in ("p225", "p226"):
        splits = sorted(r["split"] for r in rows if r["speaker"] == speaker)
        assert splits == ["test", "train", "valid"]  # 3 utterances: one of each


def test_alignment_puts_silences_where_the_audio_is_quiet(tiny_prepared: Path) -> None:
    quiet_energy, speech_energy = [], []
    for row in read_jsonl(tiny_prepared / "manifest.jsonl"):
        audio, _ = sf.read(tiny_prepared / row["wav"], dtype="float32")
        audio = np.pad(audio, (0, row["num_frames"] * HOP_LENGTH - len(audio)))
        frame_energy = (audio.reshape(-1, HOP_LENGTH) ** 2).mean(1)  # (T,)
        record = json.loads((tiny_prepared / row["align"]).read_text())
        labels = np.repeat(record["phonemes"], record["durations"])  # (T,)
        is_silence = np.isin(labels, ["sil", "sp"])
        quiet_energy.append(frame_energy[is_silence].mean())
        speech_energy.append(frame_energy[~is_silence].mean())
        # Speech phonemes of flite's voices last 30-200 ms on average.
        speech_frames = [d for p, d in zip(record["phonemes"], record["durations"])
                         if p not in ("sil", "sp")]
        assert 6 <= np.mean(speech_frames) <= 40
    assert np.mean(quiet_energy) < 0.1 * np.mean(speech_energy)


def test_f0_is_plausible_for_each_voice(tiny_prepared: Path) -> None:
    rows = read_jsonl(tiny_prepared / "manifest.jsonl")
    mean_f0 = {}
    for speaker in ("p225", "p226"):
        voiced_f0 = np.concatenate([
            (f0 := load(tiny_prepared / r["f0"]))[f0[:, 1] > 0, 0]
            for r in rows if r["speaker"] == speaker])
        frames = sum(r["num_frames"] for r in rows if r["speaker"] == speaker)
        assert 0.3 < len(voiced_f0) / frames < 0.9  # speech is voiced much, never all the time
        assert 70 < np.median(voiced_f0) < 400
        mean_f0[speaker] = float(np.exp(np.log(voiced_f0).mean()))
    # p225 is slt asked for 175 Hz, p226 awb asked for 125 Hz.
    assert mean_f0["p225"] > mean_f0["p226"] * 1.15
    assert 140 < mean_f0["p225"] < 220 and 95 < mean_f0["p226"] < 160


def test_stats_describe_the_training_split(tiny_prepared: Path) -> None:
    stats = json.loads((tiny_prepared / "stats.json").read_text())
    rows = read_jsonl(tiny_prepared / "manifest.jsonl")
    assert stats["hop_length"] == HOP_LENGTH and stats["sample_rate"] == SAMPLE_RATE
    assert stats["cond_channels"] == conditioning_channels() == FRAME_FEATURE_DIM + 2
    assert stats["num_utterances"] == len(rows)
    assert stats["hours"] == pytest.approx(sum(r["num_samples"] for r in rows) / 16000 / 3600,
                                           rel=1e-4)
    train = [r for r in rows if r["split"] == "train"]
    log_f0 = np.concatenate([np.log((f0 := load(tiny_prepared / r["f0"]))[f0[:, 1] > 0, 0])
                             for r in train])
    assert stats["log_f0"]["mean"] == pytest.approx(log_f0.mean(), abs=1e-4)
    assert stats["log_f0"]["std"] == pytest.approx(log_f0.std(), abs=1e-4)
    log_dur = np.concatenate([np.log1p(json.loads((tiny_prepared / r["align"]).read_text())
                                       ["durations"]) for r in train])
    assert stats["log_duration"]["mean"] == pytest.approx(log_dur.mean(), abs=1e-4)
    for key in ("log_f0", "log_duration"):
        assert set(stats[key]["per_speaker"]) == {"p225", "p226"}
    assert (stats["log_f0"]["per_speaker"]["p225"]["mean"]
            > stats["log_f0"]["per_speaker"]["p226"]["mean"])
    assert (len(stats["phone_feats"]["mean"]) == len(stats["phone_feats"]["std"])
            == PHONEME_FEATURE_DIM)
    assert min(stats["phone_feats"]["std"]) > 0
    # The conditioning's log-F0 column is normalized with the global statistics.
    row = train[0]
    f0, cond = load(tiny_prepared / row["f0"]), load(tiny_prepared / row["cond"])
    voiced = f0[:, 1] > 0
    expected = (np.log(f0[voiced, 0]) - stats["log_f0"]["mean"]) / stats["log_f0"]["std"]
    np.testing.assert_allclose(cond[voiced, LOG_F0_COLUMN], expected, atol=1e-3)


def test_rerun_changes_nothing(tiny_prepared: Path, tiny_corpus: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in tiny_prepared.rglob("*") if p.is_file()}
    summary = prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=tiny_prepared, jobs=1,
                                    progress=False))
    after = {p: p.stat().st_mtime_ns for p in tiny_prepared.rglob("*") if p.is_file()}
    assert summary["manifest_rows"] == 6
    assert after == before


# ---------------------------------------------------------------------------------------------
# Bad input, resuming, the other layout, the command line


def _copy_corpus(tiny_corpus: Path, destination: Path) -> Path:
    shutil.copytree(tiny_corpus, destination)
    return destination


def test_bad_files_are_skipped_and_reported(tiny_corpus: Path, tiny_prepared: Path,
                                            tmp_path: Path) -> None:
    corpus = _copy_corpus(tiny_corpus, tmp_path / "vctk")
    audio_dir, text_dir = corpus / "wav48_silence_trimmed", corpus / "txt"
    # A corrupt FLAC (its second half cut off) and one that is garbage from the start.
    flac = audio_dir / "p225" / "p225_002_mic1.flac"
    flac.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    (audio_dir / "p226" / "p226_002_mic1.flac").write_bytes(b"fLaC" + bytes(range(256)) * 8)
    # A transcript without audio, and a recording without transcript.
    (text_dir / "p225" / "p225_009.txt").write_text("A sentence nobody recorded.\n")
    shutil.copy(audio_dir / "p225" / "p225_001_mic1.flac",
                audio_dir / "p225" / "p225_010_mic1.flac")
    # Empty, foreign and mismatched transcripts for real audio.
    for utt_id, text in (("p225_011", "  \n"), ("p225_012", "Съешь же ещё этих мягких булок."),
                         ("p225_013", "Ich habe keine Zeit für euch heute Abend gehabt."),
                         ("p225_014", " ".join(["extraordinarily complicated"] * 40) + ".")):
        shutil.copy(audio_dir / "p225" / "p225_001_mic1.flac",
                    audio_dir / "p225" / f"{utt_id}_mic1.flac")
        (text_dir / "p225" / f"{utt_id}.txt").write_text(text)
    # Stereo, 8-bit, 44.1 kHz: usable, so prepared.
    audio, sr = sf.read(audio_dir / "p226" / "p226_003_mic1.flac")
    import soxr
    stereo = np.stack([audio, audio], 1)
    sf.write(audio_dir / "p226" / "p226_003_mic1.flac", soxr.resample(stereo, sr, 44100),
             44100, format="FLAC", subtype="PCM_S8")
    # A speaker without transcripts, like VCTK's p315.
    shutil.copytree(audio_dir / "p226", audio_dir / "p315")

    # Starting from the prepared corpus: only what changed is redone, the rest is kept.
    prep = tmp_path / "prep"
    shutil.copytree(tiny_prepared, prep)
    kept = (prep / "f0" / "p225" / "p225_001.npy").stat().st_mtime_ns
    prepare(PrepareConfig(corpus_dir=corpus, prep_dir=prep, progress=False))
    assert (prep / "f0" / "p225" / "p225_001.npy").stat().st_mtime_ns == kept
    skipped = {(r["utt_id"], r["stage"]): r["reason"] for r in read_jsonl(prep / "skipped.jsonl")}
    assert set(skipped) == {
        ("p315", "scan"), ("p225_009", "scan"), ("p225_010", "scan"),
        ("p225_002", "audio"), ("p226_002", "audio"),
        ("p225_011", "align"), ("p225_012", "align"), ("p225_013", "align"),
        ("p225_014", "align"),
    }, skipped
    assert "no transcripts" in skipped[("p315", "scan")]
    assert "transcript without audio" in skipped[("p225_009", "scan")]
    assert "without transcript" in skipped[("p225_010", "scan")]
    assert ("truncated" in skipped[("p225_002", "audio")]
            or "corrupt" in skipped[("p225_002", "audio")])
    assert "empty" in skipped[("p225_011", "align")]
    assert "not English" in skipped[("p225_012", "align")]
    assert "another language" in skipped[("p225_013", "align")]
    assert "fit" in skipped[("p225_014", "align")] or "short" in skipped[("p225_014", "align")]
    rows = read_jsonl(prep / "manifest.jsonl")
    assert sorted(r["utt_id"] for r in rows) == ["p225_001", "p225_003", "p226_001", "p226_003"]
    converted = sf.info(str(prep / "wav" / "p226" / "p226_003.wav"))
    assert (converted.samplerate, converted.channels) == (16000, 1)

    # A changed recording is not represented by its old outputs: they went with the failure.
    assert not (prep / "wav" / "p225" / "p225_002.wav").exists()
    # Repairing a file and rerunning prepares it, keeps everything else, and clears its report.
    shutil.copy(tiny_corpus / "wav48_silence_trimmed" / "p225" / "p225_002_mic1.flac", flac)
    prepare(PrepareConfig(corpus_dir=corpus, prep_dir=prep, progress=False))
    assert (prep / "f0" / "p225" / "p225_001.npy").stat().st_mtime_ns == kept
    assert "p225_002" in {r["utt_id"] for r in read_jsonl(prep / "manifest.jsonl")}
    assert ("p225_002", "audio") not in {(r["utt_id"], r["stage"])
                                         for r in read_jsonl(prep / "skipped.jsonl")}


def test_stages_run_alone_and_an_interrupted_run_resumes(tiny_corpus: Path, tmp_path: Path) -> None:
    prep = tmp_path / "prep"
    config = dict(corpus_dir=tiny_corpus, prep_dir=prep, f0_method="dio", progress=False,
                  speakers=("p226",), max_per_speaker=2)
    prepare(PrepareConfig(**config, stop_stage=2))
    assert sorted(p.name for p in (prep / "align" / "p226").iterdir()) == ["p226_001.json",
                                                                          "p226_002.json"]
    assert not (prep / "f0").exists() and not (prep / "manifest.jsonl").exists()
    # What a run killed while writing leaves behind: a temporary file, never a half file.
    (prep / "f0" / "p226").mkdir(parents=True)
    leftover = prep / "f0" / "p226" / ".p226_001.npy.k3j2.tmp"
    leftover.write_bytes(b"\x93NUMPY half")
    prepare(PrepareConfig(**config, stage=3))
    assert not leftover.exists()
    assert (prep / "f0" / "method.txt").read_text().strip() == "dio+two-pass"
    rows = read_jsonl(prep / "manifest.jsonl")
    assert [r["utt_id"] for r in rows] == ["p226_001", "p226_002"]
    assert all(r["split"] == "train" for r in rows)  # 2 utterances: nothing to hold out
    # A deleted output is rebuilt, and only it.
    (prep / "cond" / "p226" / "p226_002.npy").unlink()
    kept = (prep / "cond" / "p226" / "p226_001.npy").stat().st_mtime_ns
    prepare(PrepareConfig(**config, stage=5))
    assert (prep / "cond" / "p226" / "p226_002.npy").exists()
    assert (prep / "cond" / "p226" / "p226_001.npy").stat().st_mtime_ns == kept


def test_vctk_080_layout_prepares_through_the_command_line(tiny_corpus: Path,
                                                           tmp_path: Path) -> None:
    corpus = tmp_path / "VCTK-Corpus" / "VCTK-Corpus"  # 0.80 unpacks into its own directory
    shutil.copytree(tiny_corpus / "txt", corpus / "txt")
    for flac in sorted((tiny_corpus / "wav48_silence_trimmed").glob("*/*_001_mic1.flac")):
        audio, sr = sf.read(flac, dtype="int16")
        target = corpus / "wav48" / flac.parent.name / flac.name.replace("_mic1.flac", ".wav")
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(target, audio, sr, subtype="PCM_16")
    # 0.80's speaker-info.txt lists "225", not "p225".
    lines = (tiny_corpus / "speaker-info.txt").read_text().splitlines()
    (corpus / "speaker-info.txt").write_text("\n".join(
        [lines[0]] + [line[1:].split("SOURCE=")[0] for line in lines[1:]]) + "\n")
    prep = tmp_path / "prep"
    result = run_cli(str(tmp_path / "VCTK-Corpus"), str(prep), "--f0-method", "dio",
                     "--jobs", "2", "--valid", "0", "--test", "0")
    # Transcripts 002 and 003 have no audio in this copy: reported, not fatal.
    assert len(read_jsonl(prep / "skipped.jsonl")) == 4
    assert result.returncode == 0, result.stderr
    assert "0.80" in result.stderr
    rows = read_jsonl(prep / "manifest.jsonl")
    assert [r["utt_id"] for r in rows] == ["p225_001", "p226_001"]
    assert {r["split"] for r in rows} == {"train"}
    speakers = json.loads((prep / "speakers.json").read_text())["speakers"]
    assert [(s["id"], s["gender"], s["source"]) for s in speakers] == [("p225", "F", ""),
                                                                       ("p226", "M", "")]


@pytest.mark.parametrize("case", ["missing corpus", "no speaker-info", "no audio dir",
                                  "unknown speaker"])
def test_unusable_corpus_fails_with_one_clear_line(case: str, tiny_corpus: Path,
                                                   tmp_path: Path) -> None:
    extra: list[str] = []
    if case == "missing corpus":
        corpus, expected = tmp_path / "nowhere", "corpus directory not found"
    else:
        corpus = _copy_corpus(tiny_corpus, tmp_path / "vctk")
        if case == "no speaker-info":
            (corpus / "speaker-info.txt").unlink()
            expected = "speaker-info.txt not found"
        elif case == "no audio dir":
            shutil.rmtree(corpus / "wav48_silence_trimmed")
            expected = "no audio in"
        else:
            extra, expected = ["--speakers", "p999"], "p999"
    result = run_cli(str(corpus), str(tmp_path / "prep"), *extra)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("prepare: error:"), result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_a_second_run_into_the_same_directory_is_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    import fcntl

    prep = tmp_path / "prep"
    prep.mkdir()
    with open(prep / ".prepare.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running prepare holds it
        with pytest.raises(PrepareError, match="another prepare run"):
            prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=prep, progress=False))
    assert sorted(p.name for p in prep.iterdir()) == [".prepare.lock"]


# ---------------------------------------------------------------------------------------------
# Pieces


def test_speaker_info_of_both_releases(tmp_path: Path) -> None:
    path = tmp_path / "speaker-info.txt"
    path.write_text(
        "ID  AGE  GENDER  ACCENTS  REGION COMMENTS \n"
        "p225  23  F    English    Southern  England\n"
        "p280  25  F    France    Paris   (mic2 files unavailable)\n"
        "315  23  M    American    Connecticut  (Text missing)\n"
        "p999  22  M    American    Synthetic  SOURCE=flite -voice rms --setf x=1\n"
    )
    info = parse_speaker_info(path)
    assert list(info) == ["p225", "p280", "p315", "p999"]
    assert (info["p225"].gender, info["p225"].region) == ("F", "Southern England")
    assert (info["p280"].region, info["p280"].comment) == ("Paris", "(mic2 files unavailable)")
    assert info["p315"].accent == "American"
    assert info["p999"].source == "flite -voice rms --setf x=1"


def test_split_counts_and_assignment() -> None:
    assert split_counts(100, 0.05, 0.05) == (5, 5)
    assert split_counts(3, 0.05, 0.05) == (1, 1)  # at least one of each from 3 utterances
    assert split_counts(2, 0.05, 0.05) == (0, 0)
    assert split_counts(10, 2, 3) == (2, 3)  # counts
    assert split_counts(4, 2, 2) == (2, 1)  # one always left to train on
    utts = {"p1": [f"p1_{i:03d}" for i in range(40)], "p2": [f"p2_{i:03d}" for i in range(40)]}
    config = PrepareConfig(corpus_dir=Path("."), prep_dir=Path("."), valid=0.1, test=0.1)
    first = assign_splits(utts, config)
    assert first == assign_splits(utts, config)
    for speaker in utts:
        values = [first[u] for u in utts[speaker]]
        assert (values.count("valid"), values.count("test"), values.count("train")) == (4, 4, 32)
    other = assign_splits(utts, PrepareConfig(corpus_dir=Path("."), prep_dir=Path("."),
                                              valid=0.1, test=0.1, seed=1))
    assert other != first


def test_pauses_follow_the_audio() -> None:
    utt = text_to_utterance("Yes, we went home today.")
    words = utt.word_phonemes()
    speech = [p for w in words for p in w]
    assert utt.phonemes.count("sp") == 1
    # The speaker ran over the comma but paused before "today".
    labels = ["sil", *words[0], *words[1], *words[2], *words[3], "sp", *words[4], "sil"]
    new = reannotate_pauses(utt, labels)
    assert new.phonemes == labels
    assert [p for p in new.phonemes if p not in ("sil", "sp")] == speech
    assert new.phrase_count == utt.phrase_count
    pause = new.phonemes.index("sp")
    assert new.word_index[pause] == -1
    assert new.phrase_index[pause] == new.phrase_index[pause - 1] == 1
    # Word rows are unchanged, phrase structure included.
    assert new.phrase_index[1] == 0 and new.phrase_index[-2] == 1
    with pytest.raises(ValueError):
        reannotate_pauses(utt, ["sil", *speech[:-1], "sil"])


def test_english_check() -> None:
    assert check_english("Please call Stella.", 0.5) is None
    assert check_english("The café on Rue Fontaine, O'Neill's.", 0.5) is None
    assert "not English" in check_english("東京は晴れです", 0.5)
    assert "another language" in check_english("Der Hund schläft unter dem Tisch heute.", 0.5)


def test_wavenet_conditioning_columns() -> None:
    frame_feats = np.random.default_rng(0).normal(size=(6, FRAME_FEATURE_DIM)).astype(np.float32)
    f0 = np.array([0, 100, 0, 0, 400, 0], np.float32)
    voiced = (f0 > 0).astype(np.float32)
    mean, std = float(np.log(200)), 0.5
    cond = wavenet_conditioning(frame_feats, f0, voiced, mean, std)
    assert cond.shape == (6, conditioning_channels()) and cond.dtype == np.float32
    np.testing.assert_array_equal(cond[:, :FRAME_FEATURE_DIM], frame_feats)
    np.testing.assert_array_equal(cond[:, VOICED_COLUMN], voiced)
    log_f0 = np.log([100, 100, 100 * 2 ** (2 / 3), 100 * 2 ** (4 / 3), 400, 400])
    np.testing.assert_allclose(cond[:, LOG_F0_COLUMN], (log_f0 - mean) / std, atol=1e-5)
    unvoiced = wavenet_conditioning(frame_feats, np.zeros(6), np.zeros(6), mean, std)
    assert (unvoiced[:, LOG_F0_COLUMN] == 0).all() and (unvoiced[:, VOICED_COLUMN] == 0).all()
    with pytest.raises(ValueError, match="one value per frame"):
        wavenet_conditioning(frame_feats, f0[:5], voiced[:5], mean, std)
    with pytest.raises(ValueError, match="std"):
        wavenet_conditioning(frame_feats, f0, voiced, mean, 0.0)
