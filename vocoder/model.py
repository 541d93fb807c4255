"""The conditional WaveNet: μ-law classes in, 256-way logits of the next sample out.

Architecture (one residual layer, dilation d, R residual / G gate / S skip channels):

    x (R) ──┬─ causal conv k=2, dilation d ─► (G) + cond_l(t) + speaker_l ─► tanh(a)·σ(b) ─► z (G/2)
            │                                                                                │
            └───────────────────────────── + ◄── residual 1×1 (R) ◄──────────────────────────┤
                                                                   skip 1×1 (S) ─► Σ over layers
    Σ skips ─► ReLU ─► 1×1 (O) ─► ReLU ─► 1×1 (Q logits)

Local conditioning: frame features (B, T_frames, cond_channels) pass a non-causal residual conv
stack at frame rate (wide context, negligible cost), then a linear upsampler with one learned
filter shared by every channel brings them to the sample rate; each layer projects them into its
gate with a 1×1 conv. Because the upsampler is linear and channel-independent it commutes with
those projections, so both training and the generator project at frame rate and interpolate
afterwards (the generator inside its sample loop, see ``vocoder/generate.py``).

Global conditioning: a speaker embedding table, projected into every layer's gate.

Time alignment: ``forward(inputs)`` returns at position t the distribution of sample t given
``inputs[:t+1]``, where ``inputs[t]`` is sample t-1 (``teacher_forcing_inputs`` builds that shift:
the silence class, then the targets without the last one). Conditioning frame ``t // hop_length``
belongs to the sample being predicted.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from vocoder.config import UPSAMPLE_MODES, VocoderError, WaveNetConfig
from vocoder.mulaw import silence_class

# The config and the error live in vocoder.config (no torch); imported from here as before.
__all__ = ["UPSAMPLE_MODES", "VocoderError", "WaveNetConfig", "ConditioningNetwork",
           "Upsampler", "ResidualLayer", "WaveNet", "WAVENET_PARTS", "teacher_forcing_inputs",
           "wavenet_part"]


def teacher_forcing_inputs(target_classes: torch.Tensor, quantization_channels: int = 256
                           ) -> torch.Tensor:
    """Targets (B, T) → model inputs (B, T): the silence class, then targets[:, :-1]."""
    start = torch.full_like(target_classes[:, :1], silence_class(quantization_channels))
    return torch.cat([start, target_classes[:, :-1]], dim=1)  # (B, T)


# The WaveNet's named parts, by the prefixes of their tensors in ``WaveNet.state_dict()``: what
# training hands from one run to another and freezes (``vocoder.train``'s init and freeze) and
# what an envelope graft replaces. Every tensor belongs to one (tested).
WAVENET_PARTS = {
    "conditioning": ("conditioning_network.",),  # the frame-rate network the layers read
    "envelope": ("envelope_network.", "mel_head.", "speaker_mel_head."),  # excitation mode
    "speaker_embedding": ("speaker_embedding.",),
    "sample_network": ("input_embedding.", "upsampler.", "layers.", "head_hidden.",
                       "head_out."),
}


def wavenet_part(name: str) -> str:
    """The part (``WAVENET_PARTS``) of a tensor, by its name in ``WaveNet.state_dict()``."""
    for part, prefixes in WAVENET_PARTS.items():
        if name.startswith(prefixes):
            return part
    raise VocoderError(f"tensor {name!r} belongs to no part of WAVENET_PARTS: add its prefix")


class ConditioningNetwork(nn.Module):
    """Frame features → hidden frame features, non-causal residual conv stack at frame rate."""

    def __init__(self, config: WaveNetConfig, layers: int | None = None):
        super().__init__()
        padding = config.cond_kernel // 2
        self.input_conv = nn.Conv1d(config.cond_channels, config.cond_hidden, config.cond_kernel,
                                    padding=padding)
        self.blocks = nn.ModuleList(
            nn.Conv1d(config.cond_hidden, config.cond_hidden, config.cond_kernel, padding=padding)
            for _ in range(config.cond_layers if layers is None else layers))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h = self.input_conv(features.transpose(1, 2))  # (B, H, T_frames)
        for conv in self.blocks:
            h = h + conv(F.leaky_relu(h, 0.2))  # (B, H, T_frames)
        return h


class Upsampler(nn.Module):
    """Frame rate → sample rate with one learned filter shared by all channels.

    Linear, bias-free and channel-independent on purpose: it then commutes with the per-layer
    1×1 projections, so generation can project at frame rate and interpolate per sample.
    Both modes start as linear interpolation between frame centres.
    """

    def __init__(self, hop_length: int, mode: str):
        super().__init__()
        self.hop_length = hop_length
        self.mode = mode
        if mode == "repeat":
            # Repeat each frame hop times, then smooth over ±hop samples.
            self.filter = nn.Conv1d(1, 1, 2 * hop_length + 1, padding=hop_length, bias=False)
            box = torch.zeros(2 * hop_length + 1)
            start = hop_length - hop_length // 2
            box[start:start + hop_length] = 1.0 / hop_length
            with torch.no_grad():
                self.filter.weight.copy_(box.view(1, 1, -1))
        else:
            self.filter = nn.ConvTranspose1d(1, 1, 2 * hop_length, stride=hop_length, bias=False)
            centre = hop_length - 0.5
            triangle = 1.0 - (torch.arange(2 * hop_length) - centre).abs() / hop_length
            with torch.no_grad():
                self.filter.weight.copy_(triangle.clamp(min=0.0).view(1, 1, -1))

    def convolve(self, frames: torch.Tensor) -> torch.Tensor:
        """The upsampler as its definition: (B, C, T_frames) → (B, C, T_frames * hop)."""
        batch, channels, num_frames = frames.shape
        x = frames.reshape(batch * channels, 1, num_frames)  # (B*C, 1, T_frames)
        num_samples = num_frames * self.hop_length
        if self.mode == "repeat":
            x = self.filter(x.repeat_interleave(self.hop_length, dim=2))  # (B*C, 1, T)
        else:
            x = self.filter(x)  # (B*C, 1, (T_frames + 1) * hop)
            start = self.hop_length // 2  # centre each frame's triangle on its own hop
            x = x[:, :, start:start + num_samples]  # (B*C, 1, T)
        return x.reshape(batch, channels, num_samples)  # (B, C, T)

    def phase_taps(self) -> torch.Tensor:
        """(3, hop): sample f·hop + p is sum_k taps[k, p] · frame[f + k - 1].

        Both modes' filters span at most one frame either side, so three frames cover every
        sample. Read off the impulse response, so gradients reach the learned filter.
        """
        impulse = torch.zeros(1, 1, 3, device=self.filter.weight.device,
                              dtype=self.filter.weight.dtype)
        impulse[0, 0, 1] = 1.0
        response = self.convolve(impulse)[0, 0]  # (3 hop,)
        # The impulse (frame 1) is offset 1 - f from samples of frame f: flip to order by offset.
        return response.view(3, self.hop_length).flip(0)  # (3, hop)

    def forward(self, frames: torch.Tensor, margin: int = 0,
                taps: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, T_frames) → (B, C, (T_frames - 2 margin) · hop), equal to ``convolve``.

        ``margin`` frames at each end are context only: the samples of the frames between
        are returned, computed with their neighbours (zeros beyond the ends). Polyphase form:
        three shifted frame sequences times a (3, hop) matrix, a fraction of the cost of
        convolving at the sample rate.
        """
        if taps is None:
            taps = self.phase_taps()
        batch, channels, num_frames = frames.shape
        kept = num_frames - 2 * margin
        padded = F.pad(frames, (1, 1))  # (B, C, T_frames + 2)
        shifted = torch.stack([padded[:, :, margin + k:margin + k + kept] for k in range(3)],
                              dim=3)  # (B, C, kept, 3)
        samples = torch.matmul(shifted, taps.to(frames.dtype))  # (B, C, kept, hop)
        return samples.reshape(batch, channels, kept * self.hop_length)  # (B, C, T)


