"""Training windows for the WaveNet: (frame features, μ-law audio, speaker) from a prepared corpus.

Reads a prepared corpus (``manifest.jsonl``, ``stats.json``, ``speakers.json`` through
``tts_common.corpus``, then the ``cond`` .npy files and the 16 kHz wavs): the vocoder knows
nothing about the frontend that wrote it.

Everything is cached in RAM once: the audio as μ-law classes (one byte per sample), the
conditioning as float16 (the features are normalized, so half precision loses nothing that
matters, and a 5 h corpus with ~250 channels stays under 2 GB). Both live in one concatenated
array each, so forked DataLoader workers share them copy-on-write.

Window layout. A window starts at frame ``f0`` and spans ``W = window_frames`` frames, i.e. the
``L = W * hop`` samples ``s0 = f0 * hop ... s0 + L - 1`` of the utterance (zero-padded to
``num_frames * hop`` samples, the framing convention of ``frontend.audio``):

* ``targets[t]`` = class of sample ``s0 + t``                                     (L,)
* ``inputs[t]``  = class of sample ``s0 + t - 1`` (teacher forcing: the previous
  sample; the silence class before the first sample of the utterance)           (L,)
  so ``inputs[t + 1] == targets[t]``: the model reads x[t] and predicts x[t + 1], and
  ``WaveNet.forward`` returns at position t the distribution of ``targets[t]``.
* ``features`` = the frames ``f0 - c ... f0 + W + c - 1`` with ``c = context_frames``
  frames of context on each side for the non-causal conditioning network (zeros
  outside the utterance)                                                          (W + 2c, C)
* ``speaker``  = the utterance's speaker index                                  ()

Utterances shorter than a window are padded: features with zeros, inputs with the silence class,
targets with ``IGNORE_INDEX`` (the loss skips them). Pauses are kept in: the model must learn
near-silence too.

Windows are a pure function of ``(seed, index)``: any non-negative index is valid, and a run that
resumes at step ``s`` draws exactly the windows an uninterrupted run would have drawn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from tts_common import corpus
from vocoder.lpc import LPCSpec
from vocoder.mulaw import mulaw_encode, silence_class

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100  # target of padded samples; torch's cross_entropy default ignore_index
SPLITS = ("train", "valid", "test")


class DatasetError(ValueError):
    """A prepared corpus that cannot be used for training; the message names the file and fix."""


@dataclass
class UtteranceSpan:
    """Where one utterance of the split lies in the dataset's concatenated arrays."""

    utt_id: str
    speaker_index: int
    num_frames: int
    frame_offset: int  # into the concatenated features
    sample_offset: int  # into the concatenated audio classes (num_frames * hop samples each)


def read_manifest(prep_dir: str | Path) -> list[dict]:
    """All entries of ``PREP/manifest.jsonl`` with what training reads (``tts_common.corpus``)."""
    return corpus.read_manifest(prep_dir, DatasetError, ("wav", "cond"))


@dataclass
class CorpusInfo:
    """What the model needs to know about a prepared corpus."""
    sample_rate: int
    hop_length: int
    cond_channels: int
    num_speakers: int
    speaker_ids: list[str]


def read_corpus_info(prep_dir: str | Path) -> CorpusInfo:
    stats = corpus.read_stats(prep_dir, DatasetError)
    speakers = corpus.read_speakers(prep_dir, DatasetError)
    return CorpusInfo(sample_rate=stats["sample_rate"], hop_length=stats["hop_length"],
                      cond_channels=stats["cond_channels"], num_speakers=len(speakers),
                      speaker_ids=[str(s["id"]) for s in speakers])


