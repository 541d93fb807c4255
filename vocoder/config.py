"""The WaveNet's hyperparameters and its error type, without torch.

Kept apart from ``vocoder.model`` (the torch modules, for training) so that synthesis
(``vocoder.generate``, which runs numpy and numba only) can read a voice's config without
importing torch. ``vocoder.model`` re-exports both names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

UPSAMPLE_MODES = ("repeat", "transposed")


class VocoderError(ValueError):
    """Bad input to the vocoder (shapes, ranges, NaN, checkpoint mismatch); the message says how."""


@dataclass
class WaveNetConfig:
    sample_rate: int = 16000
    hop_length: int = 80  # audio samples per conditioning frame
    quantization_channels: int = 256  # μ-law classes (μ = quantization_channels - 1)
    layers: int = 20
    stacks: int = 2  # dilations cycle 1, 2, ..., 2**(layers/stacks - 1) in each stack
    residual_channels: int = 64
    gate_channels: int = 128  # before the tanh/sigmoid split; the gated output has half of it
    skip_channels: int = 128
    output_channels: int | None = None  # hidden width of the 2-layer head; None → skip_channels
    cond_channels: int = 0  # frame feature dimension; 0 = no local conditioning
    cond_hidden: int = 128  # width of the frame-rate conditioning network
    cond_layers: int = 4  # residual conv blocks at frame rate
    cond_kernel: int = 5  # their (odd, non-causal) kernel size in frames
    upsample: str = "repeat"  # "repeat": repeat + learned conv; "transposed": transposed conv
    num_speakers: int = 0  # 0 = no global conditioning
    speaker_dim: int = 16
    # Excitation mode (``vocoder/lpc.py``): > 0 makes the network model the residual of an
    # LPC filter of this order, derived from a log-mel envelope that the model's own mel head
    # predicts from the frame features. 0: the network models the waveform itself.
    lpc_order: int = 0
    mel_bands: int = 80  # the envelope's bands (excitation mode)
    mel_fft: int = 400  # its analysis window in samples, centred on each frame
    # Excitation mode: > 0 gives the envelope a frame-rate network of its own with this many
    # blocks (cond_hidden wide), so that it can go on learning without changing the features
    # the WaveNet was trained on. 0: the envelope head reads the conditioning network.
    envelope_layers: int = 0
    # Excitation mode with speakers: one envelope head per speaker (``speaker_mel_head``, a
    # (num_speakers, mel_bands, cond_hidden) table) instead of one for all. The envelope network
    # sees no speaker, so a speaker added to a voice (``tts adapt``) gets its own formants this
    # way, its head fitted to its recordings, while the other rows keep the shared head's values.
    speaker_envelopes: bool = False

    def __post_init__(self) -> None:
        if self.output_channels is None:
            self.output_channels = self.skip_channels
        positive = ("sample_rate", "hop_length", "layers", "stacks", "residual_channels",
                    "gate_channels", "skip_channels", "output_channels", "cond_hidden",
                    "cond_kernel", "speaker_dim")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise VocoderError(
                    f"WaveNetConfig.{name} must be a positive integer, got {value!r}")
        for name in ("cond_channels", "cond_layers", "num_speakers", "lpc_order", "mel_bands",
                     "mel_fft", "envelope_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise VocoderError(f"WaveNetConfig.{name} must be an integer >= 0, got {value!r}")
        if self.quantization_channels < 2:
            raise VocoderError(
                "WaveNetConfig.quantization_channels must be >= 2, got "
                f"{self.quantization_channels}")
        if self.layers % self.stacks:
            raise VocoderError(
                f"WaveNetConfig: layers ({self.layers}) must be a multiple of stacks "
                f"({self.stacks})")
        if self.gate_channels % 2:
            raise VocoderError(
                f"WaveNetConfig.gate_channels must be even (tanh and sigmoid halves), "
                f"got {self.gate_channels}")
        if self.cond_kernel % 2 == 0:
            raise VocoderError(
                "WaveNetConfig.cond_kernel must be odd (centred, non-causal), got "
                f"{self.cond_kernel}")
        if self.lpc_order and (not self.mel_bands or self.mel_fft < self.hop_length):
            raise VocoderError(
                "WaveNetConfig: excitation mode (lpc_order > 0) needs mel_bands > 0 and "
                f"mel_fft >= hop_length, got {self.mel_bands} and {self.mel_fft}")
        if self.envelope_layers and not self.lpc_order:
            raise VocoderError("WaveNetConfig.envelope_layers is for excitation mode only: set "
                               "lpc_order > 0 or envelope_layers = 0")
        if not isinstance(self.speaker_envelopes, bool):
            raise VocoderError("WaveNetConfig.speaker_envelopes must be true or false, got "
                               f"{self.speaker_envelopes!r}")
        if self.speaker_envelopes and not (self.lpc_order and self.num_speakers):
            raise VocoderError("WaveNetConfig.speaker_envelopes needs excitation mode and a "
                               "speaker table (lpc_order > 0, num_speakers > 0)")
        if self.upsample not in UPSAMPLE_MODES:
            raise VocoderError(
                f"WaveNetConfig.upsample must be one of {', '.join(UPSAMPLE_MODES)}, "
                f"got {self.upsample!r}")

    @property
    def dilations(self) -> list[int]:
        per_stack = self.layers // self.stacks
        return [2 ** (i % per_stack) for i in range(self.layers)]

    @property
    def receptive_field(self) -> int:
        """Samples of input that one output sample sees (kernel 2 → one extra per dilation)."""
        return sum(self.dilations) + 1

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "WaveNetConfig":
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise VocoderError(
                f"unknown WaveNet config key(s) {', '.join(unknown)}; known keys: "
                f"{', '.join(sorted(known))}")
        return cls(**values)
