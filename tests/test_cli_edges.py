"""`tts say` at its edges: file modes, symlinks, signals, closed pipes, full disks, odd input."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tts.cli import main

REPO = Path(__file__).resolve().parents[1]
LONG_TEXT = " ".join(f"This is sentence number {i} of a long story." for i in range(300))


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def tts_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tts", *args]


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_output_mode_follows_umask_and_overwrite_keeps_it(tiny_voice, tmp_path, capsys,
                                                          umask_022):
    out = tmp_path / "out.wav"
    code, _, err = run_cli(["say", "Hi.", "-o", str(out), "--voice", str(tiny_voice)], capsys)
    assert code == 0, err
    assert _mode(out) == 0o644  # what open() gives under umask 022 (it was 0600)
    os.chmod(out, 0o640)
    code, _, err = run_cli(["say", "Hello.", "-o", str(out), "--voice", str(tiny_voice)], capsys)
    assert code == 0, err
    assert _mode(out) == 0o640 and sf.info(out).frames > 0


def test_output_through_symlink_writes_its_target(tiny_voice, tmp_path, capsys):
    real = tmp_path / "real" / "speech.wav"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.wav"
    link.symlink_to(real)
    code, _, err = run_cli(["say", "Hi.", "-o", str(link), "--voice", str(tiny_voice)], capsys)
    assert code == 0, err
    assert link.is_symlink() and sf.info(real).frames > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.wav", "real"]


@pytest.mark.slow
@pytest.mark.parametrize("signum, code, word", [(signal.SIGTERM, 143, "terminated"),
                                                (signal.SIGINT, 130, "interrupted")])
def test_signal_mid_synthesis_removes_the_temporary(tiny_voice, tmp_path, signum, code, word):
    process = subprocess.Popen(tts_command("say", LONG_TEXT, "-o", "out.wav", "--voice",
                                           str(tiny_voice)),
                               cwd=tmp_path, env=subprocess_env(), stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.wav.*.part")) and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.02)
        assert list(tmp_path.glob(".out.wav.*.part")), "synthesis never started writing"
        time.sleep(0.3)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code and err == f"tts: {word}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_closed_pipe_ends_quietly(tiny_voice):
    process = subprocess.Popen(tts_command("say", LONG_TEXT, "-o", "-", "--raw", "--voice",
                                           str(tiny_voice)),
                               env=subprocess_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        assert len(process.stdout.read(100)) == 100
        process.stdout.close()  # as `| head -c 100` does
        err = process.stderr.read()
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0 and err == b""


def test_full_stdout_is_one_line(tiny_voice):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(tts_command("say", "Hello there.", "-o", "-", "--voice",
                                            str(tiny_voice)),
                                env=subprocess_env(), stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == "tts: error: cannot write to stdout: no space left on device\n"


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mount_point = tmp_path / "full"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                              str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_full_disk_is_one_clear_line(tiny_voice, tiny_tmpfs, capsys):
    out = tiny_tmpfs / "out.wav"
    code, _, err = run_cli(["say", LONG_TEXT[:3000], "-o", str(out), "--voice",
                            str(tiny_voice)], capsys)
    assert code == 1
    assert err == f"tts: error: cannot write {out}: no space left on device\n"
    assert list(tiny_tmpfs.iterdir()) == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_text_file_decoded_by_its_byte_order_mark(encoding, tiny_voice, tmp_path, capsys):
    text_file = tmp_path / "text.txt"
    text_file.write_bytes("Hello there.\n".encode(encoding))
    out = tmp_path / "out.wav"
    code, _, err = run_cli(["say", "-f", str(text_file), "-o", str(out), "--voice",
                            str(tiny_voice)], capsys)
    assert code == 0, err
    assert sf.info(out).frames > 0
    code, out_text, err = run_cli(["analyze", "-f", str(text_file), "--json"], capsys)
    assert code == 0 and '"words": ["hello", "there"]' in out_text, err


def test_missing_text_file_is_one_clean_line(tiny_voice, tmp_path, capsys):
    code, _, err = run_cli(["say", "-f", str(tmp_path / "nonexistent"), "-o",
                            str(tmp_path / "x.wav"), "--voice", str(tiny_voice)], capsys)
    assert code == 1
    assert err == f"tts: error: cannot read {tmp_path / 'nonexistent'}: No such file or directory\n"


def test_no_speakable_words_suggests_only_what_the_command_has(tiny_voice, tmp_path, capsys):
    code, _, err = run_cli(["say", "東京", "-o", str(tmp_path / "x.wav"), "--voice",
                            str(tiny_voice)], capsys)
    assert code == 1 and "no speakable words" in err and "espeak" not in err
    code, _, err = run_cli(["analyze", "東京"], capsys)
    assert code == 1 and "--backend espeak" in err and err.count("\n") == 1
    recording = tmp_path / "speech.wav"
    sf.write(recording, np.zeros(16000, np.float32), 16000)
    code, _, err = run_cli(["align", str(recording), "東京"], capsys)
    assert code == 1 and "no speakable words" in err and "espeak" not in err


def test_unspeakable_characters_are_named_in_one_warning(tiny_voice, tmp_path, capsys):
    code, _, err = run_cli(["say", "Hello 東京 and αβγ world 😀.", "-o", str(tmp_path / "x.wav"),
                            "--voice", str(tiny_voice)], capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert all(part in warnings[0] for part in ("東京", "αβγ", "😀"))


def test_progress_bar_reaches_the_end_when_a_sentence_is_dropped(tiny_voice, tmp_path):
    """The bar is drawn only on a terminal: give the subprocess a pseudo-terminal as stderr."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # 80 columns
    process = subprocess.Popen(tts_command("say", "Hello there. 東京. Goodbye now.", "-o",
                                           str(tmp_path / "x.wav"), "--voice", str(tiny_voice)),
                               env=subprocess_env(), stderr=follower, stdout=subprocess.DEVNULL)
    os.close(follower)
    drawn = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 120)
            if not ready:
                break
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            drawn += data
        process.wait(timeout=120)
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, drawn.decode(errors="replace")
    assert b"100%" in drawn


def test_say_with_a_user_lexicon(tiny_voice, tmp_path, capsys):
    from tts import Synthesizer

    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("zorblax Z AO1 R B L AE2 K S\n", encoding="utf-8")
    synth = Synthesizer.from_pretrained(tiny_voice, lexicon=lexicon)
    assert next(synth.phonemize("zorblax")).word_phonemes()[0] == \
        "Z AO1 R B L AE2 K S".split()
    plain = Synthesizer.from_pretrained(tiny_voice)
    assert next(plain.phonemize("zorblax")).word_phonemes()[0] != \
        "Z AO1 R B L AE2 K S".split()
    out = tmp_path / "out.wav"
    code, _, err = run_cli(["say", "zorblax", "-o", str(out), "--lexicon", str(lexicon),
                            "--voice", str(tiny_voice)], capsys)
    assert code == 0, err
    written, _ = sf.read(out, dtype="float32")
    expected = synth.synthesize("zorblax", seed=0)
    assert written.shape == expected.shape
    np.testing.assert_allclose(written, expected, atol=1.5 / 32767)  # 16-bit rounding


def test_no_click_api_that_click_9_removes():
    """click.get_binary_stream/get_text_stream are deprecated and go away in Click 9."""
    import ast

    removed = {"get_binary_stream", "get_text_stream"}
    uses = [f"{path.relative_to(REPO)}:{node.lineno}"
            for path in sorted((REPO / "tts").rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute) and node.attr in removed]
    assert uses == []
