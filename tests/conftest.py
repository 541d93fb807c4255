"""Shared fixtures: a tiny demo corpus and its prepared form, built once per test session.

``tiny_corpus``   2 speakers x 3 sentences rendered with flite in the VCTK 0.92 layout
                  (p225: female, slt voice; p226: male, awb voice).
``tiny_prepared`` that corpus through ``recipes.vctk.prepare`` (all 5 stages, 2 jobs): a
                  prepared-corpus directory as described in recipes/vctk/README.md.

Both are shared by every test file: treat them as read-only (copy with ``shutil.copytree``
into ``tmp_path`` before changing anything).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# recipes/ is not an installed package; the plain `pytest` command does not put the
# repository root on sys.path (`python -m pytest` does).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recipes.demo.make_corpus import make_corpus

    return make_corpus(tmp_path_factory.mktemp("tiny_corpus") / "vctk", speakers=2,
                       sentences_per_speaker=3, jobs=1, seed=0)


@pytest.fixture(scope="session")
def tiny_prepared(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recipes.vctk.prepare import PrepareConfig, prepare

    prep_dir = tmp_path_factory.mktemp("tiny_prepared") / "prep"
    prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=prep_dir, jobs=2, progress=False))
    return prep_dir
