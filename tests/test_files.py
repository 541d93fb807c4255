"""tts_common.files: atomic writes that respect the umask, keep modes and follow symlinks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tts_common.files import atomic_directory, atomic_file, atomic_open


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_file_gets_the_mode_open_would_give(tmp_path, umask_022):
    with atomic_file(tmp_path / "out.bin") as tmp:
        tmp.write_bytes(b"data")
    with open(tmp_path / "plain.bin", "wb"):
        pass
    assert _mode(tmp_path / "out.bin") == _mode(tmp_path / "plain.bin") == 0o644
    assert (tmp_path / "out.bin").read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin", "plain.bin"]


def test_overwritten_file_keeps_its_mode(tmp_path, umask_022):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    with atomic_open(target) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"new" and _mode(target) == 0o640


def test_symlink_target_is_written_and_link_kept(tmp_path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    with atomic_file(link) as tmp:
        tmp.write_bytes(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    temporaries: set[Path] = set()
    with pytest.raises(RuntimeError):
        with atomic_file(target, temporaries=temporaries) as tmp:
            assert temporaries == {tmp} and tmp.name.startswith(".out.bin.")
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"] and not temporaries


def test_directory_replaced_whole_keeps_mode(tmp_path, umask_022):
    target = tmp_path / "voice"
    with atomic_directory(target) as staging:
        (staging / "a.json").write_text("1")
    assert _mode(target) == 0o755 and (target / "a.json").read_text() == "1"
    os.chmod(target, 0o750)
    with atomic_directory(target) as staging:
        assert not target.joinpath("b.json").exists()
        (staging / "b.json").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.json"] and _mode(target) == 0o750
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as staging:
            (staging / "c.json").write_text("3")
            raise RuntimeError("killed")
    assert sorted(p.name for p in target.iterdir()) == ["b.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["voice"]