class WaveNetDataset(torch.utils.data.Dataset):
    """Random, frame-aligned training windows of one split of a prepared corpus (see module doc).

    ``dataset[index]`` is a dict of tensors: ``features`` (W + 2c, C) float32, ``inputs`` (W*hop,)
    int64, ``targets`` (W*hop,) int64, ``speaker`` () int64. ``len(dataset)`` is the number of
    non-overlapping windows in the split (one "epoch"); larger indices are valid too.
    ``speaker_weights`` ({speaker id: weight}, others 1) draws a speaker's frames that many
    times as often; without it (or with every weight 1) the windows are those of an unweighted
    run, to the sample.
    """

    def __init__(self, prep_dir: str | Path, split: str = "train", window_frames: int = 100,
                 context_frames: int = 0, seed: int = 0, quantization_channels: int = 256,
                 max_utterances: int | None = None, lpc: LPCSpec | None = None,
                 speaker_weights: dict[str, float] | None = None):
        if split not in SPLITS:
            raise DatasetError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if window_frames <= 0 or context_frames < 0:
            raise DatasetError(f"need window_frames > 0 and context_frames >= 0, got "
                               f"{window_frames} and {context_frames}")
        if not 2 <= quantization_channels <= 65536:
            raise DatasetError(f"quantization_channels must be in [2, 65536], got "
                               f"{quantization_channels}")
        self.prep_dir = Path(prep_dir)
        self.split = split
        self.window_frames = window_frames
        self.context_frames = context_frames
        self.seed = seed
        self.quantization_channels = quantization_channels
        info = read_corpus_info(self.prep_dir)
        self.sample_rate = info.sample_rate
        self.hop_length = info.hop_length
        self.cond_channels = info.cond_channels
        self.num_speakers = info.num_speakers
        unknown = sorted(set(speaker_weights or {}) - set(info.speaker_ids))
        if unknown:
            raise DatasetError(
                f"speaker weights name {', '.join(unknown)}, which {self.prep_dir} does not have "
                f"(its speakers: {', '.join(info.speaker_ids)}); check train.speaker_weights")
        if any(not weight > 0 for weight in (speaker_weights or {}).values()):
            raise DatasetError(f"speaker weights must be > 0, got {speaker_weights}")

        entries = [e for e in read_manifest(self.prep_dir) if e["split"] == split]
        if max_utterances is not None:
            entries = entries[:max_utterances]
        class_dtype = np.uint8 if quantization_channels <= 256 else np.uint16
        total_frames = sum(int(entry["num_frames"]) for entry in entries)
        # The whole split in RAM, filled in place (no second copy at the peak):
        self._features = np.empty((total_frames, self.cond_channels), np.float16)  # (F, C)
        self._audio = np.empty(total_frames * self.hop_length, class_dtype)  # (F * hop,)
        # Excitation mode: _audio holds the residual (the targets), _waveform the recording
        # (the auxiliary loss's mel targets).
        self._waveform = (np.empty(total_frames * self.hop_length, class_dtype)
                          if lpc is not None else None)
        self._basis = lpc.basis() if lpc is not None else None
        self.utterances: list[UtteranceSpan] = []
        frame_offset = 0
        for count, entry in enumerate(entries, 1):
            utt_features, utt_audio = self._load(entry)
            num_frames = utt_features.shape[0]
            sample_offset = frame_offset * self.hop_length
            self._features[frame_offset:frame_offset + num_frames] = utt_features
            span = slice(sample_offset, sample_offset + len(utt_audio))
            if lpc is not None:
                self._waveform[span] = mulaw_encode(utt_audio, quantization_channels)
                residual = np.clip(lpc.residual(utt_audio, self._basis), -1.0, 1.0)
                self._audio[span] = mulaw_encode(residual.astype(np.float32),
                                                 quantization_channels)
            else:
                self._audio[span] = mulaw_encode(utt_audio, quantization_channels)
            self.utterances.append(UtteranceSpan(entry["utt_id"], int(entry["speaker_index"]),
                                             num_frames, frame_offset, sample_offset))
            frame_offset += num_frames
            if count % 2000 == 0:
                logger.info("%s split: loaded %d of %d utterances", split, count, len(entries))
        self.total_frames = frame_offset
        # Utterances are drawn in proportion to their length: every frame is equally likely,
        # or, with speaker weights, every frame of a speaker weighted w is w times as likely.
        self._cumulative_frames = np.cumsum([u.num_frames for u in self.utterances])
        self._cumulative_weights = None
        if speaker_weights and any(weight != 1 for weight in speaker_weights.values()):
            index_weight = {index: float(speaker_weights.get(speaker, 1.0))
                            for index, speaker in enumerate(info.speaker_ids)}
            self._cumulative_weights = np.cumsum(
                [u.num_frames * index_weight[u.speaker_index] for u in self.utterances])
        logger.info("%s split of %s: %d utterances, %.2f h, %.0f MB in RAM", split, prep_dir,
                    len(self.utterances), self.total_frames * self.hop_length
                    / self.sample_rate / 3600, (self._features.nbytes + self._audio.nbytes) / 1e6)

    def _load(self, entry: dict) -> tuple[np.ndarray, np.ndarray]:
        """One utterance → features (T, C) float16 and its audio (T * hop,), float32."""
        speaker_index = entry["speaker_index"]
        if not isinstance(speaker_index, int) or not 0 <= speaker_index < self.num_speakers:
            raise DatasetError(
                f"manifest.jsonl: {entry['utt_id']} has speaker_index {speaker_index!r}, but "
                f"speakers.json lists {self.num_speakers} speakers; re-run the corpus preparation")
        cond_path = self.prep_dir / entry["cond"]
        wav_path = self.prep_dir / entry["wav"]
        try:
            features = np.load(cond_path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DatasetError(
                f"cannot read {cond_path}: {exc}; re-run the corpus preparation") from None
        num_frames = int(entry["num_frames"])
        if features.shape != (num_frames, self.cond_channels):
            raise DatasetError(
                f"{cond_path} has shape {features.shape}, expected ({num_frames}, "
                f"{self.cond_channels}) from manifest.jsonl and stats.json; re-run the corpus "
                "preparation")
        features = features.astype(np.float16)
        if not np.isfinite(features).all():
            raise DatasetError(f"{cond_path} contains NaN, infinite or huge (> 65504) values; "
                               "check the feature normalization and re-run the preparation")
        try:
            audio, sample_rate = sf.read(str(wav_path), dtype="float32", always_2d=True)
        except (OSError, RuntimeError) as exc:
            raise DatasetError(
                f"cannot read {wav_path}: {exc}; re-run the corpus preparation") from None
        if sample_rate != self.sample_rate or audio.shape[1] != 1:
            raise DatasetError(
                f"{wav_path} is {sample_rate} Hz with {audio.shape[1]} channel(s), expected "
                f"{self.sample_rate} Hz mono (stats.json); re-run the corpus preparation")
        audio = audio[:, 0]
        if -(-len(audio) // self.hop_length) != num_frames:
            raise DatasetError(
                f"{wav_path} has {len(audio)} samples, which is not {num_frames} frames of "
                f"{self.hop_length} (manifest.jsonl); re-run the corpus preparation")
        padded = np.zeros(num_frames * self.hop_length, np.float32)  # the last frame may be partial
        padded[:len(audio)] = audio
        return features, padded

    def __len__(self) -> int:
        return self.total_frames // self.window_frames

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not self.utterances:
            raise DatasetError(f"the {self.split!r} split of {self.prep_dir} has no utterances")
        rng = np.random.default_rng([self.seed, int(index)])
        if self._cumulative_weights is None:
            frame = rng.integers(0, self.total_frames)
            utterance_index = int(np.searchsorted(self._cumulative_frames, frame, side="right"))
        else:
            point = rng.random() * self._cumulative_weights[-1]
            utterance_index = min(int(np.searchsorted(self._cumulative_weights, point,
                                                      side="right")), len(self.utterances) - 1)
        slack = self.utterances[utterance_index].num_frames - self.window_frames
        start_frame = int(rng.integers(0, slack + 1)) if slack > 0 else 0
        return self.window(utterance_index, start_frame)

    def window(self, utterance_index: int, start_frame: int) -> dict[str, torch.Tensor]:
        """The window of ``window_frames`` frames starting at ``start_frame`` of one utterance."""
        utt = self.utterances[utterance_index]
        hop, width, context = self.hop_length, self.window_frames, self.context_frames
        num_samples = width * hop

        features = np.zeros((width + 2 * context, self.cond_channels), np.float32)
        first = max(start_frame - context, 0)
        last = min(start_frame + width + context, utt.num_frames)
        features[first - (start_frame - context):last - (start_frame - context)] = \
            self._features[utt.frame_offset + first:utt.frame_offset + last]

        # One sample more than the window: the one before it is the first input.
        silence = silence_class(self.quantization_channels)
        utt_samples = utt.num_frames * hop
        first = max(start_frame * hop - 1, 0)
        last = min(start_frame * hop + num_samples, utt_samples)
        offset = first - (start_frame * hop - 1)

        def samples(source: np.ndarray) -> np.ndarray:  # (L + 1,)
            window = np.full(num_samples + 1, silence, np.int64)
            window[offset:offset + last - first] = \
                source[utt.sample_offset + first:utt.sample_offset + last]
            return window

        audio = samples(self._audio)
        inputs = audio[:-1].copy()  # (L,) inputs[t] = sample s0 + t - 1
        targets = audio[1:].copy()  # (L,) targets[t] = sample s0 + t
        valid = max(0, min(num_samples, utt_samples - start_frame * hop))
        targets[valid:] = IGNORE_INDEX
        window = {
            "features": torch.from_numpy(features),  # (W + 2c, C)
            "inputs": torch.from_numpy(inputs),  # (W * hop,)
            "targets": torch.from_numpy(targets),  # (W * hop,)
            "speaker": torch.tensor(utt.speaker_index, dtype=torch.long),  # ()
        }
        if self._waveform is not None:
            # The recording under the residual targets (silence past the end), for mel targets.
            window["waveform"] = torch.from_numpy(samples(self._waveform)[1:].copy())  # (L,)
        return window


class StepBatchSampler(torch.utils.data.Sampler):
    """Window indices for steps ``start_step ... max_steps - 1`` of one rank.

    Step ``s`` of rank ``r`` in a world of ``n`` ranks takes windows ``(s * n + r) * B + i``, so
    ranks never share a window and a resumed run draws what an uninterrupted one would have.
    """

    def __init__(self, start_step: int, max_steps: int, batch_size: int, rank: int = 0,
                 world_size: int = 1):
        self.start_step, self.max_steps = start_step, max_steps
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size

    def __iter__(self):
        for step in range(self.start_step, self.max_steps):
            first = (step * self.world_size + self.rank) * self.batch_size
            yield list(range(first, first + self.batch_size))

    def __len__(self) -> int:
        return max(0, self.max_steps - self.start_step)


__all__ = ["IGNORE_INDEX", "DatasetError", "CorpusInfo", "read_corpus_info", "read_manifest",
           "WaveNetDataset", "StepBatchSampler"]
