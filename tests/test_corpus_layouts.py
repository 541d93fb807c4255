"""Corpus layouts besides VCTK (recipes/corpora.py): LJSpeech and plain folders of NAME.wav +
NAME.txt, rendered with flite in the test, through the same preparation as VCTK."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from recipes.demo.flite import SAMPLE_RATE as FLITE_RATE
from recipes.demo.flite import render
from recipes.vctk.prepare import PrepareConfig, PrepareError, main, prepare, scan_corpus

SENTENCES = ("The quick brown fox jumps over the lazy dog.",
             "She sells sea shells by the sea shore.",
             "A cup of tea would be nice this afternoon.")
VOICE = "-voice slt --setf int_f0_target_mean=170".split()


@pytest.fixture(scope="module")
def renders() -> list[np.ndarray]:
    return [render(text, VOICE) for text in SENTENCES]  # (N,) float32 at 16 kHz each


def write_wav(path: Path, audio: np.ndarray, rate: int = FLITE_RATE, stereo: bool = False) -> None:
    if rate != FLITE_RATE:
        audio = soxr.resample(audio, FLITE_RATE, rate)
    if stereo:
        audio = np.stack([audio, 0.5 * audio], axis=1)  # (N, 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_ljspeech_layout_is_prepared_as_one_speaker(tmp_path: Path, renders) -> None:
    corpus = tmp_path / "LJSpeech-1.1"
    lines = []
    for i, (text, audio) in enumerate(zip(SENTENCES, renders)):
        write_wav(corpus / "wavs" / f"LJ001-{i:04d}.wav", audio, rate=22050)
        lines.append(f"LJ001-{i:04d}|{text.upper()}|{text}")
    lines.append("LJ001-0099|Listed, but never recorded.|Listed, but never recorded.")
    (corpus / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    prep = tmp_path / "prep"
    summary = prepare(PrepareConfig(corpus_dir=corpus, prep_dir=prep, progress=False,
                                    valid=0, test=0))
    assert summary["layout"] == "ljspeech"
    rows = read_jsonl(prep / "manifest.jsonl")
    assert sorted(r["utt_id"] for r in rows) == ["LJ001-0000", "LJ001-0001", "LJ001-0002"]
    assert {r["speaker"] for r in rows} == {"LJSpeech-1.1"}
    # The normalized column is what was aligned (the lower-case one here).
    assert sorted(r["text"] for r in rows) == sorted(SENTENCES)
    speakers = json.loads((prep / "speakers.json").read_text())["speakers"]
    assert [s["id"] for s in speakers] == ["LJSpeech-1.1"]
    skipped = read_jsonl(prep / "skipped.jsonl")
    assert [(s["utt_id"], s["stage"]) for s in skipped] == [("LJ001-0099", "scan")]
    assert "transcript without audio" in skipped[0]["reason"]


def test_folder_layout_skips_unusable_recordings_with_reasons(tmp_path: Path, renders) -> None:
    corpus = tmp_path / "my_voice"
    # Any rate, mono or stereo.
    write_wav(corpus / "a.wav", renders[0], rate=44100, stereo=True)
    write_wav(corpus / "b.wav", renders[1], rate=16000)
    (corpus / "a.txt").write_text(SENTENCES[0] + "\n")
    (corpus / "b.txt").write_text(SENTENCES[1] + "\n")
    write_wav(corpus / "silent.wav", np.zeros(16000, np.float32))
    (corpus / "silent.txt").write_text("Nothing was said here at all.\n")
    clipped = np.clip(renders[2] * 20.0, -1.0, 1.0)
    write_wav(corpus / "clipped.wav", clipped)
    (corpus / "clipped.txt").write_text(SENTENCES[2] + "\n")
    # A transcript far longer than what was said: the aligner cannot fit it.
    write_wav(corpus / "short.wav", renders[2][: FLITE_RATE // 2])
    (corpus / "short.txt").write_text(" ".join(SENTENCES * 4) + "\n")
    (corpus / "garbage.wav").write_bytes(b"RIFF this is not a wave file at all" * 10)
    (corpus / "garbage.txt").write_text("Not a recording.\n")
    write_wav(corpus / "orphan.wav", renders[0])
    (corpus / "lonely.txt").write_text("A transcript with no recording.\n")

    prep = tmp_path / "prep"
    summary = prepare(PrepareConfig(corpus_dir=corpus, prep_dir=prep, progress=False,
                                    valid=0, test=0))
    assert summary["layout"] == "folder"
    rows = read_jsonl(prep / "manifest.jsonl")
    assert sorted(r["utt_id"] for r in rows) == ["a", "b"]
    assert {r["speaker"] for r in rows} == {"my_voice"}
    reasons = {s["utt_id"]: s["reason"] for s in read_jsonl(prep / "skipped.jsonl")}
    assert set(reasons) == {"silent", "clipped", "short", "garbage", "orphan", "lonely"}
    assert "silent" in reasons["silent"]
    assert "clipped" in reasons["clipped"]
    assert "too short for" in reasons["short"]
    assert "cannot read audio file" in reasons["garbage"]
    assert "recording without transcript" in reasons["orphan"]
    assert "transcript without audio" in reasons["lonely"]


def test_folder_with_one_subfolder_per_speaker(tmp_path: Path, renders) -> None:
    corpus = tmp_path / "family"
    for speaker in ("anna", "ben"):
        for i in range(2):
            write_wav(corpus / speaker / f"{i:03d}.wav", renders[i])
            (corpus / speaker / f"{i:03d}.txt").write_text(SENTENCES[i])
    (corpus / "README.txt").write_text("not a speaker's folder: it holds no recordings")
    found = scan_corpus(PrepareConfig(corpus_dir=corpus, prep_dir=tmp_path / "prep"))
    assert found.layout == "folder"
    assert sorted(found.speakers) == ["anna", "ben"]
    # The same file names in two folders still give distinct utterance ids.
    assert sorted(i.utt_id for i in found.items) == ["anna_000", "anna_001", "ben_000", "ben_001"]
    only = scan_corpus(PrepareConfig(corpus_dir=corpus, prep_dir=tmp_path / "prep",
                                     speakers=("ben",)))
    assert {i.speaker for i in only.items} == {"ben"}


@pytest.mark.parametrize("files, expected", [
    ((), "no audio in"),
    (("one.txt", "two.txt"), "2 transcript(s) but no recordings"),
    (("one.wav",), "1 recording(s) but no transcripts"),
])
def test_bad_corpora_are_one_error_line(tmp_path: Path, capsys, renders, files, expected) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in files:
        if name.endswith(".wav"):
            write_wav(corpus / name, renders[0])
        else:
            (corpus / name).write_text("Some words.")
    with pytest.raises(PrepareError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        scan_corpus(PrepareConfig(corpus_dir=corpus, prep_dir=tmp_path / "prep"))
    assert main([str(corpus), str(tmp_path / "prep"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("prepare: error: ") and expected in err[0]


def test_ljspeech_metadata_that_is_not_ljspeech_is_one_error(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "lj"
    (corpus / "wavs").mkdir(parents=True)
    (corpus / "metadata.csv").write_text("just one column\n")
    assert main([str(corpus), str(tmp_path / "prep"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "metadata.csv:1 is not 'ID|text|normalized text'" in err[0]
