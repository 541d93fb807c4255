"""Exporting a voice (issue 18 item 4): a killed export leaves the previous voice loadable and
nothing that blocks or misleads; exported directories get the mode the umask gives."""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tts.voice import VoiceError, read_voice

EXPORT = """
import os, sys
os.umask(int(sys.argv[5], 8))
from tts.voice import export_voice
export_voice(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], name=sys.argv[6])
"""


def start_export(tiny_voice: Path, prepared: Path, out: Path, *, umask: int = 0o022,
                 name: str = "voice") -> subprocess.Popen:
    root = tiny_voice.parent
    return subprocess.Popen(
        [sys.executable, "-c", EXPORT, str(prepared), str(root / "prosody"),
         str(root / "wavenet"), str(out), f"{umask:o}", name],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err


def leftovers(out: Path) -> list[str]:
    """Everything beside the voice directory but the voice and its (empty) lock file."""
    return sorted(p.name for p in out.parent.iterdir()
                  if p != out and p.name != f".{out.name}.export-lock")


def test_killed_exports_never_leave_the_voice_missing_or_half_written(tiny_voice, tiny_prepared,
                                                                      tmp_path):
    out = tmp_path / "voices" / "voice"
    started = time.perf_counter()
    finish(start_export(tiny_voice, tiny_prepared, out, name="first"))
    duration = time.perf_counter() - started
    assert read_voice(out).name == "first" and leftovers(out) == []
    rng = random.Random(0)
    names_seen = {"first"}
    for attempt in range(5):
        name = f"attempt{attempt}"
        process = start_export(tiny_voice, tiny_prepared, out, name=name)
        deadline = time.perf_counter() + rng.uniform(0.3, 1.1) * duration
        while time.perf_counter() < deadline and process.poll() is None:
            names_seen.add(read_voice(out).name)  # loadable at every instant, old or new
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        spec = read_voice(out)  # still a complete voice: the previous one or this one
        for kind in ("duration", "pitch", "wavenet"):
            spec.tensors(kind)
        names_seen.add(spec.name)
    # The next export cleans up whatever the killed ones left, and succeeds.
    finish(start_export(tiny_voice, tiny_prepared, out, name="last"))
    assert read_voice(out).name == "last"
    assert leftovers(out) == []
    assert names_seen <= {"first", "last"} | {f"attempt{i}" for i in range(5)}


def test_exported_directories_get_the_mode_of_the_umask(tiny_voice, tiny_prepared, tmp_path):
    out = tmp_path / "voice"
    finish(start_export(tiny_voice, tiny_prepared, out, umask=0o027))
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    for file in out.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o640, file
    # Replacing a voice keeps the mode its directory was given.
    os.chmod(out, 0o755)
    finish(start_export(tiny_voice, tiny_prepared, out, umask=0o077))
    assert stat.S_IMODE(out.stat().st_mode) == 0o755


def test_a_failed_export_keeps_the_previous_voice(tiny_voice, tiny_prepared, tmp_path):
    from tts.voice import export_voice

    out = tmp_path / "voice"
    finish(start_export(tiny_voice, tiny_prepared, out, name="kept"))
    with pytest.raises(ValueError):
        export_voice(tiny_prepared, tmp_path / "no-such-experiment", tiny_voice.parent / "wavenet",
                     out, name="broken")
    assert read_voice(out).name == "kept" and leftovers(out) == []
    with pytest.raises(VoiceError):
        read_voice(tmp_path / "no-such-voice")


def test_a_voice_moved_aside_by_a_killed_export_is_restored(tiny_voice, tiny_prepared, tmp_path):
    """Without renameat2 the previous voice is renamed aside before the new one goes in; a kill
    between the two renames leaves it as .NAME.XXXX.old. The next export puts it back first."""
    from tts.voice import export_voice

    out = tmp_path / "voice"
    shutil.copytree(tiny_voice, tmp_path / ".voice.0a1b2c3d.old")
    (tmp_path / ".voice.4e5f6a7b.staging").mkdir()  # the half-built new voice
    with pytest.raises(ValueError):
        export_voice(tiny_prepared, tmp_path / "no-such-experiment", tiny_voice.parent / "wavenet",
                     out)
    assert read_voice(out).speakers == read_voice(tiny_voice).speakers
    assert leftovers(out) == []
