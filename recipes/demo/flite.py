"""Calling the Debian ``flite`` binary: render text, and read back its own phone timing.

A speaker of the demo corpus is a list of flite options, e.g.
``-voice slt --setf int_f0_target_mean=170 --setf duration_stretch=1.05``; the same string is
recorded in speaker-info.txt, so anything rendered there can be rendered again here.

What flite does with bad input, found by trying (flite 2.2): an unknown ``-voice`` silently
falls back to the default voice, an unknown ``--setf`` feature is ignored, and an unwritable
``-o`` path still exits 0. So the voice is checked against ``flite -lv`` and the output file
is checked after every call.

Phone timing: ``-psdur`` prints one line ``pau:0.164 hh:0.255 ax:0.304 ... pau:4.229`` to
stdout: each segment with its end time in seconds, lower-case flite phone names, ``pau`` for
silences, for the whole ``-t`` text as one utterance. The end times match the audio for the
clustergen voices (slt, awb, rms). kal16 (diphone) writes audio ~0.1 s shorter than its last
``pau`` end, so the last end time is clipped to the audio length.
"""

from __future__ import annotations

import functools
import math
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from frontend.phonemes import ARPABET, PAUSE, SILENCE

SAMPLE_RATE = 16000
# Options that name the input or output: the renderer supplies those itself.
_IO_OPTIONS = frozenset({"-t", "-f", "-p", "-o", "-psdur", "-ps", "-pw", "-pr", "-l", "-b",
                         "-voicedump", "--help", "--version", "-lv"})
_PHONE_TIME = re.compile(r"^([a-z]+):(\d+(?:\.\d*)?)$")
# flite's US English phone names that are not simply ARPAbet in lower case
_FLITE_TO_ARPABET = {"ax": "AH", "axr": "ER", "el": "L", "em": "M", "en": "N"}


class FliteError(ValueError):
    """flite is missing, was given unusable options, or produced no audio."""


@functools.lru_cache(maxsize=1)
def _flite_binary() -> str:
    path = shutil.which("flite")
    if path is None:
        raise FliteError("flite not found on PATH: install it (Debian: apt-get install flite)")
    return path


@functools.lru_cache(maxsize=1)
def available_voices() -> tuple[str, ...]:
    """Voices this flite build has, from ``flite -lv`` ("Voices available: kal awb ...")."""
    result = subprocess.run(
        [_flite_binary(), "-lv"], capture_output=True, text=True, check=False
    )
    text = result.stdout + result.stderr
    if "Voices available:" not in text:
        raise FliteError(f"could not list flite voices: 'flite -lv' printed {text.strip()!r}")
    return tuple(text.split("Voices available:", 1)[1].split())


def parse_flite_args(source: str | Sequence[str]) -> list[str]:
    """Options of one speaker as an argument list, checked.

    Accepts the string stored in speaker-info.txt (``"flite -voice slt --setf ..."``, the
    leading ``flite`` optional) or an argument list. Input/output options are refused because
    the renderer adds them.
    """
    args = shlex.split(source) if isinstance(source, str) else list(source)
    if args and args[0] in ("flite", _flite_binary()):
        args = args[1:]
    for arg in args:
        if arg in _IO_OPTIONS:
            raise FliteError(
                f"flite option {arg} is not allowed in a speaker's options: the text and "
                f"output file are added by the renderer (got {shlex.join(args)!r})"
            )
    if "-voice" in args:
        index = args.index("-voice")
        if index + 1 >= len(args):
            raise FliteError(f"'-voice' needs a voice name (got {shlex.join(args)!r})")
        voice = args[index + 1]
        if voice not in available_voices():
            raise FliteError(
                f"flite has no voice {voice!r}: choose one of {', '.join(available_voices())}"
            )
    return args


