"""A new speaker added to a voice from a few minutes of recordings, on the CPU.

    tts adapt DATA --speaker NEW_ID -o NEW_VOICE [--voice BASE] [--minutes M]

What happens (after Deep Voice 2 / Arik et al. 2018, "Neural Voice Cloning with a Few
Samples": a new speaker is a new embedding of a multi-speaker model):

1. DATA (a plain folder of NAME.wav + NAME.txt, or the LJSpeech layout; one speaker) is
   prepared by the corpus recipe (``recipes.vctk.prepare``) into ``NEW_VOICE.work/prep``.
2. The new speaker's normalization statistics are measured on it: the duration model's and
   the F0 model's per-speaker target mean/std (log(1 + frames), log-F0 of voiced frames).
3. One row is appended to the speaker tables of the duration model, the F0 model and the
   WaveNet, initialised from the existing speaker whose row fits the new data best, then fitted
   on the new data with every other weight frozen (the old rows and the shared weights are
   copied unchanged into the new voice, so the old speakers speak exactly as before).
   The WaveNet's envelope network sees no speaker, so the new speaker also gets an envelope
   head of its own (``WaveNetConfig.speaker_envelopes``): a ridge regression, in closed form,
   from what the head reads to the log-mel of its recordings, drawn towards the shared head.
   The old speakers' rows are copies of the shared head, so their audio does not change.
4. A voice with all old speakers plus the new one is written atomically (``tts.voice``), the
   new speaker's output level measured.

``minutes`` is the wall-time budget of the whole run. Progress with an ETA goes to the log
(stderr). Killed at any point, the same command resumes: preparation skips what it wrote, and
the fitted rows are checkpointed (safetensors + JSON) in the work directory.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from safetensors.numpy import load_file as load_safetensors
from safetensors.numpy import save as safetensors_bytes
from safetensors.numpy import save_file as save_safetensors

from tts.envelopes import DEFAULT_HOLDOUT, DEFAULT_RIDGE, speaker_heads
from tts.voice import (
    VoiceError, VoiceSpec, WEIGHT_FILES, bundled_voice_dir, read_voice, write_voice,
)
from tts_common.corpus import read_manifest, read_speakers, read_stats, write_corpus_index
from tts_common.files import atomic_open

logger = logging.getLogger(__name__)

STATE_JSON = "adapt_state.json"
STATE_WEIGHTS = "adapt_rows.safetensors"
EMBEDDING = {"duration": "speaker_embedding.weight", "pitch": "speaker_embedding.weight",
             "wavenet": "speaker_embedding.weight"}
PHASES = ("duration", "pitch", "envelope", "wavenet")
PROBE_STEP = 10**9  # batches that choose the start row and the best one: never trained on


class AdaptError(ValueError):
    """Adaptation cannot start or finish; the message names the problem and the fix."""


@dataclass
class AdaptConfig:
    data: Path
    speaker: str
    output: Path
    voice: Path | None = None  # None: the bundled voice
    minutes: float = 30.0  # wall-time budget of the whole run
    gender: str = ""
    accent: str = ""
    work_dir: Path | None = None  # None: OUTPUT.work beside the output
    threads: int = 2
    jobs: int = 2  # preparation's worker processes
    seed: int = 0
    min_seconds: float = 60.0  # of prepared speech; less is refused (say how much more)
    prosody_steps: int = 300  # per prosody model, at most (each step is milliseconds)
    prosody_batch: int = 8
    prosody_lr: float = 0.02
    wavenet_steps: int = 20000  # at most; the budget usually ends it first
    wavenet_batch: int = 4
    wavenet_window_frames: int = 40  # 200 ms a window
    wavenet_lr: float = 0.01
    wavenet_probe_batches: int = 4  # fixed batches that choose the start row and the best one
    wavenet_probe_every: int = 50  # steps
    envelope_ridge: float = DEFAULT_RIDGE  # the new envelope head's pull towards the shared one
    envelope_holdout: float = DEFAULT_HOLDOUT  # share of the recordings its L1 is reported on
    checkpoint_seconds: float = 60.0
    export_reserve_s: float = 90.0  # budget kept for the export and the level measurement


# ---------------------------------------------------------------------------------------------
# the work directory's state: fitted rows and how far each phase got


def _work_dir(config: AdaptConfig) -> Path:
    output = Path(config.output)
    return Path(config.work_dir) if config.work_dir else output.with_name(output.name + ".work")


def _read_state(work: Path, identity: dict[str, Any]
                ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The saved progress of this adaptation (same data, speaker and base voice), else empty."""
    path, weights = work / STATE_JSON, work / STATE_WEIGHTS
    if not path.is_file():
        return {"elapsed_s": 0.0, "steps": {}}, {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        rows = load_safetensors(str(weights)) if weights.is_file() else {}
    except (OSError, ValueError) as exc:
        raise AdaptError(f"cannot resume from {path} ({exc}): delete {work} to start "
                         "over") from None
    if state.get("identity") != identity:
        raise AdaptError(f"{work} holds another adaptation ({state.get('identity')}): delete it "
                         "or choose another output")
    return state, rows


def _write_state(work: Path, state: dict[str, Any], rows: dict[str, np.ndarray]) -> None:
    """Rows first, then the JSON that says how far they got: a kill between leaves the JSON
    one checkpoint behind the rows, which only costs the steps in between."""
    with atomic_open(work / STATE_WEIGHTS) as handle:
        handle.write(safetensors_bytes({k: np.ascontiguousarray(v) for k, v in rows.items()}))
    with atomic_open(work / STATE_JSON, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(state, indent=1) + "\n")


class Budget:
    """The wall-time budget across runs: what earlier (killed) runs spent counts too."""

    def __init__(self, minutes: float, spent_s: float) -> None:
        self.total_s = 60.0 * minutes
        self.spent_before_s = spent_s
        self.started = time.monotonic()

    @property
    def elapsed_s(self) -> float:
        return self.spent_before_s + time.monotonic() - self.started

    def left_s(self) -> float:
        return self.total_s - self.elapsed_s


def _eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


# ---------------------------------------------------------------------------------------------
# the new speaker's data


def prepare_data(config: AdaptConfig, work: Path) -> Path:
    """DATA through the corpus recipe into ``work/prep``; one speaker, enough speech."""
    try:
        from recipes.vctk.prepare import PrepareConfig, PrepareError, prepare
    except ImportError:
        raise AdaptError("tts adapt needs the corpus recipes (recipes/ of the source tree): run "
                         "it from a checkout, or install the package from one") from None
    prep = work / "prep"
    try:
        prepare(PrepareConfig(corpus_dir=Path(config.data), prep_dir=prep, jobs=config.jobs,
                              valid=0, test=0, progress=False))
    except PrepareError as exc:
        raise AdaptError(str(exc)) from None
    speakers = read_speakers(prep, AdaptError)
    if len(speakers) != 1:
        raise AdaptError(f"{config.data} holds {len(speakers)} speakers "
                         f"({', '.join(s['id'] for s in speakers[:5])}): adapt from one "
                         "speaker's recordings (one folder, without sub-folders)")
    rows = read_manifest(prep, AdaptError)
    seconds = sum(float(r["duration_s"]) for r in rows)
    if seconds < config.min_seconds:
        skipped = (prep / "skipped.jsonl").read_text().count("\n")
        why = f", {skipped} skipped: see {prep / 'skipped.jsonl'}" if skipped else ""
        raise AdaptError(
            f"{config.data} has {seconds:.0f} s of usable speech ({len(rows)} recordings{why}); "
            f"adapting needs at least {config.min_seconds:.0f} s: record "
            f"{math.ceil(config.min_seconds - seconds)} s more")
    logger.info("adapt: %.1f minutes of %s's speech in %d recordings", seconds / 60,
                config.speaker, len(rows))
    return prep


def _wavenet_view(prep: Path, work: Path, voice: VoiceSpec, new_index: int) -> Path:
    """A prepared-corpus view the WaveNet's data loader reads: the new speaker's recordings at
    index ``new_index`` of the voice's table, their conditioning normalized with the voice's
    log-F0 statistics (the WaveNet was trained with those, not with the new speaker's)."""
    from tts.envelopes import voice_conditioning

    view = work / "wavenet_prep"
    (view / "cond").mkdir(parents=True, exist_ok=True)
    stats = read_stats(prep, AdaptError)
    stats["log_f0"] = {"mean": voice.conditioning.log_f0_mean,
                       "std": voice.conditioning.log_f0_std}
    rows = []
    for row in read_manifest(prep, AdaptError):
        cond_path = view / "cond" / f"{row['utt_id']}.npy"
        if not cond_path.is_file():
            cond = voice_conditioning(prep, row, voice)  # (T, C)
            with atomic_open(cond_path) as handle:
                np.save(handle, np.ascontiguousarray(cond), allow_pickle=False)
        rows.append({**row, "speaker_index": new_index, "cond": str(cond_path.resolve()),
                     "wav": str((prep / row["wav"]).resolve())})
    speakers = [{"id": s.id, "index": s.index} for s in voice.speakers]
    speakers.append({"id": "new", "index": new_index})
    write_corpus_index(view, stats, speakers, rows)
    return view


# ---------------------------------------------------------------------------------------------
# models with one more speaker


def _grown_tensors(tensors: dict[str, np.ndarray], kind: str, row: np.ndarray,
                   target: tuple[float, float] | None,
                   envelope: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> dict[str, np.ndarray]:
    """``tensors`` of a model with one more speaker: ``row`` appended to its embedding table
    (and the new speaker's target statistics to a prosody model's), in each tensor's dtype.

    An excitation WaveNet also gets an envelope head per speaker (``speaker_mel_head``): the
    old speakers' rows as they were (copies of a shared ``mel_head``), and ``envelope``
    (weight (bands, H), bias (bands,)) for the new one, or a copy of the first row."""
    grown = dict(tensors)
    table = tensors[EMBEDDING[kind]]
    grown[EMBEDDING[kind]] = np.concatenate([table, row[None].astype(table.dtype)])
    if target is not None:
        for name, value in zip(("target_mean", "target_std"), target):
            old = tensors[name]
            grown[name] = np.concatenate([old, np.array([value], old.dtype)])
    if "mel_head.weight" in tensors:  # a shared head becomes one per speaker
        grown["speaker_mel_head.weight"], grown["speaker_mel_head.bias"] = speaker_heads(
            tensors, len(table))
        del grown["mel_head.weight"], grown["mel_head.bias"]
    if "speaker_mel_head.weight" in grown:
        for name, value in zip(("speaker_mel_head.weight", "speaker_mel_head.bias"),
                               envelope or (grown["speaker_mel_head.weight"][0],
                                            grown["speaker_mel_head.bias"][0])):
            old = grown[name]
            grown[name] = np.concatenate([old, value[None].astype(old.dtype)])
    return grown


def _envelope_row(rows: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    if "envelope.weight" not in rows:
        return None
    return rows["envelope.weight"], rows["envelope.bias"]


def _wavenet_config(voice: VoiceSpec, speakers: int) -> dict[str, Any]:
    """The voice's WaveNet config with ``speakers`` rows, its envelope heads per speaker in
    excitation mode (the shape of ``_grown_tensors``'s WaveNet)."""
    values = voice.model_config("wavenet")
    values["num_speakers"] = speakers
    values["speaker_envelopes"] = bool(values.get("lpc_order"))
    return values


def fit_envelope_head(config: AdaptConfig, voice: VoiceSpec, tensors: dict[str, np.ndarray],
                      view: Path) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The new speaker's envelope head (weight (bands, H), bias (bands,)) float32, fitted to
    its recordings from the base voice's mean head (``tts.envelopes.fit_head``), and the
    held-out L1 of the base head and of the fitted one."""
    import soundfile

    from tts.envelopes import fit_head
    from tts_common.corpus import read_manifest
    from vocoder.config import WaveNetConfig
    from vocoder.generate import Generator

    generator = Generator.from_tensors(WaveNetConfig.from_dict(voice.model_config("wavenet")),
                                       tensors)
    utterances = ((np.load(view / e["cond"], allow_pickle=False).astype(np.float32),
                   soundfile.read(str(view / e["wav"]), dtype="float32")[0])
                  for e in read_manifest(view, AdaptError))
    fit = fit_head(generator, utterances, (generator.mel_head_weight.mean(0),
                                           generator.mel_head_bias.mean(0)),
                   config.envelope_ridge, config.envelope_holdout)
    report = {}
    if fit.base_l1 is not None:
        report = {"base_l1": fit.base_l1, "fitted_l1": fit.fitted_l1}
        logger.info("adapt: envelope head fitted, held-out log-mel L1 %.3f (the base voice's "
                    "head: %.3f)", fit.fitted_l1, fit.base_l1)
    return fit.weight, fit.bias, report


def _prosody_module(voice: VoiceSpec, kind: str, tensors: dict[str, np.ndarray]):
    """The torch ``kind`` model of ``voice`` with one more speaker, from ``tensors``."""
    from frontend.prosody import DurationConfig, PitchConfig
    from frontend.prosody_torch import module_from_tensors

    values = dict(voice.model_config(kind)["config"])
    values["num_speakers"] += 1
    values["speakers"] = [*values["speakers"], "new"]
    config = (DurationConfig if kind == "duration" else PitchConfig)(**values)
    return module_from_tensors(config, {k: v.astype(np.float32) for k, v in tensors.items()},
                               f"{voice.weights_path(kind)}")


def _wavenet_module(voice: VoiceSpec, tensors: dict[str, np.ndarray]):
    import torch

    from vocoder.config import WaveNetConfig
    from vocoder.model import WaveNet

    model = WaveNet(WaveNetConfig.from_dict(_wavenet_config(voice, len(voice.speakers) + 1)))
    model.load_state_dict({k: torch.as_tensor(v.astype(np.float32)) for k, v in tensors.items()})
    return model.eval()


@dataclass
class RowFit:
    """How one speaker table's new row is fitted."""

    kind: str
    model: Any  # a torch module with ``speaker_embedding`` (N + 1 rows)
    loss_of: Callable[[int], Any]  # step → one training batch's loss (a tensor)
    probe: Callable[[], float]  # the loss on fixed batches never trained on
    max_steps: int
    lr: float
    deadline_s: Callable[[], float]  # seconds left for this phase


def _fit_row(fit: RowFit, new_index: int, rows: dict[str, np.ndarray], state: dict[str, Any],
             save: Callable[[], None], checkpoint_s: float, probe_every: int) -> None:
    """Adam on the new speaker's embedding row only, keeping the row with the lowest probe loss.

    The row starts as the existing speaker's whose row gives the probe batches the lowest loss
    (or as saved by an interrupted run). Every other parameter is frozen and the other
    speakers' rows get no gradient (they are copied from the base voice anyway). ``rows``
    receives ``kind`` (the current row) and ``kind.best``; ``state`` the step and best loss.
    """
    import torch

    kind, model = fit.kind, fit.model
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    table = model.speaker_embedding.weight  # (N + 1, D)

    def set_row(row: np.ndarray) -> None:
        with torch.no_grad():
            table[new_index] = torch.as_tensor(row)

    if kind not in rows:
        losses = []
        for index in range(new_index):
            set_row(table[index].detach().numpy().copy())
            losses.append(fit.probe())
        nearest = int(np.argmin(losses))
        logger.info("adapt: %s model starts from %s's row (probe loss %.4f)", kind,
                    state["speakers"][nearest], losses[nearest])
        rows[kind] = rows[f"{kind}.best"] = table[nearest].detach().numpy().copy()
        state["best_loss"][kind] = losses[nearest]
    set_row(rows[kind])
    table.requires_grad_(True)
    keep = torch.zeros_like(table)
    keep[new_index] = 1.0
    table.register_hook(lambda grad: grad * keep)
    optimizer = torch.optim.Adam([table], lr=fit.lr)
    step = first = int(state["steps"].get(kind, 0))
    started = last_save = time.monotonic()
    running: list[float] = []

    def record(step: int) -> None:
        rows[kind] = table.detach()[new_index].numpy().copy()
        state["steps"][kind] = step
        save()

    while step < fit.max_steps and fit.deadline_s() > 0:
        loss = fit.loss_of(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        running.append(float(loss.detach()))
        if step % probe_every == 0 or step == fit.max_steps:
            probe = fit.probe()
            if probe < state["best_loss"][kind]:
                state["best_loss"][kind] = probe
                rows[f"{kind}.best"] = table.detach()[new_index].numpy().copy()
            per_step = (time.monotonic() - started) / (step - first)
            eta = min((fit.max_steps - step) * per_step, max(fit.deadline_s(), 0.0))
            logger.info("adapt: %s step %d/%d, training loss %.4f, probe loss %.4f (best "
                        "%.4f), this phase ends in %s", kind, step, fit.max_steps,
                        float(np.mean(running)), probe, state["best_loss"][kind], _eta(eta))
            running = []
        if time.monotonic() - last_save >= checkpoint_s:
            record(step)
            last_save = time.monotonic()
    record(step)


# ---------------------------------------------------------------------------------------------
# the whole run


def adapt(config: AdaptConfig) -> Path:
    """Add ``config.speaker`` to ``config.voice`` from ``config.data``; returns the new voice."""
    import torch

    from frontend.pitch import continuous_log_f0
    from frontend.prosody_train import (
        duration_loss, load_split, log_durations, pitch_loss, speaker_stats, torch_threads,
    )

    base_dir = Path(config.voice) if config.voice else bundled_voice_dir()
    voice = read_voice(base_dir)
    if any(s.id == config.speaker for s in voice.speakers):
        raise AdaptError(f"speaker {config.speaker!r} is already in {base_dir}: choose another "
                         f"--speaker (taken: {', '.join(s.id for s in voice.speakers[:12])})")
    if not config.speaker or len(config.speaker) > 64 or config.speaker != config.speaker.strip():
        raise AdaptError(f"--speaker must be 1 to 64 characters without surrounding spaces, got "
                         f"{config.speaker!r}")
    if config.minutes <= 0:
        raise AdaptError(f"--minutes must be > 0, got {config.minutes:g}")
    output = Path(config.output)
    if output.resolve() == base_dir.resolve():
        raise AdaptError(f"-o {output} is the base voice: write the adapted voice elsewhere")
    work = _work_dir(config)
    fresh = not work.exists()
    work.mkdir(parents=True, exist_ok=True)
    identity = {"data": str(Path(config.data).resolve()), "speaker": config.speaker,
                "voice": str(base_dir.resolve())}
    state, rows = _read_state(work, identity)
    state["identity"] = identity
    budget = Budget(config.minutes, float(state.get("elapsed_s", 0.0)))
    if state.get("elapsed_s"):
        logger.info("adapt: resuming (%.1f of %g minutes spent before)",
                    budget.spent_before_s / 60, config.minutes)

    try:
        prep = prepare_data(config, work)
    except AdaptError:
        if fresh:  # bad input leaves nothing behind
            shutil.rmtree(work, ignore_errors=True)
        raise
    state["elapsed_s"] = budget.elapsed_s  # a run killed after this point resumes with less
    _write_state(work, state, rows)
    new_index = len(voice.speakers)
    base = {kind: load_safetensors(str(voice.weights_path(kind))) for kind in WEIGHT_FILES}

    train = [dataclasses.replace(u, speaker_index=new_index) for u in load_split(prep, "train")]
    voiced = [u for u in train if u.voiced.any()]
    if not voiced:
        raise AdaptError(f"no voiced frame in {config.data}'s recordings: is this speech?")
    targets = {
        "duration": speaker_stats([log_durations(u.durations) for u in train], [0] * len(train), 1),
        "pitch": speaker_stats([np.log(u.f0_hz[u.voiced]) for u in voiced], [0] * len(voiced), 1),
    }
    targets = {kind: (float(mean[0]), float(std[0])) for kind, (mean, std) in targets.items()}
    log_f0 = {u.utt_id: np.asarray(continuous_log_f0(u.f0_hz, u.voiced), np.float32)
              for u in voiced}  # (T,) each: the F0 model's target
    logger.info("adapt: %s's mean F0 %.0f Hz (the voice's speakers: %s Hz)", config.speaker,
                math.exp(targets["pitch"][0]),
                ", ".join(f"{math.exp(m):.0f}" for m in base["pitch"]["target_mean"]))

    def deadline_for(share: float) -> Callable[[], float]:
        """Seconds left of this phase: ``share`` of what the budget has left at its start."""
        end = budget.elapsed_s + share * max(budget.left_s() - config.export_reserve_s, 0.0)
        return lambda: min(end - budget.elapsed_s, budget.left_s() - config.export_reserve_s)

    def save() -> None:
        state["elapsed_s"] = budget.elapsed_s
        _write_state(work, state, rows)

    state.setdefault("best_loss", {})
    state["speakers"] = [s.id for s in voice.speakers]
    with torch_threads(config.threads):
        for kind, share in (("duration", 0.05), ("pitch", 0.1)):
            batches = train if kind == "duration" else voiced
            model = _prosody_module(voice, kind, _grown_tensors(
                base[kind], kind, rows.get(kind, base[kind][EMBEDDING[kind]][0]), targets[kind]))

            def loss_of(step: int, model=model, batches=batches, kind=kind) -> torch.Tensor:
                rng = np.random.default_rng([config.seed, PHASES.index(kind), step])
                picks = rng.choice(len(batches), size=min(config.prosody_batch, len(batches)),
                                   replace=False)
                batch = [batches[i] for i in picks]
                if kind == "duration":
                    return duration_loss(model, batch)
                return pitch_loss(model, batch, log_f0, unvoiced_weight=0.3)

            def probe(loss_of=loss_of) -> float:
                with torch.no_grad():
                    return float(np.mean([float(loss_of(PROBE_STEP + k)) for k in range(4)]))

            _fit_row(RowFit(kind, model, loss_of, probe, config.prosody_steps, config.prosody_lr,
                            deadline_for(share)),
                     new_index, rows, state, save, config.checkpoint_seconds, probe_every=25)
        view = _wavenet_view(prep, work, voice, new_index)
        if voice.models["wavenet"].lpc_order and "envelope.weight" not in rows:
            weight, bias, report = fit_envelope_head(config, voice, base["wavenet"], view)
            rows.update({"envelope.weight": weight, "envelope.bias": bias})
            state["envelope"] = report
            save()
        _fit_wavenet(config, voice, base, rows, state, view, new_index, deadline_for(1.0), save)

    return _export(config, voice, base, rows, targets, work, budget, state)


def _fit_wavenet(config: AdaptConfig, voice: VoiceSpec, base: dict[str, dict[str, np.ndarray]],
                 rows: dict[str, np.ndarray], state: dict[str, Any], view: Path,
                 new_index: int, deadline_s: Callable[[], float],
                 save: Callable[[], None]) -> None:
    """The WaveNet's new row: the cross-entropy of the new speaker's (excitation) samples."""
    import torch
    import torch.nn.functional as F

    from vocoder.data import IGNORE_INDEX, WaveNetDataset
    from vocoder.train import TrainingModel, conditioning_reach, lpc_spec

    start_row = rows.get("wavenet", base["wavenet"][EMBEDDING["wavenet"]][0])
    wavenet = _wavenet_module(voice, _grown_tensors(base["wavenet"], "wavenet", start_row, None,
                                                    _envelope_row(rows)))
    context = conditioning_reach(wavenet.config)
    dataset = WaveNetDataset(view, "train", config.wavenet_window_frames, context,
                             seed=config.seed,
                             quantization_channels=wavenet.config.quantization_channels,
                             lpc=lpc_spec(wavenet.config))
    model = TrainingModel(wavenet, context, 0).eval()

    def loss_of(step: int) -> torch.Tensor:
        items = [dataset[step * config.wavenet_batch + i] for i in range(config.wavenet_batch)]
        batch = {key: torch.stack([item[key] for item in items]) for key in items[0]}
        logits, _ = model(batch["inputs"], batch["features"], batch["speaker"])  # (B, Q, L)
        return F.cross_entropy(logits, batch["targets"], ignore_index=IGNORE_INDEX)

    def probe() -> float:
        with torch.no_grad():
            return float(np.mean([float(loss_of(PROBE_STEP + k))
                                  for k in range(config.wavenet_probe_batches)]))

    _fit_row(RowFit("wavenet", wavenet, loss_of, probe, config.wavenet_steps, config.wavenet_lr,
                    deadline_s),
             new_index, rows, state, save, config.checkpoint_seconds,
             probe_every=config.wavenet_probe_every)


def _export(config: AdaptConfig, voice: VoiceSpec, base: dict[str, dict[str, np.ndarray]],
            rows: dict[str, np.ndarray], targets: dict[str, tuple[float, float]], work: Path,
            budget: Budget, state: dict[str, Any]) -> Path:
    """The base voice plus the new speaker, its level measured, written atomically."""
    from tts.level import measure_speaker_levels
    from tts.synthesizer import Synthesizer

    weights_dir = work / "weights"
    weights_dir.mkdir(exist_ok=True)
    weights = {}
    for kind, name in WEIGHT_FILES.items():
        grown = _grown_tensors(base[kind], kind, rows[f"{kind}.best"], targets.get(kind),
                               _envelope_row(rows) if kind == "wavenet" else None)
        weights[kind] = weights_dir / name
        save_safetensors({k: np.ascontiguousarray(v) for k, v in grown.items()},
                         str(weights[kind]))
    data = voice.to_json()
    data["models"]["wavenet"]["speaker_envelopes"] = bool(voice.models["wavenet"].lpc_order)
    data["speakers"].append({"id": config.speaker, "gender": config.gender.upper(),
                             "accent": config.accent,
                             "source": f"adapted from {Path(config.data).resolve()}"[:256]})
    # Measured on the unmeasured new speaker's raw output, as export-voice measures.
    unmeasured = write_voice(work / "unmeasured", data, weights)
    synth = Synthesizer(read_voice(unmeasured), threads=config.threads)
    (level, peak), = measure_speaker_levels(synth, speakers=[config.speaker])
    data["speakers"][-1].update(level_dbfs=level, peak_dbfs=peak)
    try:
        write_voice(config.output, data, weights)
    except VoiceError as exc:
        raise AdaptError(f"cannot write {config.output}: {exc}") from None
    state["elapsed_s"] = budget.elapsed_s
    state["done"] = True
    _write_state(work, state, rows)
    logger.info("adapt: wrote %s (%d speakers; %s at %.1f dBFS) in %.1f minutes", config.output,
                len(data["speakers"]), config.speaker, level, budget.elapsed_s / 60)
    return Path(config.output)
