"""The fast generator against the training forward, and its sampling behaviour.

The first run compiles the numba loop (twice: float32 and float16 weights); numba caches it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocoder.generate import Generator, _exp_nonpositive, _tanh
from vocoder.io import save_wavenet
from vocoder.model import VocoderError, WaveNet, WaveNetConfig
from vocoder.mulaw import mulaw_encode


def random_model(seed: int = 0, scale: float = 0.3, **overrides) -> WaveNet:
    values = dict(layers=6, stacks=2, residual_channels=8, gate_channels=12, skip_channels=10,
                  output_channels=9, hop_length=10, cond_channels=5, cond_hidden=7, cond_layers=2,
                  cond_kernel=3, num_speakers=3, speaker_dim=4)
    values.update(overrides)
    torch.manual_seed(seed)
    model = WaveNet(WaveNetConfig(**values)).eval()
    with torch.no_grad():  # larger than the default init, so that every path matters
        for parameter in model.parameters():
            parameter.normal_(0.0, scale)
    return model


def model_inputs(model: WaveNet, batch: int, frames: int, seed: int = 1):
    config = model.config
    rng = np.random.default_rng(seed)
    samples = frames * config.hop_length
    inputs = rng.integers(0, config.quantization_channels, (batch, samples))
    features = (rng.standard_normal((batch, frames, config.cond_channels)).astype(np.float32)
                if config.cond_channels else None)
    speakers = rng.integers(0, config.num_speakers, batch) if config.num_speakers else None
    return inputs, features, speakers


def forward_logits(model: WaveNet, inputs, features, speakers) -> torch.Tensor:
    with torch.no_grad():
        logits = model(torch.from_numpy(inputs),
                       None if features is None else torch.from_numpy(features),
                       None if speakers is None else torch.from_numpy(speakers))
    return logits.permute(0, 2, 1)  # (B, T, Q)


EQUIVALENCE_CASES = [
    # layers, stacks, residual, gate, skip, cond, speakers, upsample
    (6, 2, 8, 12, 10, 5, 3, "repeat"),
    (6, 2, 8, 12, 10, 5, 3, "transposed"),
    (5, 1, 7, 10, 6, 0, 0, "repeat"),  # one stack 1..16, odd channel counts, no conditioning
    (4, 2, 16, 32, 16, 3, 0, "repeat"),  # local conditioning only
    (8, 4, 4, 8, 12, 0, 2, "repeat"),  # global conditioning only, 4 stacks of 1, 2
    (4, 2, 40, 72, 70, 3, 2, "repeat"),  # gate and residual+skip rows span several 64-row tiles
]


@pytest.mark.parametrize("layers, stacks, residual, gate, skip, cond, speakers, upsample",
                         EQUIVALENCE_CASES)
def test_teacher_forced_kernel_matches_forward(layers, stacks, residual, gate, skip, cond,
                                               speakers, upsample):
    model = random_model(layers=layers, stacks=stacks, residual_channels=residual,
                         gate_channels=gate, skip_channels=skip, output_channels=skip + 1,
                         cond_channels=cond, num_speakers=speakers, upsample=upsample)
    # longer than the receptive field, so the dilation queues wrap around
    frames = max(6, model.config.receptive_field // model.config.hop_length + 3)
    inputs, features, speaker_ids = model_inputs(model, batch=2, frames=frames)
    expected = forward_logits(model, inputs, features, speaker_ids)
    generator = Generator(model)
    logits = generator.teacher_forced_logits(inputs, features, speaker_ids)
    assert logits.shape == expected.shape
    assert expected.abs().max() > 1.0  # not a trivially flat model
    torch.testing.assert_close(torch.from_numpy(logits), expected, rtol=1e-4, atol=1e-4)


def test_equivalence_test_can_fail():
    """Perturbing one weight (of the last layer's dilated tap) must break the equivalence."""
    model = random_model()
    inputs, features, speakers = model_inputs(model, batch=1, frames=8)
    expected = forward_logits(model, inputs, features, speakers)
    generator = Generator(model)
    # packed as (layer, tile, input, row): last layer, input 0 of the tap at t - dilation, row 0
    generator.gate_weight[-1, 0, 0, 0] += 0.05
    logits = generator.teacher_forced_logits(inputs, features, speakers)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(torch.from_numpy(logits), expected, rtol=1e-4, atol=1e-4)
    # only positions that can see a past input through that tap changed
    difference = np.abs(logits - expected.numpy()).max(axis=2)[0]
    assert difference[0] < 1e-4 and difference[-1] > 1e-4


def test_numpy_reference_step_matches_forward():
    model = random_model(upsample="transposed")
    inputs, features, speakers = model_inputs(model, batch=2, frames=4)
    expected = forward_logits(model, inputs, features, speakers)
    generator = Generator(model)
    prepared = generator.prepare(features, speakers)
    state = generator.init_state(2)
    logits = np.stack([generator.step(state, prepared, inputs[:, t])
                       for t in range(inputs.shape[1])], axis=1)
    torch.testing.assert_close(torch.from_numpy(logits), expected, rtol=1e-4, atol=1e-4)


def test_float16_weights_are_close_but_not_exact():
    model = random_model()
    inputs, features, speakers = model_inputs(model, batch=1, frames=6)
    exact = Generator(model).teacher_forced_logits(inputs, features, speakers)
    half = Generator(model, weights_dtype="float16").teacher_forced_logits(inputs, features,
                                                                            speakers)
    error = np.abs(half - exact).max()
    assert 0 < error < 2e-2 * np.abs(exact).max()


def test_math_helpers_are_accurate():
    x = np.linspace(-12, 12, 20001).astype(np.float32)
    assert max(abs(_tanh(np.float32(v)) - np.tanh(v)) for v in x[::7]) < 2e-6
    negative = np.linspace(-80, 0, 4001).astype(np.float32)
    relative = [abs(_exp_nonpositive(np.float32(v)) / np.exp(np.float64(v)) - 1)
                for v in negative[::3]]
    assert max(relative) < 1e-6


def test_sampling_follows_the_softmax_with_temperature():
    """A model whose logits ignore the input: the sample histogram must match softmax(b / T)."""
    model = random_model(cond_channels=0, num_speakers=0)
    rng = np.random.default_rng(0)
    bias = rng.normal(0.0, 1.5, 256).astype(np.float32)
    with torch.no_grad():
        model.head_out.weight.zero_()
        model.head_out.bias.copy_(torch.from_numpy(bias))
    generator = Generator(model)
    draws = 40000
    for temperature in (1.0, 2.0):
        audio = generator.generate(num_samples=draws, temperature=temperature, seed=3)[0]
        counts = np.bincount(mulaw_encode(audio), minlength=256)
        probability = np.exp(bias / temperature - (bias / temperature).max())
        probability /= probability.sum()
        expected = probability * draws
        # classes expected fewer than 5 times are pooled, as the chi-square test needs
        rare = expected < 5
        observed, expected = counts[~rare], expected[~rare]
        if rare.any():
            observed = np.append(observed, counts[rare].sum())
            expected = np.append(expected, probability[rare].sum() * draws)
        bins = len(expected)
        chi_square = ((observed - expected) ** 2 / expected).sum()
        assert chi_square < bins + 6 * np.sqrt(2 * bins)  # mean + 6 sd of chi-square(bins - 1)
    greedy = generator.generate(num_samples=50, temperature=0.0, seed=1)[0]
    assert (mulaw_encode(greedy) == np.argmax(bias)).all()


def test_generation_is_deterministic_per_seed():
    model = random_model()
    _, features, speakers = model_inputs(model, batch=1, frames=20)
    generator = Generator(model)
    first = generator.generate(features, speakers, seed=5)[0]
    again = generator.generate(features, speakers, seed=5)[0]
    other = generator.generate(features, speakers, seed=6)[0]
    assert first.dtype == np.float32 and first.shape == (200,)
    assert np.abs(first).max() <= 1.0
    np.testing.assert_array_equal(first, again)
    assert (first != other).mean() > 0.5


def test_batched_generation_equals_one_at_a_time():
    model = random_model()
    config = model.config
    rng = np.random.default_rng(2)
    lengths = [13, 5, 21, 8]  # frames; different lengths finish at different steps
    features = [rng.standard_normal((n, config.cond_channels)).astype(np.float32)
                for n in lengths]
    speakers = [0, 2, 1, 2]
    seeds = [11, 12, 13, 14]
    generator = Generator(model)
    alone = [generator.generate([f], [s], seed=[seed])[0]
             for f, s, seed in zip(features, speakers, seeds)]
    for threads in (1, 2):
        batched = generator.generate(features, speakers, seed=seeds, threads=threads)
        assert [len(a) for a in batched] == [n * config.hop_length for n in lengths]
        for one, together in zip(alone, batched):
            np.testing.assert_array_equal(one, together)
    # an int seed means seed + index
    np.testing.assert_array_equal(generator.generate(features[:2], speakers[:2], seed=11)[1],
                                  generator.generate([features[1]], [speakers[1]], seed=12)[0])


def test_state_can_be_run_in_chunks():
    """Explicit state: two runs of n/2 steps give what one run of n steps gives."""
    model = random_model()
    _, features, speakers = model_inputs(model, batch=2, frames=6)
    generator = Generator(model)
    prepared = generator.prepare(features, speakers)
    whole_state = generator.init_state(2, seeds=[1, 2])
    whole, _ = generator.run(whole_state, prepared, 60)
    state = generator.init_state(2, seeds=[1, 2])
    first, _ = generator.run(state, prepared, 25)
    second, _ = generator.run(state, prepared, 35)
    np.testing.assert_array_equal(np.concatenate([first, second], axis=1), whole)
    assert (state.time == 60).all()


def test_generator_from_saved_checkpoint(tmp_path):
    model = random_model(seed=4)
    save_wavenet(model, tmp_path)
    inputs, features, speakers = model_inputs(model, batch=1, frames=5)
    logits = Generator.load(tmp_path).teacher_forced_logits(inputs, features, speakers)
    torch.testing.assert_close(torch.from_numpy(logits),
                               forward_logits(model, inputs, features, speakers),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(features=[np.zeros((4, 6), np.float32)], speakers=[0]),
     r"utterance 0 have shape \(4, 6\); this vocoder expects \(frames, 5\)"),
    (dict(features=[np.full((4, 5), np.nan, np.float32)], speakers=[0]), "NaN/inf .*frame 0"),
    (dict(features=[np.zeros((4, 5), np.float32)], speakers=[3]), "speaker id 3 out of range"),
    (dict(features=[np.zeros((4, 5), np.float32)], speakers=None), "3 speakers"),
    (dict(features=None, speakers=[0]), "needs features"),
    (dict(features=[np.zeros((4, 5), np.float32)], speakers=[0], temperature=-1.0),
     "temperature"),
    (dict(features=[np.zeros((4, 5), np.int64)], speakers=[0]), "floating point"),
])
def test_generate_rejects_bad_input_clearly(kwargs, message):
    generator = Generator(random_model())
    with pytest.raises(VocoderError, match=message):
        generator.generate(**kwargs)


def test_unconditioned_model_rejects_features():
    generator = Generator(random_model(cond_channels=0, num_speakers=0))
    with pytest.raises(VocoderError, match="no local conditioning"):
        generator.generate([np.zeros((3, 5), np.float32)])
    with pytest.raises(VocoderError, match="no speaker table"):
        generator.generate(num_samples=10, speakers=[0])


def test_logits_do_not_depend_on_batch_neighbours():
    """Bit-identical logits for an utterance alone, paired, or last of an odd batch."""
    model = random_model()
    inputs, features, speakers = model_inputs(model, batch=3, frames=6)
    generator = Generator(model)
    together = generator.teacher_forced_logits(inputs, features, speakers)
    for b in range(3):
        alone = generator.teacher_forced_logits(inputs[b:b + 1], features[b:b + 1],
                                                speakers[b:b + 1])
        np.testing.assert_array_equal(alone[0], together[b])