class SpeakerMelHead(nn.Module):
    """One envelope head per speaker (``WaveNetConfig.speaker_envelopes``): hidden frames
    (B, H, T) of speaker (B,) → log-mel (B, bands, T), each row a ``mel_head`` of its own."""

    def __init__(self, config: WaveNetConfig):
        super().__init__()
        shared = nn.Conv1d(config.cond_hidden, config.mel_bands, 1)  # the same initialization
        self.weight = nn.Parameter(shared.weight.detach()[:, :, 0].expand(
            config.num_speakers, -1, -1).clone())  # (N, bands, H)
        self.bias = nn.Parameter(shared.bias.detach().expand(
            config.num_speakers, -1).clone())  # (N, bands)

    def forward(self, hidden: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        return (torch.einsum("bmh,bht->bmt", self.weight[speaker], hidden)
                + self.bias[speaker].unsqueeze(2))  # (B, bands, T)


class ResidualLayer(nn.Module):
    def __init__(self, config: WaveNetConfig, dilation: int, has_residual: bool):
        super().__init__()
        self.dilation = dilation
        self.dilated_conv = nn.Conv1d(config.residual_channels, config.gate_channels,
                                      kernel_size=2, dilation=dilation)
        self.cond_proj = (nn.Conv1d(config.cond_hidden, config.gate_channels, 1, bias=False)
                          if config.cond_channels else None)
        self.speaker_proj = (nn.Linear(config.speaker_dim, config.gate_channels, bias=False)
                             if config.num_speakers else None)
        self.skip_conv = nn.Conv1d(config.gate_channels // 2, config.skip_channels, 1)
        # The last layer's residual output would feed nothing.
        self.residual_conv = (nn.Conv1d(config.gate_channels // 2, config.residual_channels, 1)
                              if has_residual else None)

    def forward(self, x: torch.Tensor, cond_frames: torch.Tensor | None,
                speaker: torch.Tensor | None, upsampler: Upsampler | None = None,
                taps: torch.Tensor | None = None, margin: int = 0
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``cond_frames`` (B, H, T_frames + 2 margin) are the conditioning network's frames;
        ``taps`` the upsampler's ``phase_taps()``, computed once per forward."""
        gate = self.dilated_conv(F.pad(x, (self.dilation, 0)))  # (B, G, T) causal
        if self.cond_proj is not None:
            # Project at frame rate, then upsample: equal to the reverse order (the upsampler is
            # linear and per-channel) at 1/hop of the projection's cost.
            projected = self.cond_proj(cond_frames)  # (B, G, T_frames + 2 margin)
            gate = gate + upsampler(projected, margin=margin, taps=taps)  # (B, G, T)
        if self.speaker_proj is not None:
            gate = gate + self.speaker_proj(speaker).unsqueeze(2)  # (B, G, T)
        filt, gate_open = gate.chunk(2, dim=1)  # (B, G/2, T) each
        z = torch.tanh(filt) * torch.sigmoid(gate_open)  # (B, G/2, T)
        skip = self.skip_conv(z)  # (B, S, T)
        if self.residual_conv is not None:
            x = x + self.residual_conv(z)  # (B, R, T)
        return x, skip


class WaveNet(nn.Module):
    def __init__(self, config: WaveNetConfig):
        super().__init__()
        self.config = config
        if config.lpc_order and not config.cond_channels:
            raise VocoderError("excitation mode (lpc_order > 0) predicts its envelope from the "
                               "frame features: it needs cond_channels > 0")
        self.input_embedding = nn.Embedding(config.quantization_channels, config.residual_channels)
        if config.cond_channels:
            self.conditioning_network = ConditioningNetwork(config)
            self.upsampler = Upsampler(config.hop_length, config.upsample)
        else:
            self.conditioning_network = None
            self.upsampler = None
        self.speaker_embedding = (nn.Embedding(config.num_speakers, config.speaker_dim)
                                  if config.num_speakers else None)
        dilations = config.dilations
        self.layers = nn.ModuleList(
            ResidualLayer(config, d, has_residual=i < config.layers - 1)
            for i, d in enumerate(dilations))
        self.head_hidden = nn.Conv1d(config.skip_channels, config.output_channels, 1)
        self.head_out = nn.Conv1d(config.output_channels, config.quantization_channels, 1)
        # Excitation mode: the envelope the LPC filters come from, predicted at frame rate.
        self.mel_head = (nn.Conv1d(config.cond_hidden, config.mel_bands, 1)
                         if config.lpc_order and not config.speaker_envelopes else None)
        self.speaker_mel_head = SpeakerMelHead(config) if config.speaker_envelopes else None
        self.envelope_network = (ConditioningNetwork(config, config.envelope_layers)
                                 if config.lpc_order and config.envelope_layers else None)

    def conditioning(self, features: torch.Tensor) -> torch.Tensor:
        """Frame features (B, T_frames, cond_channels) → hidden frames (B, cond_hidden, T_frames).

        Exposed so that training can attach auxiliary frame-rate heads to it.
        """
        self._check_features(features)
        return self.conditioning_network(features)

    def envelope(self, features: torch.Tensor, hidden: torch.Tensor | None = None,
                 speaker: torch.Tensor | None = None) -> torch.Tensor:
        """Excitation mode: frame features (B, T_frames, C) → predicted log-mel (B, bands, T).
        ``hidden``: ``conditioning(features)`` if already computed (the head may read it);
        ``speaker`` (B,): needed with ``speaker_envelopes``, ignored without."""
        if not self.config.lpc_order:
            raise VocoderError("this WaveNet models the waveform (lpc_order=0): it has no "
                               "envelope head")
        if self.envelope_network is not None:
            self._check_features(features)
            hidden = self.envelope_network(features)
        elif hidden is None:
            hidden = self.conditioning(features)  # (B, H, T)
        if self.speaker_mel_head is not None:
            return self.speaker_mel_head(hidden, self._checked_speaker(speaker, len(hidden)))
        return self.mel_head(hidden)

    def upsampled_conditioning(self, features: torch.Tensor) -> torch.Tensor:
        """Frame features (B, T_frames, C) → sample-rate conditioning (B, cond_hidden, T)."""
        return self.upsampler(self.conditioning(features))

    def forward(self, audio_classes: torch.Tensor, features: torch.Tensor | None = None,
                speaker: torch.Tensor | None = None, context_frames: int = 0,
                conditioning: torch.Tensor | None = None) -> torch.Tensor:
        """μ-law input classes (B, T) → logits (B, Q, T); position t predicts the sample after
        ``audio_classes[:, t]`` (see ``teacher_forcing_inputs``).

        ``context_frames``: ``features`` hold that many frames more on each side of the samples'
        frames, seen by the conditioning network only (training windows, ``vocoder.train``);
        ``conditioning``: ``self.conditioning(features)``, where the caller computed it already.
        """
        config = self.config
        if audio_classes.dim() != 2 or audio_classes.dtype != torch.long:
            raise VocoderError(
                f"audio_classes must be an int64 tensor of shape (batch, samples), got "
                f"{audio_classes.dtype} {tuple(audio_classes.shape)}")
        batch, num_samples = audio_classes.shape
        if audio_classes.numel() and (audio_classes.min() < 0
                                      or audio_classes.max() >= config.quantization_channels):
            raise VocoderError(
                f"audio_classes must lie in [0, {config.quantization_channels - 1}]; "
                "encode audio with vocoder.mulaw.mulaw_encode")
        cond = None
        if config.cond_channels:
            if features is None:
                raise VocoderError(
                    f"this WaveNet is locally conditioned: pass features of shape "
                    f"(batch, frames, {config.cond_channels})")
            self._check_features(features)
            frames = features.shape[1] - 2 * context_frames
            if features.shape[0] != batch or frames * config.hop_length != num_samples:
                raise VocoderError(
                    f"features {tuple(features.shape)} ({context_frames} context frames each "
                    f"side) do not match audio {tuple(audio_classes.shape)}: need the same "
                    f"batch and frames * hop_length ({config.hop_length}) == samples")
            hidden = self.conditioning(features) if conditioning is None else conditioning
            # The upsampler mixes each frame with its neighbours only: one context frame is enough.
            margin = min(context_frames, 1)
            cond = hidden[:, :, context_frames - margin:context_frames + frames + margin]
        elif features is not None:
            raise VocoderError("this WaveNet has no local conditioning (cond_channels=0); "
                               "pass features=None")
        speaker_vector = None
        if config.num_speakers:
            speaker_vector = self.speaker_embedding(self._checked_speaker(speaker, batch))  # (B, D)
        elif speaker is not None:
            raise VocoderError("this WaveNet has no speaker table (num_speakers=0); "
                               "pass speaker=None")

        x = self.input_embedding(audio_classes).transpose(1, 2)  # (B, R, T)
        skip_sum = torch.zeros(batch, config.skip_channels, num_samples,
                               device=x.device, dtype=x.dtype)  # (B, S, T)
        taps = self.upsampler.phase_taps() if self.upsampler is not None else None  # (3, hop)
        for layer in self.layers:
            x, skip = layer(x, cond, speaker_vector, self.upsampler, taps, min(context_frames, 1))
            skip_sum = skip_sum + skip
        hidden = F.relu(self.head_hidden(F.relu(skip_sum)))  # (B, O, T)
        return self.head_out(hidden)  # (B, Q, T)

    def _check_features(self, features: torch.Tensor) -> None:
        config = self.config
        if self.conditioning_network is None:
            raise VocoderError("this WaveNet has no local conditioning (cond_channels=0)")
        if features.dim() != 3 or features.shape[2] != config.cond_channels:
            raise VocoderError(
                f"features must have shape (batch, frames, {config.cond_channels}), got "
                f"{tuple(features.shape)}")
        if not features.is_floating_point():
            raise VocoderError(f"features must be floating point, got {features.dtype}")

    def _checked_speaker(self, speaker: torch.Tensor | None, batch: int) -> torch.Tensor:
        num_speakers = self.config.num_speakers
        if speaker is None:
            raise VocoderError(
                f"this WaveNet has {num_speakers} speakers: pass speaker ids (batch,) in "
                f"[0, {num_speakers - 1}]")
        if speaker.shape != (batch,) or speaker.dtype != torch.long:
            raise VocoderError(
                f"speaker must be an int64 tensor of shape ({batch},), got {speaker.dtype} "
                f"{tuple(speaker.shape)}")
        if speaker.min() < 0 or speaker.max() >= num_speakers:
            raise VocoderError(
                f"speaker id out of range: got {speaker.min().item()}..{speaker.max().item()}, "
                f"this model has speakers 0..{num_speakers - 1}")
        return speaker

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
