"""WaveNet model, μ-law coding and checkpoint I/O (tiny models, CPU, a few seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vocoder.io import load_wavenet, save_wavenet, wavenet_from_config
from vocoder.model import (Upsampler, VocoderError, WaveNet, WaveNetConfig,
                           teacher_forcing_inputs)
from vocoder.mulaw import mulaw_decode, mulaw_encode, silence_class


def tiny_config(**overrides) -> WaveNetConfig:
    values = dict(layers=6, stacks=2, residual_channels=8, gate_channels=12, skip_channels=10,
                  output_channels=9, hop_length=10, cond_channels=5, cond_hidden=7, cond_layers=2,
                  cond_kernel=3, num_speakers=3, speaker_dim=4)
    values.update(overrides)
    return WaveNetConfig(**values)


def tiny_model(seed: int = 0, **overrides) -> WaveNet:
    torch.manual_seed(seed)
    return WaveNet(tiny_config(**overrides)).eval()


# ----------------------------------------------------------------------------- μ-law
def test_mulaw_roundtrip_error_is_within_one_quantization_step():
    audio = np.linspace(-1.0, 1.0, 10001)
    classes = mulaw_encode(audio)
    assert classes.dtype == np.int64 and classes.min() == 0 and classes.max() == 255
    assert (np.diff(classes) >= 0).all()  # monotonic
    decoded = mulaw_decode(classes)

    def compand(x):
        return np.sign(x) * np.log1p(255 * np.abs(x)) / np.log1p(255)

    # Rounding happens in the companded domain: at most half a step (1/255) there.
    assert np.abs(compand(decoded) - compand(audio)).max() <= 1 / 255 + 1e-5
    quiet = np.abs(audio) < 0.01
    assert np.abs(decoded[quiet] - audio[quiet]).max() < 5e-4


def test_mulaw_numpy_and_torch_agree_and_silence_class():
    audio = np.random.default_rng(0).uniform(-1.2, 1.2, 1000)
    np.testing.assert_array_equal(mulaw_encode(audio),
                                  mulaw_encode(torch.from_numpy(audio)).numpy())
    classes = np.arange(256)
    np.testing.assert_allclose(mulaw_decode(classes),
                               mulaw_decode(torch.from_numpy(classes)).numpy(), atol=1e-6)
    assert mulaw_encode(np.array(0.0)) == silence_class(256) == 128
    assert abs(float(mulaw_decode(np.array(128)))) < 1e-4
    assert mulaw_encode(np.array([-5.0, 5.0])).tolist() == [0, 255]  # clipped
    np.testing.assert_array_equal(mulaw_encode(mulaw_decode(classes)), classes)


def test_mulaw_rejects_bad_values():
    with pytest.raises(ValueError, match="NaN"):
        mulaw_encode(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        mulaw_decode(np.array([0, 256]))


# ----------------------------------------------------------------------------- config
def test_default_config_is_two_stacks_of_1_to_512():
    config = WaveNetConfig()
    assert config.dilations == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] * 2
    assert config.receptive_field == 2 * 1023 + 1
    assert config.output_channels == config.skip_channels


def test_config_roundtrip_and_unknown_keys():
    config = tiny_config(upsample="transposed")
    assert WaveNetConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(VocoderError, match="unknown WaveNet config key.*residual_chanels"):
        WaveNetConfig.from_dict({**config.to_dict(), "residual_chanels": 3})


@pytest.mark.parametrize("overrides, message", [
    (dict(layers=5, stacks=2), "multiple of stacks"),
    (dict(gate_channels=7), "even"),
    (dict(upsample="linear"), "upsample must be one of"),
    (dict(cond_kernel=4), "odd"),
    (dict(residual_channels=0), "residual_channels must be a positive integer"),
])
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(VocoderError, match=message):
        tiny_config(**overrides)


# ----------------------------------------------------------------------------- forward
def test_forward_shapes_and_conditioning_output():
    model = tiny_model()
    config = model.config
    audio = torch.randint(0, 256, (2, 40))
    features = torch.randn(2, 4, config.cond_channels)
    speaker = torch.tensor([0, 2])
    logits = model(audio, features, speaker)
    assert logits.shape == (2, 256, 40)
    assert model.conditioning(features).shape == (2, config.cond_hidden, 4)
    assert model.upsampled_conditioning(features).shape == (2, config.cond_hidden, 40)


def test_receptive_field_is_exact_and_causal():
    """Changing input t0 changes exactly the logits at t0 .. t0 + receptive_field - 1."""
    model = tiny_model(cond_channels=0, num_speakers=0, layers=6, stacks=2)  # dilations 1,2,4 x2
    receptive_field = model.config.receptive_field
    assert receptive_field == 15
    with torch.no_grad():  # strong weights, so the longest path is far above rounding noise
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.5)
    audio = torch.randint(0, 256, (1, 60))
    t0 = 20
    changed = audio.clone()
    changed[0, t0] = (audio[0, t0] + 100) % 256
    with torch.no_grad():
        difference = (model(audio) - model(changed)).abs().amax(dim=1)[0]  # (T,)
    affected = torch.nonzero(difference > 1e-6).flatten().tolist()
    assert affected == list(range(t0, t0 + receptive_field))


def test_speaker_and_features_change_the_output():
    model = tiny_model()
    audio = torch.randint(0, 256, (1, 30))
    features = torch.randn(1, 3, model.config.cond_channels)
    with torch.no_grad():
        base = model(audio, features, torch.tensor([0]))
        other_speaker = model(audio, features, torch.tensor([1]))
        other_features = model(audio, features + 1.0, torch.tensor([0]))
    assert (base - other_speaker).abs().max() > 1e-3
    assert (base - other_features).abs().max() > 1e-3


def test_teacher_forcing_inputs_shift_by_one():
    targets = torch.tensor([[5, 6, 7, 8]])
    assert teacher_forcing_inputs(targets).tolist() == [[128, 5, 6, 7]]


@pytest.mark.parametrize("mode", ["repeat", "transposed"])
def test_upsampler_is_linear_and_commutes_with_channel_projections(mode):
    """What the generator relies on: upsample(W @ c) == W @ upsample(c)."""
    upsampler = Upsampler(hop_length=10, mode=mode)
    with torch.no_grad():
        upsampler.filter.weight.normal_()  # any learned filter, not just the initial one
        frames = torch.randn(2, 6, 7)  # (B, C, T_frames)
        weight = torch.randn(5, 6)
        projected_then_upsampled = upsampler(torch.einsum("oc,bcf->bof", weight, frames))
        upsampled_then_projected = torch.einsum("oc,bct->bot", weight, upsampler(frames))
    assert projected_then_upsampled.shape == (2, 5, 70)
    torch.testing.assert_close(projected_then_upsampled, upsampled_then_projected,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["repeat", "transposed"])
@pytest.mark.parametrize("margin", [0, 1, 2])
def test_polyphase_upsampler_equals_its_convolution(mode, margin):
    """Training and generation use the (3, hop) polyphase form; it must equal the definition."""
    upsampler = Upsampler(hop_length=10, mode=mode)
    with torch.no_grad():
        upsampler.filter.weight.normal_()
        frames = torch.randn(2, 4, 9)  # (B, C, T_frames)
        expected = upsampler.convolve(frames)[:, :, margin * 10:(9 - margin) * 10]
        polyphase = upsampler(frames, margin=margin)
    assert polyphase.shape == (2, 4, (9 - 2 * margin) * 10)
    torch.testing.assert_close(polyphase, expected, rtol=1e-5, atol=1e-5)


def test_polyphase_upsampler_passes_gradients_to_the_filter():
    upsampler = Upsampler(hop_length=8, mode="repeat")
    upsampler(torch.randn(1, 3, 5)).square().sum().backward()
    assert upsampler.filter.weight.grad is not None
    assert upsampler.filter.weight.grad.abs().sum() > 0


def test_upsampler_starts_as_interpolation():
    frames = torch.full((1, 1, 6), 3.0)
    for mode in ("repeat", "transposed"):
        upsampled = Upsampler(hop_length=8, mode=mode)(frames)[0, 0]
        # A constant signal stays constant away from the zero-padded edges.
        torch.testing.assert_close(upsampled[8:-8], torch.full((32,), 3.0), rtol=0, atol=1e-5)


def test_forward_backward_step_learns():
    model = tiny_model().train()
    config = model.config
    generator = torch.Generator().manual_seed(1)
    targets = torch.randint(0, 256, (2, 50), generator=generator)
    features = torch.randn(2, 5, config.cond_channels, generator=generator)
    speaker = torch.tensor([1, 2])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(5):
        logits = model(teacher_forcing_inputs(targets), features, speaker)
        loss = F.cross_entropy(logits, targets)
        optimizer.zero_grad()
        loss.backward()
        for name, parameter in model.named_parameters():
            assert parameter.grad is not None, name
            assert torch.isfinite(parameter.grad).all(), name
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(np.log(256), rel=0.1)  # starts near uniform
    assert losses[-1] < losses[0] - 0.05


@pytest.mark.parametrize("call, message", [
    (lambda m: m(torch.randint(0, 256, (1, 30)), torch.randn(1, 3, 4), torch.tensor([0])),
     r"features must have shape \(batch, frames, 5\)"),
    (lambda m: m(torch.randint(0, 256, (1, 30)), torch.randn(1, 4, 5), torch.tensor([0])),
     "frames \\* hop_length"),
    (lambda m: m(torch.randint(0, 256, (1, 30)), None, torch.tensor([0])), "locally conditioned"),
    (lambda m: m(torch.randint(0, 256, (1, 30)), torch.randn(1, 3, 5), torch.tensor([3])),
     "speaker id out of range.*0..2"),
    (lambda m: m(torch.randint(0, 256, (1, 30)), torch.randn(1, 3, 5), None), "3 speakers"),
    (lambda m: m(torch.full((1, 30), 256), torch.randn(1, 3, 5), torch.tensor([0])),
     r"\[0, 255\]"),
    (lambda m: m(torch.rand(1, 30), torch.randn(1, 3, 5), torch.tensor([0])), "int64"),
])
def test_forward_rejects_bad_input_clearly(call, message):
    with pytest.raises(VocoderError, match=message):
        call(tiny_model())


# ----------------------------------------------------------------------------- checkpoints
def test_save_load_roundtrip(tmp_path):
    model = tiny_model(seed=3, upsample="transposed")
    save_wavenet(model, tmp_path / "voc")
    assert sorted(p.name for p in (tmp_path / "voc").iterdir()) == ["wavenet.json",
                                                                     "wavenet.safetensors"]
    for path in (tmp_path / "voc", tmp_path / "voc" / "wavenet.safetensors"):
        loaded = load_wavenet(path)
        assert loaded.config == model.config
        audio = torch.randint(0, 256, (1, 20))
        features = torch.randn(1, 2, 5)
        with torch.no_grad():
            torch.testing.assert_close(loaded(audio, features, torch.tensor([1])),
                                       model(audio, features, torch.tensor([1])),
                                       rtol=0, atol=0)


def test_float16_storage_halves_the_file_and_loads_as_rounded_float32(tmp_path):
    from safetensors import safe_open

    model = tiny_model(seed=4)
    save_wavenet(model, tmp_path / "f32")
    save_wavenet(model, tmp_path / "f16", storage_dtype=torch.float16)
    f32 = (tmp_path / "f32" / "wavenet.safetensors").stat().st_size
    f16 = (tmp_path / "f16" / "wavenet.safetensors").stat().st_size
    assert f16 < 0.6 * f32
    with safe_open(str(tmp_path / "f16" / "wavenet.safetensors"), "pt") as handle:
        dtypes = {handle.get_tensor(name).dtype for name in handle.keys()}
    assert dtypes == {torch.float16}
    loaded = load_wavenet(tmp_path / "f16")
    for name, value in loaded.state_dict().items():
        assert value.dtype == torch.float32
        torch.testing.assert_close(value, model.state_dict()[name].half().float(), rtol=0, atol=0)


def test_load_rejects_checkpoint_of_another_config(tmp_path):
    save_wavenet(tiny_model(), tmp_path)
    config = json.loads((tmp_path / "wavenet.json").read_text())
    config["skip_channels"] = 11
    (tmp_path / "wavenet.json").write_text(json.dumps(config))
    with pytest.raises(VocoderError, match=r"tensor 'layers.0.skip_conv.weight' has shape "
                                           r"\(10, 6, 1\), the config needs \(11, 6, 1\)"):
        load_wavenet(tmp_path)

    config["skip_channels"] = 10
    config["num_speakers"] = 0
    (tmp_path / "wavenet.json").write_text(json.dumps(config))
    with pytest.raises(VocoderError, match="unexpected tensor 'layers.0.speaker_proj.weight'"):
        load_wavenet(tmp_path)

    config["num_speakers"] = 3
    config["color"] = "blue"
    (tmp_path / "wavenet.json").write_text(json.dumps(config))
    with pytest.raises(VocoderError, match="unknown WaveNet config key.*color"):
        load_wavenet(tmp_path)


def test_load_reports_missing_files(tmp_path):
    with pytest.raises(VocoderError, match="does not exist"):
        load_wavenet(tmp_path)
    with pytest.raises(VocoderError, match="expected a directory"):
        load_wavenet(tmp_path / "model.pt")


def test_wavenet_from_config_dict_and_weights(tmp_path):
    """The voice bundle path: config values from voice.json, weights from a safetensors file."""
    model = tiny_model(seed=5)
    save_wavenet(model, tmp_path)
    loaded = wavenet_from_config(model.config.to_dict(), tmp_path / "wavenet.safetensors")
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0)
    with pytest.raises(VocoderError,
                       match="unexpected tensor 'conditioning_network.blocks.0.bias'"):
        wavenet_from_config({**model.config.to_dict(), "cond_channels": 0},
                            tmp_path / "wavenet.safetensors")
    with pytest.raises(VocoderError, match="do not exist"):
        wavenet_from_config(model.config.to_dict(), tmp_path / "other.safetensors")
