"""Audio constants and I/O shared by the whole project.

Framing convention (everyone relies on it: alignment, F0, conditioning, the vocoder):
frame ``i`` covers samples ``[i * HOP_LENGTH, (i + 1) * HOP_LENGTH)`` and describes the signal
around its centre, ``(i + 0.5) * HOP_LENGTH`` samples. An utterance of ``n`` samples has
``num_frames(n) = ceil(n / HOP_LENGTH)`` frames, so every sample belongs to exactly one frame
(the last frame may be partial; the vocoder pads the waveform with zeros up to
``num_frames(n) * HOP_LENGTH``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import soundfile as sf

from tts_common.files import atomic_file

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
HOP_LENGTH = 80  # 5 ms at 16 kHz


class AudioError(ValueError):
    """An audio file that cannot be used; the message names the file and the problem."""


def num_frames(num_samples: int, hop_length: int = HOP_LENGTH) -> int:
    """Frames of an utterance of ``num_samples`` samples: ``ceil(num_samples / hop_length)``."""
    if num_samples < 0 or hop_length <= 0:
        raise ValueError(f"num_frames: need num_samples >= 0 and hop_length > 0, "
                         f"got {num_samples} and {hop_length}")
    return -(-num_samples // hop_length)


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality); a no-op when the rates agree."""
    if orig_sr == target_sr:
        return audio.astype(np.float32, copy=False)
    import soxr  # a librosa dependency; imported here because most callers never resample

    return soxr.resample(audio, orig_sr, target_sr, quality="HQ").astype(np.float32)


def _missing_wav_bytes(path: Path) -> int:
    """How many bytes a RIFF/WAV file's ``data`` chunk lacks (0 for complete or non-WAV files).

    libsndfile silently shortens a truncated WAV to what is there, so we compare the declared
    chunk size with the file size ourselves. Streaming writers that could not seek back
    declare 0 or 0xFFFFFFFF; those sizes are unknown, not wrong.
    """
    file_size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return 0
        position = 12
        while position + 8 <= file_size:
            handle.seek(position)
            chunk = handle.read(8)
            chunk_id, chunk_size = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if chunk_id == b"data":
                if chunk_size in (0, 0xFFFFFFFF):
                    return 0
                return max(0, position + 8 + chunk_size - file_size)
            position += 8 + chunk_size + (chunk_size & 1)
    return 0


def load_audio(path: str | Path, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Read any soundfile-readable file as float32 mono at ``target_sr``.

    Stereo is averaged to mono, any bit depth is accepted, other rates are resampled. Missing,
    empty, corrupt or truncated files raise :class:`AudioError` naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"audio file not found: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path} is empty (0 bytes)")
    try:
        info = sf.info(str(path))
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(
            f"cannot read audio file {path}: {exc} (is it a corrupt or unsupported file? "
            "use WAV or FLAC)"
        ) from None
    # libsndfile returns what it could decode from a truncated file without complaint.
    if info.frames > 0 and data.shape[0] < info.frames:
        raise AudioError(
            f"audio file {path} is truncated: its header promises {info.frames} samples, "
            f"only {data.shape[0]} could be read"
        )
    missing = _missing_wav_bytes(path)
    if missing > 0:
        raise AudioError(
            f"audio file {path} is truncated: {missing} bytes of its WAV data chunk are missing "
            "(re-export or re-download it)"
        )
    if data.shape[0] == 0:
        raise AudioError(f"audio file {path} contains no samples")
    if not np.isfinite(data).all():
        raise AudioError(f"audio file {path} contains NaN or infinite samples")
    if data.shape[1] > 1:
        logger.info("%s: averaging %d channels to mono", path, data.shape[1])
    audio = data.mean(axis=1)  # (N,)
    if sr != target_sr:
        logger.info("%s: resampling %d Hz to %d Hz", path, sr, target_sr)
    return resample(audio, sr, target_sr)


def trim_silence(
    audio: np.ndarray, sr: int = SAMPLE_RATE, top_db: float = 40.0, frame_ms: float = 10.0
) -> tuple[np.ndarray, tuple[int, int]]:
    """Cut leading and trailing stretches more than ``top_db`` below the loudest frame.

    Returns the trimmed audio and ``(start, end)`` sample indices into the input; an all-silent
    input keeps everything (there is no speech to keep instead).
    """
    frame = max(1, int(sr * frame_ms / 1000))
    n_frames = len(audio) // frame
    if n_frames == 0:
        return audio, (0, len(audio))
    energy = (audio[: n_frames * frame].reshape(n_frames, frame).astype(np.float64) ** 2).mean(1)
    energy_db = 10.0 * np.log10(np.maximum(energy, 1e-20))  # (n_frames,)
    loud = np.flatnonzero(energy_db > energy_db.max() - top_db)
    if energy.max() <= 1e-20 or len(loud) == 0:
        return audio, (0, len(audio))
    start = int(loud[0]) * frame
    end = len(audio) if loud[-1] == n_frames - 1 else (int(loud[-1]) + 1) * frame
    return audio[start:end], (start, end)


def write_wav_atomic(path: str | Path, audio: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    """Write 16-bit PCM WAV so that ``path`` is either the old file or the complete new one."""
    path = Path(path)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"write_wav_atomic: expected mono audio of shape (N,), got {audio.shape}")
    if not np.isfinite(audio).all():
        raise ValueError(f"refusing to write {path}: the audio contains NaN or infinite samples")
    peak = float(np.abs(audio).max()) if len(audio) else 0.0
    if peak > 1.0:
        logger.warning("%s: clipping audio with peak %.2f to [-1, 1]", path, peak)
        audio = np.clip(audio, -1.0, 1.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:  # .NAME.XXXXXXXX.tmp, renamed once complete
        sf.write(tmp, audio, sr, format="WAV", subtype="PCM_16")


__all__ = [
    "SAMPLE_RATE", "HOP_LENGTH", "AudioError", "num_frames", "resample", "load_audio",
    "trim_silence", "write_wav_atomic",
]