def at_tempo(flite_args: Sequence[str], tempo: float) -> list[str]:
    """The same speaker ``tempo`` times as fast (> 1 faster): its ``duration_stretch`` (1 when
    unset) divided by ``tempo``, flite's last ``--setf`` of a name being the one it uses."""
    if not (math.isfinite(tempo) and tempo > 0):
        raise FliteError(f"a tempo must be a number > 0, got {tempo!r}")
    args, stretch = list(flite_args), 1.0
    for flag, setting in zip(args, args[1:]):
        key, _, value = setting.partition("=")
        if flag == "--setf" and key == "duration_stretch":
            try:
                stretch = float(value)
            except ValueError:
                raise FliteError(f"duration_stretch={value!r} is not a number") from None
    return args + ["--setf", f"duration_stretch={stretch / tempo:.6g}"]


def _run_flite(text: str, flite_args: Sequence[str], phone_times: bool) -> tuple[np.ndarray, str]:
    """Render ``text``; returns 16 kHz float32 audio and flite's stdout."""
    if not text.strip():
        raise FliteError("cannot render empty text: give at least one word")
    with tempfile.TemporaryDirectory(prefix="flite-") as tmp:
        wav_path = Path(tmp) / "out.wav"
        command = [_flite_binary(), *flite_args, *(["-psdur"] if phone_times else []),
                   "-t", text, "-o", str(wav_path)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not wav_path.is_file() or wav_path.stat().st_size <= 44:
            raise FliteError(
                f"flite produced no audio for {text!r} (exit {result.returncode}): "
                f"{result.stderr.strip() or 'no message'}"
            )
        audio, sample_rate = sf.read(wav_path, dtype="float32")
    if audio.ndim != 1:
        audio = audio.mean(axis=1)
    if sample_rate != SAMPLE_RATE:  # only the 8 kHz "kal" voice
        audio = soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return audio, result.stdout


def render(text: str, flite_args: str | Sequence[str]) -> np.ndarray:
    """``text`` spoken by the flite speaker ``flite_args``: float32 mono at 16 kHz."""
    audio, _ = _run_flite(text, parse_flite_args(flite_args), phone_times=False)
    return audio


def flite_phone(name: str) -> str:
    """A flite US English phone name as an ARPAbet symbol of the project's inventory."""
    phone = _FLITE_TO_ARPABET.get(name, name.upper())
    if phone not in ARPABET:
        raise FliteError(f"flite printed an unknown phone {name!r}")
    return phone


def render_with_phone_times(
    text: str, flite_args: str | Sequence[str]
) -> tuple[np.ndarray, list[tuple[str, float]]]:
    """Render ``text`` and return flite's own segmentation as ``[(phone, end_sec), ...]``.

    Phones use the project's inventory: ARPAbet without stress (flite's ``ax`` is ``AH``),
    ``sil`` for the leading and trailing pause and ``sp`` for pauses inside the utterance.
    End times are increasing and the last equals the audio length. This is the reference for
    the alignment-accuracy benchmark; the corpus itself never stores it (VCTK has no labels).
    """
    audio, stdout = _run_flite(text, parse_flite_args(flite_args), phone_times=True)
    tokens = stdout.split()
    segments: list[tuple[str, float]] = []
    for token in tokens:
        match = _PHONE_TIME.match(token)
        if match is None:
            raise FliteError(f"cannot read flite -psdur output: unexpected {token!r}")
        segments.append((match.group(1), float(match.group(2))))
    if not segments:
        raise FliteError(f"flite -psdur printed no segments for {text!r}")
    duration = len(audio) / SAMPLE_RATE
    phone_times: list[tuple[str, float]] = []
    for index, (name, end) in enumerate(segments):
        if name == "pau":
            edge = index == 0 or index == len(segments) - 1
            phone = SILENCE if edge else PAUSE
        else:
            phone = flite_phone(name)
        phone_times.append((phone, min(end, duration)))
    phone_times[-1] = (phone_times[-1][0], duration)
    return audio, phone_times
