"""benchmarks/heldout_view.py: a view of the utterances the corpus preparation holds out."""

from __future__ import annotations

import pytest

from benchmarks.heldout_view import ViewError, held_out_ranking, make_view
from recipes.vctk.prepare import PrepareConfig, assign_splits


def test_the_ranking_is_the_preparation_s_split():
    utt_ids = [f"p225_{k:03d}" for k in range(1, 201)]
    config = PrepareConfig(corpus_dir=".", prep_dir=".", seed=3)
    splits = assign_splits({"p225": utt_ids}, config)
    ranked = held_out_ranking(utt_ids, seed=3)
    assert [splits[u] for u in ranked[:20]] == ["valid"] * 10 + ["test"] * 10
    assert {splits[u] for u in ranked[20:]} == {"train"}


def test_a_view_links_only_held_out_utterances(tiny_corpus, tmp_path):
    chosen = make_view(tiny_corpus, tmp_path / "view", ["p225"], first=0, count=2)
    utt_ids = sorted(p.stem for p in (tiny_corpus / "txt" / "p225").glob("*.txt"))
    splits = assign_splits({"p225": utt_ids}, PrepareConfig(corpus_dir=".", prep_dir="."))
    assert sorted(splits[u] for u in chosen["p225"]) == ["test", "valid"]
    for utt_id in chosen["p225"]:
        audio = tmp_path / "view" / "wav48_silence_trimmed" / "p225" / f"{utt_id}_mic1.flac"
        assert audio.is_symlink() and audio.resolve().is_file()
        assert (tmp_path / "view" / "txt" / "p225" / f"{utt_id}.txt").read_text().strip()
    assert (tmp_path / "view" / "speaker-info.txt").is_file()
    assert not (tmp_path / "view" / "txt" / "p226").exists()
    with pytest.raises(ViewError, match="2 held-out utterances"):
        make_view(tiny_corpus, tmp_path / "more", ["p225"], first=0, count=3)


def test_a_training_view_links_only_training_utterances(tiny_corpus, tmp_path):
    chosen = make_view(tiny_corpus, tmp_path / "view", ["p226"], first=0, count=1, train=True)
    utt_ids = sorted(p.stem for p in (tiny_corpus / "txt" / "p226").glob("*.txt"))
    splits = assign_splits({"p226": utt_ids}, PrepareConfig(corpus_dir=".", prep_dir="."))
    assert [splits[u] for u in chosen["p226"]] == ["train"]
    with pytest.raises(ViewError, match="1 training utterances"):
        make_view(tiny_corpus, tmp_path / "more", ["p226"], first=0, count=2, train=True)
