"""The prepared-corpus contract (issue 15 item 1): one description, one writer, one reader."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tts_common import corpus
from tts_common.corpus import CorpusError, read_corpus, write_corpus_index


def test_what_preparation_writes_reads_back(tiny_prepared):
    prepared = read_corpus(tiny_prepared, fields=corpus.MANIFEST_FIELDS)
    assert prepared.speaker_ids == ["p225", "p226"]
    assert {e["split"] for e in prepared.manifest} <= set(corpus.SPLITS)
    entry = prepared.entries("train")[0]
    for kind in corpus.OUTPUT_KINDS:
        assert prepared.path(entry, kind) == corpus.output_path(
            tiny_prepared, kind, entry["speaker"], entry["utt_id"])
        assert prepared.path(entry, kind).is_file()
    cond = prepared.load(entry, "cond")
    assert cond.shape == (entry["num_frames"], prepared.stats["cond_channels"])
    align = prepared.load(entry, "align")
    assert sum(align["durations"]) == entry["num_frames"]
    mean, std = prepared.log_f0_normalization()
    assert 4.0 < mean < 6.5 and 0 < std < 1


def test_the_writer_leaves_unchanged_files_alone_and_writes_the_manifest_last(tiny_prepared,
                                                                              tmp_path):
    prep = tmp_path / "prep"
    shutil.copytree(tiny_prepared, prep)
    prepared = read_corpus(prep)
    stamps = {name: (prep / name).stat().st_mtime_ns
              for name in (corpus.STATS_NAME, corpus.SPEAKERS_NAME, corpus.MANIFEST_NAME)}
    write_corpus_index(prep, prepared.stats, prepared.speakers, prepared.manifest)
    assert {name: (prep / name).stat().st_mtime_ns for name in stamps} == stamps
    rows = prepared.manifest[:2]
    write_corpus_index(prep, prepared.stats, prepared.speakers, rows)
    assert read_corpus(prep).manifest == rows
    assert (prep / corpus.MANIFEST_NAME).stat().st_mtime_ns >= (
        prep / corpus.STATS_NAME).stat().st_mtime_ns


@pytest.mark.parametrize("name, content, message", [
    ("stats.json", None, "stats.json not found"),
    ("stats.json", "{", "stats.json is not valid JSON"),
    ("stats.json", json.dumps({"sample_rate": 16000, "hop_length": 0, "cond_channels": 3}),
     "'hop_length' must be a positive integer"),
    ("speakers.json", json.dumps({"speakers": [{"id": "a", "index": 1}]}),
     "speaker indices must be 0..0"),
    ("manifest.jsonl", None, "manifest.jsonl not found"),
    ("manifest.jsonl", '{"utt_id": "x"}\n', "missing field(s) speaker_index, split, num_frames"),
    ("manifest.jsonl", json.dumps({"utt_id": "x", "speaker_index": 0, "split": "dev",
                                   "num_frames": 3}) + "\n", "split must be one of"),
])
def test_a_broken_corpus_is_one_clear_error_of_the_callers_kind(tiny_prepared, tmp_path, name,
                                                                content, message):
    class TrainerError(ValueError):
        pass

    prep = tmp_path / "prep"
    shutil.copytree(tiny_prepared, prep)
    if content is None:
        (prep / name).unlink()
    else:
        (prep / name).write_text(content)
    with pytest.raises(CorpusError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_corpus(prep)
    with pytest.raises(TrainerError) as caught:
        read_corpus(prep, TrainerError)
    assert name in str(caught.value) and "\n" not in str(caught.value)


def test_corpus_files_are_never_unpickled(tiny_prepared, tmp_path):
    prep = tmp_path / "prep"
    shutil.copytree(tiny_prepared, prep)
    prepared = read_corpus(prep)
    entry = prepared.manifest[0]
    np.save(prepared.path(entry, "cond"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        prepared.load(entry, "cond")


def test_one_normalization_rule_for_preparation_and_the_prosody_trainers(tiny_prepared):
    """stats.json's phoneme-feature statistics are what the duration trainer computes."""
    from frontend.prosody_train import feature_stats, load_split

    prepared = read_corpus(tiny_prepared)
    mean, std = feature_stats(u.phone_feats for u in load_split(tiny_prepared, "train"))
    np.testing.assert_allclose(prepared.stats["phone_feats"]["mean"], mean, atol=1e-6)
    np.testing.assert_allclose(prepared.stats["phone_feats"]["std"], std, atol=1e-6)
    binary = [i for i in range(len(mean)) if mean[i] == 0 and std[i] == 1]
    assert binary  # the one-hot columns are left as they are
