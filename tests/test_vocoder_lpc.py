"""Excitation mode: LPC filters from a log-mel envelope, residual targets, and generation
through the synthesis filter. Tiny real models on the tone corpus of test_vocoder_train."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.test_vocoder_train import (HOP, SR, read_log, tiny_model_config, tiny_train_config,
                                      write_prepared_corpus)
from vocoder.data import IGNORE_INDEX, WaveNetDataset
from vocoder.generate import Generator
from vocoder.io import load_wavenet
from vocoder.lpc import (LPCError, LPCSpec, inverse_filter, log_mel, mel_basis, mel_to_lpc,
                         synthesis_filter)
from vocoder.model import VocoderError, WaveNet, WaveNetConfig
from vocoder.mulaw import mulaw_decode, mulaw_encode, silence_class
from vocoder.train import (MelSpectrogram, TrainingError, ema_wavenet_from_checkpoint,
                           export_ema, load_checkpoint, train)

N_FFT, BANDS, ORDER = 400, 40, 16


def resonance(hz: float, seconds: float = 0.5, seed: int = 0) -> np.ndarray:
    """White noise through one sharp two-pole resonator at ``hz``."""
    radius, theta = 0.97, 2 * np.pi * hz / SR
    noise = np.random.default_rng(seed).standard_normal(int(seconds * SR) // HOP * HOP)
    a1, a2 = -2 * radius * np.cos(theta), radius ** 2
    out = np.zeros(len(noise) + 2)  # y[n] = x[n] - a1 y[n-1] - a2 y[n-2], zero history
    for n, x in enumerate(noise):
        out[n + 2] = x - a1 * out[n + 1] - a2 * out[n]
    return 0.05 * out[2:]


def spectral_flatness(signal: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(signal.reshape(-1, 400) * np.hanning(400), axis=1)) ** 2
    power = power.mean(axis=0) + 1e-12
    return float(np.exp(np.log(power).mean()) / power.mean())


def test_log_mel_matches_the_training_mel_spectrogram():
    audio = resonance(700.0).astype(np.float32)
    expected = MelSpectrogram(SR, HOP, N_FFT, BANDS)(torch.from_numpy(audio)[None])[0].numpy()
    np.testing.assert_allclose(log_mel(audio, mel_basis(SR, N_FFT, BANDS), HOP), expected,
                               atol=1e-4)


@pytest.mark.parametrize("hz", [500.0, 1000.0, 2500.0])
def test_the_filter_of_a_resonance_peaks_at_it_and_whitens_it(hz):
    audio = resonance(hz)
    basis = mel_basis(SR, N_FFT, BANDS)
    coefficients = mel_to_lpc(log_mel(audio, basis, HOP), basis, ORDER, SR)  # (T, order + 1)
    assert coefficients.shape == (len(audio) // HOP, ORDER + 1)
    np.testing.assert_array_equal(coefficients[:, 0], 1.0)
    response = np.abs(np.fft.rfft(coefficients[len(coefficients) // 2], n=1600))
    peak_hz = np.argmin(response) * SR / 1600  # the envelope 1/|A| peaks where |A| is least
    assert abs(peak_hz - hz) < 0.15 * hz
    residual = inverse_filter(audio, coefficients, HOP)
    assert spectral_flatness(residual) > 3 * spectral_flatness(audio)


def test_synthesis_filter_inverts_the_inverse_filter_with_filters_changing_every_frame():
    rng = np.random.default_rng(1)
    audio = np.concatenate([resonance(600.0, 0.2, 1), resonance(2000.0, 0.2, 2)])
    basis = mel_basis(SR, N_FFT, BANDS)
    coefficients = mel_to_lpc(log_mel(audio, basis, HOP), basis, ORDER, SR)
    assert len(np.unique(coefficients[:, 1].round(6))) > 10  # really frame-varying
    residual = inverse_filter(audio, coefficients, HOP)
    np.testing.assert_allclose(synthesis_filter(residual, coefficients, HOP), audio, atol=1e-9)
    noise = rng.standard_normal(len(audio))
    np.testing.assert_allclose(inverse_filter(synthesis_filter(noise, coefficients, HOP),
                                              coefficients, HOP), noise, atol=1e-9)


def test_filters_of_any_envelope_are_stable():
    basis = mel_basis(SR, N_FFT, BANDS)
    rng = np.random.default_rng(2)
    envelopes = [rng.normal(-4, 3, (BANDS, 20)),  # ragged noise
                 np.full((BANDS, 3), np.log(1e-5)),  # digital silence
                 np.where(np.arange(BANDS)[:, None] == 10, 5.0, -11.0) * np.ones((1, 4))]  # a spike
    for envelope in envelopes:
        for a in mel_to_lpc(envelope, basis, 24, SR):
            assert np.isfinite(a).all()
            assert np.abs(np.roots(a)).max(initial=0.0) < 1.0


def test_bad_lpc_inputs_are_clear_errors():
    basis = mel_basis(SR, N_FFT, BANDS)
    with pytest.raises(LPCError, match="log-mel must be"):
        mel_to_lpc(np.zeros((BANDS + 1, 3)), basis, ORDER, SR)
    with pytest.raises(LPCError, match="fewer than the signal"):
        synthesis_filter(np.zeros(5 * HOP), np.ones((2, ORDER + 1)), HOP)
    with pytest.raises(VocoderError, match="excitation mode"):
        WaveNet(WaveNetConfig(lpc_order=16, cond_channels=0))
    with pytest.raises(VocoderError, match="excitation mode"):
        WaveNetConfig(lpc_order=16, cond_channels=5, mel_bands=0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    prep = tmp_path_factory.mktemp("prep")
    write_prepared_corpus(prep, [30, 45, 6, 25], ["train", "train", "train", "valid"])
    return prep


def envelope_config(**overrides):
    from vocoder.envelope import EnvelopeTrainConfig

    values = dict(batch_size=4, lr=1e-2, num_threads=1)
    values.update(overrides)
    return EnvelopeTrainConfig(**values)


def excitation_config(**overrides) -> WaveNetConfig:
    values = dict(lpc_order=8, mel_bands=8, mel_fft=160, cond_channels=5, num_speakers=2)
    values.update(overrides)
    return tiny_model_config(**values)


def test_excitation_windows_hold_the_residual_and_the_recording(corpus):
    config = excitation_config()
    spec = LPCSpec(config.lpc_order, config.mel_bands, config.mel_fft, SR, HOP)
    plain = WaveNetDataset(corpus, "train", window_frames=10)
    excitation = WaveNetDataset(corpus, "train", window_frames=10, lpc=spec)
    for index in range(4):
        window, reference = excitation[index], plain[index]
        heard = reference["targets"] != IGNORE_INDEX  # past the end: silence, not ignored
        torch.testing.assert_close(window["waveform"][heard], reference["targets"][heard])
        assert (window["waveform"][~heard] == silence_class(256)).all()
        torch.testing.assert_close(window["features"], reference["features"])
        assert not torch.equal(window["targets"], reference["targets"])
    # The targets are the μ-law residual of the whole recording under its own filters.
    utterance = excitation.utterances[0]
    samples = utterance.num_frames * HOP
    waveform = np.asarray(mulaw_decode(
        plain._audio[utterance.sample_offset:utterance.sample_offset + samples].astype(np.int64)))
    first = excitation.window(0, 0)["targets"].numpy()
    expected = mulaw_encode(np.clip(spec.residual(
        _recording(corpus, utterance.utt_id)), -1, 1).astype(np.float32))[:len(first)]
    assert np.mean(first == expected) > 0.99
    # The residual is much quieter than the tones it comes from.
    residual = np.asarray(mulaw_decode(excitation._audio.astype(np.int64)))
    assert np.std(residual) < 0.5 * np.std(waveform)


def _recording(prep, utt_id: str) -> np.ndarray:
    import soundfile as sf

    speaker = utt_id.rsplit("_", 1)[0]
    audio, _ = sf.read(prep / "wav" / speaker / f"{utt_id}.wav", dtype="float32")
    padded = np.zeros(-(-len(audio) // HOP) * HOP, np.float32)
    padded[:len(audio)] = audio
    return padded


def test_an_excitation_model_trains_exports_and_generates_through_its_filters(corpus, tmp_path):
    config = excitation_config()
    result = train(tiny_train_config(corpus, tmp_path / "exp", max_steps=30, warmup_steps=0,
                                     lr=1e-2, eval_every=1000, ckpt_every=30), config)
    events = [e for e in read_log(tmp_path / "exp") if e["event"] == "train"]
    assert np.mean([e["loss"] for e in events[-5:]]) < events[0]["loss"] - 0.5
    assert np.mean([e["aux_loss"] for e in events[-5:]]) < 0.85 * events[0]["aux_loss"]
    assert result.model.mel_head is not None  # the head belongs to the WaveNet here

    export_ema(tmp_path / "exp", tmp_path / "voice")
    model = load_wavenet(tmp_path / "voice")
    assert model.config.lpc_order == 8
    assert any(k.startswith("mel_head.") for k in model.state_dict())

    generator = Generator(model)
    features = [np.load(corpus / "cond" / "spk_a" / "spk_a_000.npy"),
                np.load(corpus / "cond" / "spk_b" / "spk_b_001.npy")]
    audio = generator.generate(features, [0, 1], seed=3, threads=1)
    assert [len(a) for a in audio] == [30 * HOP, 45 * HOP]
    assert all(np.isfinite(a).all() and a.dtype == np.float32 for a in audio)
    # The same draws, decoded by hand: μ-law residual → the filters of the predicted envelope.
    prepared = generator.prepare(features[1:], [1])
    state = generator.init_state(1, [4])  # generate() gave utterance 1 the seed 3 + 1
    classes, _ = generator.run(state, prepared, 45 * HOP, 1.0)
    with torch.no_grad():
        envelope = model.envelope(torch.from_numpy(features[1])[None])[0].double().numpy()
    filters = mel_to_lpc(envelope, mel_basis(SR, 160, 8), 8, SR)
    expected = synthesis_filter(np.asarray(mulaw_decode(classes[0])), filters, HOP)
    np.testing.assert_allclose(audio[1], np.clip(expected, -1, 1), atol=1e-5)


def test_an_excitation_run_can_start_from_a_waveform_run(corpus, tmp_path):
    waveform = train(tiny_train_config(corpus, tmp_path / "wave", max_steps=2,
                                       aux_mel_bands=8, aux_mel_fft=160), tiny_model_config())
    excitation = train(tiny_train_config(corpus, tmp_path / "exc", max_steps=1,
                                         init=[f"all:{tmp_path / 'wave' / 'checkpoint.pt'}"],
                                         lr=1e-9, warmup_steps=0), excitation_config())
    before = load_checkpoint(tmp_path / "wave" / "checkpoint.pt")["ema"]  # with its mel head
    after = excitation.model.state_dict()
    assert waveform.step == 2
    torch.testing.assert_close(after["mel_head.weight"], before["mel_head.weight"],
                               atol=1e-6, rtol=0)
    torch.testing.assert_close(after["layers.0.dilated_conv.weight"],
                               before["wavenet.layers.0.dilated_conv.weight"], atol=1e-6, rtol=0)


def test_an_excitation_model_needs_the_auxiliary_loss(corpus, tmp_path):
    with pytest.raises(TrainingError, match="aux_mel_weight"):
        train(tiny_train_config(corpus, tmp_path / "exp", aux_mel_weight=0.0),
              excitation_config())


def test_envelope_pretraining_lowers_the_envelope_loss_and_seeds_a_run(corpus, tmp_path):
    from vocoder.envelope import main as envelope_main

    train(tiny_train_config(corpus, tmp_path / "wave", max_steps=2, aux_mel_bands=8,
                            aux_mel_fft=160), tiny_model_config())
    shape = tmp_path / "shape.json"  # a recipe's model section, as recipes/demo keeps them
    shape.write_text(json.dumps({"model": tiny_model_config().to_dict()}))
    assert envelope_main(["--prep", str(corpus), "--out", str(tmp_path / "env"),
                          "--config", str(shape),
                          "--set", f"train.init=all:{tmp_path / 'wave' / 'checkpoint.pt'}",
                          "--set", "model.lpc_order=8", "--set", "mel_bands=8",
                          "--set", "mel_fft=160", "--set", "train.minutes=0.05",
                          "--set", "batch_size=4", "--set", "lr=1e-2",
                          "--set", "num_threads=1"]) == 0
    history = load_checkpoint(tmp_path / "env" / "checkpoint.pt")["history"]
    assert history[-1]["step"] > 5
    assert history[-1]["valid_l1"] < 0.8 * history[0]["valid_l1"]
    # A run started from it begins with the pretrained envelope head.
    result = train(tiny_train_config(corpus, tmp_path / "exc", max_steps=1, lr=1e-9,
                                     init=[f"all:{tmp_path / 'env' / 'checkpoint.pt'}"]),
                   excitation_config())
    pretrained = load_checkpoint(tmp_path / "env" / "checkpoint.pt")["model"]
    torch.testing.assert_close(result.model.state_dict()["mel_head.weight"],
                               pretrained["wavenet.mel_head.weight"], atol=1e-6, rtol=0)


def test_envelope_pretraining_of_a_waveform_model_is_a_clear_error(corpus, tmp_path, capsys):
    from vocoder.envelope import main as envelope_main

    train(tiny_train_config(corpus, tmp_path / "wave", max_steps=1), tiny_model_config())
    assert envelope_main(["--prep", str(corpus), "--out", str(tmp_path / "env"),
                          "--set", f"init=all:{tmp_path / 'wave' / 'checkpoint.pt'}"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("vocoder.envelope: error: ") and "lpc_order" in error[-1]


@pytest.fixture(scope="module")
def excitation_voice(tiny_excitation_voice):
    return tiny_excitation_voice


def test_an_excitation_voice_speaks_through_the_synthesizer(excitation_voice):
    from tts.synthesizer import Synthesizer

    synth = Synthesizer.from_pretrained(excitation_voice)
    assert synth.generator.config.lpc_order == 12
    first = synth.synthesize("A red fox.", "p225", seed=5)
    again = synth.synthesize("A red fox.", "p225", seed=5)
    other = synth.synthesize("A red fox.", "p225", seed=6)
    plan = synth.plan(next(synth.phonemize("A red fox.")), synth.speaker_index("p225"))
    assert len(first) == plan.num_frames * synth.generator.config.hop_length
    assert np.isfinite(first).all() and np.abs(first).max() <= 1.0
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_the_envelope_benchmark_scores_every_speaker_and_its_teacher(excitation_voice, tiny_voice,
                                                                     capsys):
    from benchmarks.envelope_intelligibility import main as benchmark

    assert benchmark(["--voice", str(excitation_voice), "--sentences", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [line.split("|") for line in lines if line.startswith("| p2")]
    assert [row[1].strip() for row in rows] == ["p225", "p226"]
    for row in rows:  # a WER in % for the voice and for its flite teacher
        assert 0.0 <= float(row[2]) and 0.0 <= float(row[3]) <= 100.0
    worst = max(float(row[2]) for row in rows)
    assert lines[-1] == f"worst_envelope_wer {worst:.1f}"
    with pytest.raises(SystemExit) as exit_info:  # a waveform voice has no envelope
        benchmark(["--voice", str(tiny_voice)])
    assert exit_info.value.code == 2


def test_envelope_pretraining_can_start_from_scratch(corpus, tmp_path):
    from vocoder.envelope import pretrain

    summary = pretrain(corpus, tmp_path / "env", envelope_config(minutes=0.03, eval_every=5),
                       WaveNetConfig(lpc_order=8, mel_bands=8, mel_fft=160, cond_hidden=8,
                                     cond_layers=1, cond_kernel=3, layers=2, residual_channels=4,
                                     gate_channels=4, skip_channels=4))
    saved = load_checkpoint(tmp_path / "env" / "checkpoint.pt")
    assert saved["model_config"]["cond_channels"] == 5  # filled in from the corpus
    assert saved["model_config"]["num_speakers"] == 2
    assert summary["history"][-1]["valid_l1"] < summary["history"][0]["valid_l1"]


def test_a_frozen_conditioning_network_keeps_its_envelope_while_the_rest_learns(corpus, tmp_path):
    train(tiny_train_config(corpus, tmp_path / "start", max_steps=1), excitation_config())
    start = load_checkpoint(tmp_path / "start" / "checkpoint.pt")["ema"]  # what init takes
    result = train(tiny_train_config(corpus, tmp_path / "frozen", max_steps=3, warmup_steps=0,
                                     init=[f"all:{tmp_path / 'start' / 'checkpoint.pt'}"],
                                     freeze=["conditioning", "envelope"], ema_decay=0.0),
                   excitation_config())
    after = result.model.state_dict()
    for name, value in after.items():
        before = start["wavenet." + name]
        if name.startswith(("conditioning_network.", "mel_head.")):
            torch.testing.assert_close(value, before, rtol=0, atol=0)
    assert not torch.equal(after["layers.0.dilated_conv.weight"],
                           start["wavenet.layers.0.dilated_conv.weight"])


def test_a_separate_envelope_network_learns_on_and_is_grafted_onto_the_wavenet(corpus, tmp_path):
    from vocoder.envelope import pretrain
    from vocoder.train import TrainingModel, graft_envelope, transfer_weights

    train(tiny_train_config(corpus, tmp_path / "wavenet", max_steps=2), excitation_config())
    source_path = tmp_path / "wavenet" / "checkpoint.pt"
    source = load_checkpoint(source_path)
    # Warm start: the new network predicts exactly the source's envelope (extra blocks are
    # identities) and leaves the WaveNet's own conditioning alone.
    seeded = TrainingModel(WaveNet(excitation_config(envelope_layers=3)), 0, 0)
    transfer_weights(seeded, f"all:{source_path}")
    plain = TrainingModel(WaveNet(excitation_config()), 0, 0)
    transfer_weights(plain, f"all:{source_path}")
    envelope_only = TrainingModel(WaveNet(excitation_config(envelope_layers=3)), 0, 0)
    # ... as does the envelope part alone: the source's envelope is its conditioning network
    # and head, every tensor of which is taken, and the blocks beyond it start as identities.
    started = transfer_weights(envelope_only, f"envelope:{source_path}")
    state = envelope_only.wavenet.state_dict()
    identities = [n for n in started if n.startswith("envelope_network.blocks.")
                  and not torch.any(state[n])]
    assert identities and len(started) - len(identities) == len(
        [k for k in source["ema"] if k.startswith(("wavenet.conditioning_network.",
                                                   "wavenet.mel_head."))])
    features = torch.from_numpy(np.load(corpus / "cond" / "spk_a" / "spk_a_000.npy"))[None]
    with torch.no_grad():
        torch.testing.assert_close(seeded.wavenet.envelope(features),
                                   plain.wavenet.envelope(features), rtol=0, atol=1e-6)
        torch.testing.assert_close(envelope_only.wavenet.envelope(features),
                                   plain.wavenet.envelope(features), rtol=0, atol=1e-6)

    summary = pretrain(corpus, tmp_path / "env",
                       envelope_config(init=[f"all:{source_path}"], minutes=0.05, eval_every=5),
                       excitation_config(envelope_layers=3))
    assert summary["history"][-1]["valid_l1"] < summary["history"][0]["valid_l1"]
    trained = load_checkpoint(tmp_path / "env" / "checkpoint.pt")["model"]
    for name, value in source["ema"].items():  # only the envelope network and head moved
        if not name.startswith(("wavenet.mel_head.", "mel_head.")):
            torch.testing.assert_close(trained[name], value, rtol=0, atol=0)
    assert not torch.equal(trained["wavenet.mel_head.weight"],
                           source["ema"]["wavenet.mel_head.weight"])

    export_ema(tmp_path / "wavenet", tmp_path / "voice", envelope_exp=tmp_path / "env")
    voice = load_wavenet(tmp_path / "voice")
    donor = ema_wavenet_from_checkpoint(load_checkpoint(tmp_path / "env" / "checkpoint.pt"))
    assert voice.config.envelope_layers == 3
    with torch.no_grad():
        torch.testing.assert_close(voice.envelope(features), donor.envelope(features))
    generator = Generator(voice)
    prepared = generator.prepare([features[0].numpy()], [0])
    expected = mel_to_lpc(donor.envelope(features)[0].detach().double().numpy(),
                          mel_basis(SR, 160, 8), 8, SR)
    np.testing.assert_allclose(prepared.filters[0], expected, atol=1e-6)
    # An envelope run without its own network, or of another shape, does not fit.
    with pytest.raises(TrainingError, match="envelope_layers"):
        graft_envelope(voice, WaveNet(excitation_config()))
    with pytest.raises(TrainingError, match="mel_bands"):
        graft_envelope(voice, WaveNet(excitation_config(envelope_layers=1, mel_bands=6)))
    with pytest.raises(VocoderError, match="excitation mode only"):
        WaveNetConfig(envelope_layers=2, cond_channels=5)


def test_a_run_can_take_a_frozen_envelope_and_train_its_conditioning_network(corpus, tmp_path):
    from vocoder.envelope import pretrain

    train(tiny_train_config(corpus, tmp_path / "wavenet", max_steps=1), excitation_config())
    wavenet_path, envelope_path = tmp_path / "wavenet" / "checkpoint.pt", tmp_path / "env" / \
        "checkpoint.pt"
    pretrain(corpus, tmp_path / "env",
             envelope_config(init=[f"all:{wavenet_path}"], minutes=0.02, eval_every=5),
             excitation_config(envelope_layers=2))
    envelope = load_checkpoint(envelope_path)["model"]
    start = load_checkpoint(wavenet_path)["ema"]
    result = train(tiny_train_config(corpus, tmp_path / "joint", max_steps=3, warmup_steps=0,
                                     init=[f"all:{wavenet_path}", f"envelope:{envelope_path}"],
                                     freeze=["envelope"], ema_decay=0.0),
                   excitation_config(envelope_layers=2))
    after = result.model.state_dict()
    envelope_keys = [k for k in after if k.startswith(("envelope_network.", "mel_head."))]
    assert any(k.startswith("envelope_network.") for k in envelope_keys)
    for name in envelope_keys:  # the envelope run's weights, untouched by training
        torch.testing.assert_close(after[name], envelope["wavenet." + name], rtol=0, atol=0)
    for name in ("conditioning_network.input_conv.weight", "layers.0.dilated_conv.weight"):
        assert not torch.equal(after[name], start["wavenet." + name]), name

    # A frozen part the source cannot fill (its head is per speaker, this model's shared)
    # would train the rest against random weights: refused before a step.
    heads_run = tmp_path / "heads"
    train(tiny_train_config(corpus, heads_run, max_steps=1), excitation_config(
        speaker_envelopes=True))
    with pytest.raises(TrainingError, match=r"freeze keeps the envelope part .* would stay "
                                            r"random: .*model.speaker_envelopes=true"):
        train(tiny_train_config(corpus, tmp_path / "shared", max_steps=1, freeze=["envelope"],
                                init=[f"all:{heads_run / 'checkpoint.pt'}"]), excitation_config())
    assert not (tmp_path / "shared" / "checkpoint.pt").exists()
    # A waveform model without the auxiliary head has no envelope to freeze.
    with pytest.raises(TrainingError, match="has no envelope part"):
        train(tiny_train_config(corpus, tmp_path / "nofreeze", max_steps=1, aux_mel_weight=0.0,
                                freeze=["envelope"]), tiny_model_config())
    with pytest.raises(TrainingError, match="freeze entries are parts of the WaveNet"):
        tiny_train_config(corpus, tmp_path / "typo", freeze=["envelop"])
    with pytest.raises(TrainingError, match="init entries are PART:PATH"):
        tiny_train_config(corpus, tmp_path / "typo", init=[str(envelope_path)])
    # A model whose envelope network has another depth, or none, does not fit that run's.
    for layers in (0, 3):
        with pytest.raises(TrainingError, match="does not fit this model's envelope part"):
            train(tiny_train_config(corpus, tmp_path / f"bad{layers}", max_steps=1,
                                    init=[f"envelope:{envelope_path}"]),
                  excitation_config(envelope_layers=layers))


def test_the_excitation_factors_benchmark_swaps_one_half_at_a_time(excitation_voice, tiny_voice,
                                                                   tiny_prepared, capsys):
    from benchmarks.excitation_factors import envelope_error, variants
    from benchmarks.excitation_factors import main as factors_main
    from benchmarks.intelligibility import copy_conditioning, copy_entries, read_prepared
    from frontend.audio import load_audio
    from tts.synthesizer import Synthesizer

    synth = Synthesizer.from_pretrained(excitation_voice)
    corpus = read_prepared(tiny_prepared)
    entry = copy_entries(corpus, "p225", 1)[0]
    conditioning = copy_conditioning(synth, corpus, entry)
    recording = load_audio(tiny_prepared / entry["wav"])
    signals = variants(synth, conditioning, 0, recording, seed=3)
    # "voice" is copy synthesis itself: what the synthesizer makes of the same conditioning,
    # before the voice's output level (the benchmark compares every signal at the model's own)
    gain = synth._output_gain(0)
    expected = synth.vocode_conditioning([conditioning], [0], seeds=[3])[0]
    np.testing.assert_allclose(np.clip(signals["voice"] * gain, -1.0, 1.0), expected, atol=1e-6)
    assert len(signals["recording"]) == len(expected)
    for name in ("true envelope", "true residual"):  # each differs from the voice in one half
        assert signals[name].shape == expected.shape
        assert not np.allclose(signals[name], signals["voice"], atol=1e-3), name

    assert factors_main(["--voice", str(excitation_voice), "--prep", str(tiny_prepared),
                         "--speakers", "p225", "--utterances", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| speaker | recording WER % | voice WER % | true envelope WER %")
    assert [line.split("|")[1].strip() for line in lines[2:-1]] == ["p225", "all"]
    values = [float(v) for v in lines[-2].split("|")[2:-1]]
    assert lines[-1] == f"excitation_gap {values[1] - values[3]:.1f}"
    # the last column: the predicted envelope's mean |log-mel error| over every frame and band
    error, cells = envelope_error(synth, conditioning, 0, recording)
    assert cells == synth.generator.mel_basis.shape[0] * len(conditioning)
    assert values[4] == pytest.approx(error / cells, abs=5e-4) and values[4] > 0
    # then the levels: the residual under the recording's own filters is below the recording
    assert values[6] < values[5] < 0
    assert values[7] < 0 and np.isfinite(values[8])  # the floors: silence below speech
    # a waveform voice has no excitation to swap
    assert factors_main(["--voice", str(tiny_voice), "--prep", str(tiny_prepared),
                         "--utterances", "1"]) == 2
    assert "excitation voice" in capsys.readouterr().err


def test_a_floor_is_the_level_where_the_recording_is_silent():
    from benchmarks.excitation_factors import floor_powers

    recording = np.concatenate([np.zeros(160), np.full(320, 0.5), np.full(160, 1e-3)])
    noisy = recording + 0.01  # a constant floor of 0.01 everywhere
    silent_sum, silent, speech_sum, speech = floor_powers(noisy, recording, hop=80)
    assert (silent, speech) == (4, 4)  # frames: 2 of zeros, 4 of speech, 2 of 1e-3
    assert silent_sum == pytest.approx(2 * 1e-4 + 2 * (0.011 ** 2))
    assert speech_sum == pytest.approx(4 * 0.51 ** 2)


def test_the_envelope_timbre_benchmark_measures_every_flite_voice(excitation_voice,
                                                                  tiny_prepared, capsys):
    from benchmarks.envelope_timbre import main as timbre_main

    assert timbre_main(["--voice", str(excitation_voice), "--prep", str(tiny_prepared),
                        "--speakers", "p225", "--utterances", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    cells = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert cells[:2] == ["p225", "slt f0=175 dur=1"]
    predicted, recording = cells[2:6], cells[6:10]  # slt, awb, rms, kal16
    assert recording[0] == "(own)" and all(float(v) > 0 for v in predicted + recording[1:])
    assert all(float(v) > 0 for v in cells[10:12])  # against the recording: the end, the rest
