"""recipes.vctk.prepare when killed or run with several jobs: same output, nothing left blocking."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from recipes.vctk.prepare import PrepareConfig, prepare

REPO_ROOT = Path(__file__).resolve().parents[1]


def _stage_outputs(prep: Path, kind: str) -> dict[str, bytes]:
    return {str(p.relative_to(prep)): p.read_bytes() for p in sorted((prep / kind).rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_alignments_do_not_depend_on_jobs(tiny_corpus: Path, tiny_prepared: Path,
                                          tmp_path: Path) -> None:
    """tiny_prepared ran with 2 jobs; one job aligns the utterances in another order per process."""
    prep = tmp_path / "prep"
    prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=prep, jobs=1, stop_stage=2,
                          progress=False))
    one_job = _stage_outputs(prep, "align")
    assert len(one_job) == 6
    assert one_job == _stage_outputs(tiny_prepared, "align")


def test_an_aligner_gives_the_same_alignment_whatever_it_aligned_before(
        tiny_prepared: Path) -> None:
    import json

    from frontend.align import Aligner
    from frontend.features import text_to_utterance

    rows = [json.loads(line)
            for line in (tiny_prepared / "manifest.jsonl").read_text().splitlines()]

    def audio_and_words(row: dict) -> tuple[np.ndarray, list[list[str]]]:
        words = [p for p in text_to_utterance(row["text"]).word_phonemes() if p]
        return sf.read(tiny_prepared / row["wav"], dtype="float32")[0], words

    aligner = Aligner()
    for row in rows:
        first = aligner.align(*audio_and_words(row)).durations
        again = aligner.align(*audio_and_words(row)).durations  # (the same, right after)
        assert first.tolist() == again.tolist(), row["utt_id"]


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_takes_the_workers_and_the_lock_with_it(tiny_corpus: Path, tmp_path: Path) -> None:
    prep = tmp_path / "prep"
    command = [sys.executable, "-m", "recipes.vctk.prepare", str(tiny_corpus), str(prep),
               "--jobs", "2", "--no-progress"]
    run = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and run.poll() is None:
            workers = _children(run.pid)
            time.sleep(0.01)
        assert len(workers) >= 2, "prepare never started its workers"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans = [w for w in workers if _alive(w)]
    finally:
        for worker in workers:  # if the test fails, it must not leave them running
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
    assert orphans == [], "workers outlived the prepare run that started them"
    rerun = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert (prep / "manifest.jsonl").exists()
    shutil.rmtree(prep)
