"""frontend.g2p on large inputs: homograph context is linear, the model caches are bounded."""

from __future__ import annotations

import pytest

from frontend.g2p import G2P, NeuralG2P, _BoundedCache, tokenize


def _sentence_of(items, index):
    """The definition: the words between the sentence ends around ``index``."""
    ends = [i for i, (kind, value) in enumerate(items) if kind == "punct" and value in ".?!…"]
    start = max([e + 1 for e in ends if e < index], default=0)
    end = min([e for e in ends if e >= index], default=len(items))
    return frozenset(v.lower() for k, v in items[start:end] if k == "word")


@pytest.mark.parametrize("text", [
    "yesterday we read it , then they read it . now they read it ! who read it ?",
    "read", ". . read .", "no end at all read lead read", "a ; b : c … d - e",
])
def test_sentence_words_match_their_definition(text: str) -> None:
    items = G2P()._split(tokenize(text))
    sentences = G2P._sentence_words(items)
    assert len(sentences) == len(items)
    for index, (kind, _) in enumerate(items):
        if kind == "word":
            assert sentences[index] == _sentence_of(items, index), (text, index)


def test_past_marker_reaches_only_its_own_sentence() -> None:
    g2p = G2P()
    readings = [" ".join(t.phonemes) for t in g2p("yesterday we read it . now we read it")
                if t.text == "read"]
    assert readings == ["R EH1 D", "R IY1 D"]


def test_homograph_text_work_grows_linearly() -> None:
    """2x the text makes about 2x the Python calls (rescanning each homograph's sentence made
    it 4x). Calls, not seconds: a clock on a shared 2-core machine failed this at 3.02x."""
    from benchmarks.input_scaling import work_ratio

    assert work_ratio(words=400) < 2.2


def test_bounded_cache_drops_the_least_recently_used() -> None:
    cache = _BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_neural_cache_stays_bounded_and_answers_the_same() -> None:
    model = NeuralG2P()
    model._cache.size = 3
    first = model("blorptastic")
    words = ["zanthor", "quibbix", "flurmonk", "dravistan", "plonquet"]
    for word in words:
        model(word)
    assert len(model._cache) == 3 and model._cache.get("blorptastic") is None
    assert model("blorptastic") == first
