"""Intelligibility of a voice per speaker: ASR word error rate, and distance from its flite teacher.

For every speaker of the voice, held-out sentences (``recipes.demo.sentences.heldout_sentences``,
never used for training: 40 everyday sentences by default, or with ``--sentence-set templates``
sentences generated from templates, whose unusual word pairings cost the ASR words even of the
flite teachers) are spoken through the public ``Synthesizer.synthesize`` and
transcribed by pocketsphinx (bundled en-us models). The same sentences are rendered by the
speaker's teacher, the flite command line in its ``source`` field, and measured the same way.
Per speaker the table gives:

    WER          edits / reference words over the speaker's sentences, synthesized speech
    teacher WER  the same for the flite renderings (the ceiling: pocketsphinx's own errors);
                 with --teacher-tempos, pooled over renderings at those tempos: flite is
                 deterministic, so one rendering is one draw of the ASR's own errors, and a
                 tempo 2% off moves a teacher's WER by up to 7 points
    MCD          mel-cepstral distortion (dB, coefficients 1..24, DTW-aligned) from the teacher
    F0 RMSE      cents, on frames voiced in both after the same alignment
    copy ...     with --prep: the voice's WaveNet driven by the ground-truth conditioning
                 (real durations and F0) of test-split recordings, its WER, the recordings'
                 own WER, and its MCD from the recording. This isolates the vocoder's errors
                 from the prosody models'.
    teacher-prosody WER
                 with --teacher-prosody: the voice's WaveNet driven by the teacher's own
                 timing (flite's phone times) and F0 (extracted from its rendering) of the same
                 held-out sentence: what the voice would score with perfect prosody models.
    teacher-timing WER
                 with --teacher-timing: the teacher's timing as above, and the voice's own F0
                 model's pitch over it: tells the duration model's share from the F0 model's.
                 --timing-contrast K pulls each speech phone's log length toward the
                 sentence's mean (K < 1: smoother, the speech total kept); --timing-pauses
                 voice gives the pauses the voice's own lengths and --timing-phones voice the
                 speech phones (over the teacher's phrasing), to tell which part of the
                 teacher's timing costs the WaveNet words; --timing-classes vowel,nasal
                 gives the voice's lengths to those phone classes only.

The metrics live in ``tts.evaluation``. The last line is ``worst_wer X``: the worst speaker's
WER of synthesized speech, in %.

    python benchmarks/intelligibility.py                      # the bundled voice, all speakers
    python benchmarks/intelligibility.py --sentence-set templates  # the harder sentences
    python benchmarks/intelligibility.py --voice my-voice --sentences 5 --speakers p225,p226 \\
        --prep data/demo/prep --copy-utterances 3 --teacher-prosody --json results.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from frontend.audio import AudioError, load_audio
from frontend.conditioning import renormalize_log_f0
from frontend.phonemes import PHONE_CLASS, SILENCES, split_stress
from frontend.prosody import round_durations
from recipes.demo.flite import FliteError, at_tempo, parse_flite_args, render
from recipes.demo.relabel import render_timed
from recipes.demo.sentences import SENTENCE_SETS, heldout_sentences
from tts.evaluation import (
    Comparison,
    EvaluationError,
    Recognizer,
    analyze,
    compare,
    mean_mcd,
    pooled_f0_rmse,
    transcript_words,
    word_errors,
)
from tts.synthesizer import SynthesisError, Synthesizer, check_controls
from tts.voice import Speaker, VoiceError
from tts_common.corpus import PreparedCorpus, read_corpus

logger = logging.getLogger("intelligibility")

PROG = "intelligibility"
HELDOUT_SEED = 0  # the sentence set is fixed; --seed only changes the WaveNet's sampling
TIMING_SOURCES = ("teacher", "voice")  # --timing-phones, --timing-pauses
PHONE_CLASSES = tuple(sorted(set(PHONE_CLASS.values())))  # --timing-classes
_SETF_SHORT = {"int_f0_target_mean": "f0", "int_f0_target_stddev": "f0sd",
               "duration_stretch": "dur"}


class BenchmarkError(ValueError):
    """Unusable benchmark input; the message says what to change."""


# -- inputs ---------------------------------------------------------------------------------------
def _tempos(text: str) -> tuple[float, ...]:
    try:
        tempos = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        tempos = ()
    if not tempos or not all(math.isfinite(t) and 0.5 <= t <= 2.0 for t in tempos):
        raise argparse.ArgumentTypeError(f"{text!r}: give tempos between 0.5 and 2, "
                                         "comma-separated, e.g. 0.98,1,1.02")
    return tempos


def _phone_classes(text: str) -> tuple[str, ...]:
    classes = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [c for c in classes if c not in PHONE_CLASSES]
    if not classes or unknown:
        raise argparse.ArgumentTypeError(f"{text!r}: give phone classes from "
                                         f"{','.join(PHONE_CLASSES)}, comma-separated")
    return classes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default=None, help="voice directory (default: the bundled one)")
    parser.add_argument("--sentences", type=int, default=20,
                        help="held-out sentences per speaker (default 20)")
    parser.add_argument("--sentence-set", choices=SENTENCE_SETS, default="everyday",
                        help="held-out sentences: everyday ones (default; common phrasing, "
                             "the flite teachers score 2-8.5%% WER) or ones generated from "
                             "templates (unusual word pairings that the ASR's language model "
                             "fights: flite 13-29%%)")
    parser.add_argument("--speakers", default=None,
                        help="comma-separated speaker ids (default: all of the voice's)")
    parser.add_argument("--prep", default=None,
                        help="prepared corpus: enables copy synthesis from its test split")
    parser.add_argument("--copy-utterances", type=int, default=5,
                        help="test-split utterances per speaker for copy synthesis (default 5)")
    parser.add_argument("--teacher-prosody", action="store_true",
                        help="also synthesize every held-out sentence from its teacher's own "
                             "timing and F0 (tells prosody errors from vocoder errors)")
    parser.add_argument("--teacher-timing", action="store_true",
                        help="also synthesize every held-out sentence with its teacher's own "
                             "timing and the voice's F0 model's pitch over it (tells duration "
                             "errors from F0 errors)")
    parser.add_argument("--timing-contrast", type=float, default=1.0,
                        help="with --teacher-timing: scale each speech phone's log length "
                             "about the sentence's mean by this (default 1: as rendered; 0.8 "
                             "is the duration model's own regression to the mean)")
    parser.add_argument("--timing-pauses", choices=TIMING_SOURCES, default="teacher",
                        help="with --teacher-timing: the pauses' lengths, the teacher's "
                             "(default; flite keeps its edge silences) or the duration model's")
    parser.add_argument("--timing-phones", choices=TIMING_SOURCES, default="teacher",
                        help="with --teacher-timing: the speech phones' lengths, the teacher's "
                             "(default) or the duration model's over the teacher's phrasing")
    parser.add_argument("--timing-classes", type=_phone_classes, default=PHONE_CLASSES,
                        help="with --timing-phones voice: the phone classes that take the "
                             "duration model's lengths, the others keeping the teacher's "
                             f"(comma-separated; default all: {','.join(PHONE_CLASSES)})")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed of the WaveNet")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="speaking rate of the voice's own prosody (default 1.0; the "
                             "teacher-prosody and copy columns keep their recorded timing)")
    parser.add_argument("--draws", type=int, default=1,
                        help="synthesize every held-out sentence this many times, each with its "
                             "own seed, and pool the words (default 1; one draw of 20 sentences "
                             "moves a speaker's WER by up to 6 points from seed to seed)")
    parser.add_argument("--teacher-tempos", type=_tempos, default=(1.0,),
                        help="comma-separated tempos (> 1 faster) at which each teacher renders "
                             "every sentence for its WER, pooled (default 1: its own rendering; "
                             "e.g. 0.98,1,1.02 for draws of the teacher too); MCD and F0 are "
                             "always measured against its own rendering")
    parser.add_argument("--json", default=None, help="write every result to this JSON file")
    parser.add_argument("--threads", type=int, default=None,
                        help="sentences synthesized in parallel (default: the voice's default)")
    args = parser.parse_args(argv)
    if args.sentences < 1:
        parser.error("--sentences must be >= 1")
    if args.draws < 1:
        parser.error("--draws must be >= 1")
    if args.copy_utterances < 0:
        parser.error("--copy-utterances must be >= 0")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")
    if not (math.isfinite(args.timing_contrast) and 0.0 <= args.timing_contrast <= 2.0):
        parser.error("--timing-contrast must be between 0 and 2 (1: the teacher's own)")
    if (args.timing_contrast != 1.0 or args.timing_pauses != "teacher"
            or args.timing_phones != "teacher") and not args.teacher_timing:
        parser.error("--timing-contrast, --timing-pauses and --timing-phones change "
                     "--teacher-timing: add it")
    if args.timing_classes != PHONE_CLASSES and args.timing_phones != "voice":
        parser.error("--timing-classes chooses the phones that --timing-phones voice "
                     "changes: add --teacher-timing --timing-phones voice")
    return args


def select_speakers(synth: Synthesizer, wanted: str | None) -> list[Speaker]:
    """The voice's speakers named in ``wanted`` ("p225,p226"), in that order; None → all."""
    if wanted is None:
        return list(synth.speaker_info)
    by_index = {s.index: s for s in synth.speaker_info}
    chosen: list[Speaker] = []
    for name in wanted.split(","):
        if name.strip():
            speaker = by_index[synth.speaker_index(name)]  # SynthesisError lists the valid ids
            if speaker not in chosen:
                chosen.append(speaker)
    if not chosen:
        raise BenchmarkError("--speakers names no speaker")
    return chosen


def teacher_args(speaker: Speaker) -> list[str] | None:
    """The flite options of a speaker's ``source``, checked; None if it has no flite source."""
    if not speaker.source.strip().startswith("flite"):
        return None
    try:
        return parse_flite_args(speaker.source)
    except FliteError as exc:
        raise BenchmarkError(f"speaker {speaker.id}: cannot use its source "
                             f"{speaker.source!r}: {exc}") from None


def short_source(args: list[str] | None) -> str:
    """flite options as a short label: ``-voice slt --setf int_f0_target_mean=175 --setf
    duration_stretch=1`` → ``slt f0=175 dur=1``."""
    if args is None:
        return "-"
    voice, settings, others = "", [], []
    pairs = iter(args)
    for arg in pairs:
        if arg == "-voice":
            voice = next(pairs, "")
        elif arg == "--setf":
            key, _, value = next(pairs, "").partition("=")
            settings.append(f"{_SETF_SHORT.get(key, key)}={value}")
        else:
            others.append(arg)
    return " ".join([voice or "flite", *settings, *others])


def read_prepared(directory: str | Path) -> PreparedCorpus:
    """The prepared corpus with what copy synthesis and the held-out check read."""
    return read_corpus(directory, BenchmarkError, ("speaker", "text", "wav", "cond"))


def check_heldout_unseen(sentences: Sequence[str], corpus: PreparedCorpus) -> None:
    """Refuse to go on if any held-out sentence is (after normalization) in the corpus."""
    seen = {tuple(transcript_words(entry["text"])): entry["utt_id"] for entry in corpus.manifest}
    for sentence in sentences:
        utt_id = seen.get(tuple(transcript_words(sentence)))
        if utt_id is not None:
            raise BenchmarkError(
                f"held-out sentence {sentence!r} is in the prepared corpus as {utt_id} "
                f"({corpus.directory}): the benchmark would measure training data")


def check_conditioning_compatible(synth: Synthesizer, corpus: PreparedCorpus) -> None:
    stats, voice = corpus.stats, synth.voice
    for key, expected in (("sample_rate", voice.sample_rate), ("hop_length", voice.hop_length),
                          ("cond_channels", voice.conditioning.channels)):
        if stats.get(key) != expected:
            raise BenchmarkError(f"{corpus.directory / 'stats.json'}: {key} is {stats.get(key)!r} "
                                 f"but the voice has {expected}: not a corpus for this voice")


def copy_conditioning(synth: Synthesizer, corpus: PreparedCorpus,
                      entry: dict[str, Any]) -> np.ndarray:
    """The ground-truth conditioning of a prepared utterance, in the voice's normalization."""
    path = corpus.directory / entry["cond"]
    try:
        conditioning = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"cannot read {path}: {exc}") from None
    voice_f0 = synth.voice.conditioning
    prep_mean, prep_std = corpus.log_f0_normalization(BenchmarkError)
    voice_mean, voice_std = voice_f0.log_f0_mean, voice_f0.log_f0_std
    if not (math.isclose(prep_mean, voice_mean, abs_tol=1e-9)
            and math.isclose(prep_std, voice_std, abs_tol=1e-9)):
        # cond files were normalized with the corpus's statistics, the voice with its own.
        conditioning = renormalize_log_f0(conditioning, prep_mean, prep_std, voice_mean, voice_std)
    return conditioning


def copy_entries(corpus: PreparedCorpus, speaker: str, count: int) -> list[dict[str, Any]]:
    entries = [e for e in corpus.manifest if e["speaker"] == speaker and e["split"] == "test"]
    entries.sort(key=lambda e: e["utt_id"])
    return entries[:count]


def teacher_timing(synth: Synthesizer, text: str, teacher: list[str]
                   ) -> tuple[np.ndarray, Any, np.ndarray]:
    """The teacher's rendering of ``text``, the Utterance with its pauses, and its frames per
    phoneme at the voice's hop."""
    timed = render_timed(text, teacher, synth.voice.hop_length)
    if isinstance(timed, str):
        raise BenchmarkError(f"cannot time {text!r} by its teacher {' '.join(teacher)}: {timed}")
    return timed


def teacher_prosody_conditioning(synth: Synthesizer, text: str,
                                 teacher: list[str]) -> np.ndarray:
    """The voice's conditioning of ``text`` with the durations and F0 of its teacher's rendering
    (extracted as the corpus preparation extracts them) instead of the prosody models'."""
    from frontend.conditioning import wavenet_conditioning
    from frontend.features import frame_features, phoneme_features
    from recipes.vctk.prepare import corpus_f0

    audio, utt, durations = teacher_timing(synth, text, teacher)
    f0 = corpus_f0(audio, Recognizer.sample_rate, synth.voice.hop_length)  # (T, 2)
    frame_feats = frame_features(phoneme_features(utt), durations)  # (T, D + 4)
    return wavenet_conditioning(frame_feats, f0[:, 0], f0[:, 1],
                                synth.log_f0_mean, synth.log_f0_std)  # (T, C)


def reshaped_timing(durations: np.ndarray, pauses: np.ndarray, contrast: float) -> np.ndarray:
    """Frames per phoneme (N,) with each speech phone's log length scaled about the
    sentence's mean log length by ``contrast`` (1: unchanged, 0: all alike), rescaled to the
    same speech total and rounded cumulatively; pauses (``pauses``, (N,) bool) keep theirs."""
    frames = np.asarray(durations, dtype=np.float64).copy()  # (N,)
    speech = ~pauses & (frames > 0)
    if contrast != 1.0 and speech.any():
        logs = np.log(frames[speech])
        smoothed = np.exp(logs.mean() + contrast * (logs - logs.mean()))
        frames[speech] = smoothed * frames[speech].sum() / smoothed.sum()
    return round_durations(frames, pauses)


# -- measuring ------------------------------------------------------------------------------------
@dataclass
class Job:
    """One measurement: a held-out sentence ("synth"), the same with the teacher's prosody
    ("prosody") or timing alone ("timing"), or a test-split utterance ("copy")."""

    kind: str
    speaker: Speaker
    text: str
    seed: int
    speed: float = 1.0  # "synth" only: the others keep their recorded timing
    timing_contrast: float = 1.0  # "timing" only: see reshaped_timing
    timing_sources: tuple[str, str] = ("teacher", "teacher")  # "timing": (phones, pauses)
    timing_classes: tuple[str, ...] = PHONE_CLASSES  # "timing": the phones "voice" applies to
    teacher: list[str] | None = None  # flite options, held-out sentences (all but "copy")
    entry: dict[str, Any] | None = None  # manifest entry, copy synthesis only


def run_job(synth: Synthesizer, corpus: PreparedCorpus | None, job: Job) -> np.ndarray:
    """The voice's audio for a job (runs in a worker thread)."""
    if job.kind == "synth":
        return synth.synthesize(job.text, speaker=job.speaker.id, seed=job.seed,
                                speed=job.speed)
    if job.kind == "prosody":
        assert job.teacher is not None
        conditioning = teacher_prosody_conditioning(synth, job.text, job.teacher)
        return synth.vocode_conditioning([conditioning], [job.speaker.index],
                                         seeds=[job.seed])[0]
    if job.kind == "timing":
        assert job.teacher is not None
        utterance, durations = teacher_timing(synth, job.text, job.teacher)[1:]
        if job.timing_contrast != 1.0 or "voice" in job.timing_sources:
            pauses = np.array([p in SILENCES for p in utterance.phonemes])  # (N,)
            own = (synth.plan(utterance, job.speaker.index).durations  # (N,)
                   if "voice" in job.timing_sources else None)
            phones, pause_lengths = (own if source == "voice" else durations
                                     for source in job.timing_sources)
            chosen = np.array([PHONE_CLASS.get(split_stress(p)[0]) in job.timing_classes
                               for p in utterance.phonemes])  # (N,)
            phones = np.where(chosen, phones, durations)
            durations = reshaped_timing(np.where(pauses, pause_lengths, phones), pauses,
                                        job.timing_contrast)
        plan = synth.plan(utterance, job.speaker.index, durations=durations)
        return synth.vocode_conditioning([plan.conditioning], [job.speaker.index],
                                         seeds=[job.seed])[0]
    assert corpus is not None and job.entry is not None
    conditioning = copy_conditioning(synth, corpus, job.entry)
    return synth.vocode_conditioning([conditioning], [job.speaker.index], seeds=[job.seed])[0]


def transcription(recognizer: Recognizer, audio: np.ndarray,
                  reference: list[str]) -> dict[str, Any]:
    hypothesis = recognizer.words(audio)
    return {"hypothesis": " ".join(hypothesis), "errors": word_errors(reference, hypothesis),
            "words": len(reference)}


class TeacherJudge:
    """The teachers' transcriptions, pooled over ``tempos``, each sentence's once for all draws
    (used from the measuring thread only). With one tempo a transcription as the voice's; with
    several, the pooled errors and words and each tempo's own under ``renderings``."""

    def __init__(self, recognizer: Recognizer, tempos: Sequence[float]):
        self.recognizer, self.tempos = recognizer, tuple(tempos)
        self._pooled: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}

    def transcription(self, text: str, teacher: list[str], own_audio: np.ndarray
                      ) -> dict[str, Any]:
        key = (text, tuple(teacher))
        if key not in self._pooled:
            reference = transcript_words(text)
            renderings = []
            for tempo in self.tempos:
                audio = own_audio if tempo == 1.0 else render(text, at_tempo(teacher, tempo))
                renderings.append({"tempo": tempo,
                                   **transcription(self.recognizer, audio, reference)})
            pooled: dict[str, Any] = {"errors": sum(r["errors"] for r in renderings),
                                      "words": sum(r["words"] for r in renderings)}
            if len(renderings) == 1:
                pooled["hypothesis"] = renderings[0]["hypothesis"]
            else:
                pooled["renderings"] = renderings
            self._pooled[key] = pooled
        return self._pooled[key]


def measure(job: Job, audio: np.ndarray, recognizer: Recognizer,
            corpus: PreparedCorpus | None, judge: TeacherJudge) -> dict[str, Any]:
    """Per-sentence results: transcriptions and the comparison with the reference audio."""
    reference_words = transcript_words(job.text)
    record: dict[str, Any] = {"kind": job.kind, "speaker": job.speaker.id, "text": job.text,
                              "seed": job.seed, "seconds": len(audio) / Recognizer.sample_rate,
                              "reference": " ".join(reference_words),
                              "voice": transcription(recognizer, audio, reference_words)}
    if job.kind != "copy":
        if job.teacher is None:
            return record
        reference_audio = render(job.text, job.teacher)
        if job.kind == "synth":
            record["teacher"] = judge.transcription(job.text, job.teacher, reference_audio)
    else:
        assert corpus is not None and job.entry is not None
        record["utt_id"] = job.entry["utt_id"]
        try:
            reference_audio = load_audio(corpus.directory / job.entry["wav"])
        except AudioError as exc:
            raise BenchmarkError(str(exc)) from None
        record["recording"] = transcription(recognizer, reference_audio, reference_words)
    record["comparison"] = compare(analyze(reference_audio), analyze(audio)).to_dict()
    return record


def _comparisons(records: list[dict[str, Any]]) -> list[Comparison]:
    comparisons = []
    for record in records:
        if "comparison" in record:
            fields = dict(record["comparison"])
            if fields["f0_rmse_cents"] is None:
                fields["f0_rmse_cents"] = math.nan
            comparisons.append(Comparison(**fields))
    return comparisons


def _wer(records: list[dict[str, Any]], key: str) -> float | None:
    scored = [r[key] for r in records if key in r]
    words = sum(s["words"] for s in scored)
    return 100.0 * sum(s["errors"] for s in scored) / words if words else None


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def summarize(speaker: str, source: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-speaker (or overall) figures: WERs in %, frame-weighted MCD, pooled F0 RMSE."""
    held_out = [r for r in records if r["kind"] == "synth"]
    copy = [r for r in records if r["kind"] == "copy"]
    prosody = [r for r in records if r["kind"] == "prosody"]
    timing = [r for r in records if r["kind"] == "timing"]
    return {
        "speaker": speaker, "source": source, "sentences": len(held_out),
        "wer": _wer(held_out, "voice"), "teacher_wer": _wer(held_out, "teacher"),
        "mcd_db": _finite(mean_mcd(_comparisons(held_out))),
        "f0_rmse_cents": _finite(pooled_f0_rmse(_comparisons(held_out))),
        "prosody_wer": _wer(prosody, "voice"),
        "prosody_mcd_db": _finite(mean_mcd(_comparisons(prosody))),
        "timing_wer": _wer(timing, "voice"),
        "copy_utterances": len(copy), "copy_wer": _wer(copy, "voice"),
        "recording_wer": _wer(copy, "recording"),
        "copy_mcd_db": _finite(mean_mcd(_comparisons(copy))),
        "copy_f0_rmse_cents": _finite(pooled_f0_rmse(_comparisons(copy))),
    }


COLUMNS = (("speaker", "speaker", "{}"), ("source", "source voice", "{}"),
           ("wer", "WER %", "{:.1f}"), ("teacher_wer", "teacher WER %", "{:.1f}"),
           ("mcd_db", "MCD dB", "{:.2f}"), ("f0_rmse_cents", "F0 RMSE cents", "{:.0f}"),
           ("prosody_wer", "teacher-prosody WER %", "{:.1f}"),
           ("prosody_mcd_db", "teacher-prosody MCD dB", "{:.2f}"),
           ("timing_wer", "teacher-timing WER %", "{:.1f}"),
           ("copy_wer", "copy WER %", "{:.1f}"), ("recording_wer", "recording WER %", "{:.1f}"),
           ("copy_mcd_db", "copy MCD dB", "{:.2f}"))


def format_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table, one row per summary; missing figures are "-"."""
    lines = ["| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
             "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for row in rows:
        cells = ["-" if row.get(key) is None else fmt.format(row[key]) for key, _, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns {"speakers": [...], "overall": {...}, "sentences": [...]}."""
    import torch
    from tqdm import tqdm

    check_controls(speed=args.speed)  # before any voice is loaded
    torch.set_num_threads(1)  # parallelism comes from synthesizing several sentences at once
    synth = Synthesizer.from_pretrained(args.voice, threads=args.threads)
    speakers = select_speakers(synth, args.speakers)
    teachers = {s.id: teacher_args(s) for s in speakers}  # checks flite before any work
    try:
        sentences = heldout_sentences(args.sentences, seed=HELDOUT_SEED,
                                      sentence_set=args.sentence_set)
    except ValueError as exc:
        raise BenchmarkError(str(exc)) from None
    corpus = None
    if args.prep is not None:
        corpus = read_prepared(args.prep)
        check_heldout_unseen(sentences, corpus)
        check_conditioning_compatible(synth, corpus)

    jobs: list[Job] = []
    for speaker in speakers:
        # Draw d of sentence k samples with seed + d * len(sentences) + k: one --draws 1 run
        # is the run of before, and no two draws share a seed.
        kinds = ["synth"]
        if teachers[speaker.id] is not None:
            kinds += ["prosody"] * args.teacher_prosody + ["timing"] * args.teacher_timing
        # Every kind speaks every draw with the same seeds, so they differ in the prosody alone.
        jobs += [Job(kind, speaker, text, args.seed + d * len(sentences) + k,
                     speed=args.speed if kind == "synth" else 1.0, teacher=teachers[speaker.id],
                     timing_contrast=args.timing_contrast,
                     timing_sources=(args.timing_phones, args.timing_pauses),
                     timing_classes=args.timing_classes)
                 for kind in kinds for d in range(args.draws) for k, text in enumerate(sentences)]
        if corpus is not None and args.copy_utterances:
            entries = copy_entries(corpus, speaker.id, args.copy_utterances)
            if not entries:
                logger.warning("%s: no test-split utterance in %s, so no copy synthesis",
                               speaker.id, corpus.directory)
            jobs += [Job("copy", speaker, e["text"], args.seed + k, entry=e)
                     for k, e in enumerate(entries)]
    logger.info("voice %s: %d speakers, %d sentences each, %d jobs, %d threads",
                synth.voice.directory, len(speakers), len(sentences), len(jobs), synth.threads)

    recognizer = Recognizer()
    judge = TeacherJudge(recognizer, args.teacher_tempos)
    records: list[dict[str, Any]] = []
    # Sentences are synthesized in worker threads (one sentence each: the generation loop
    # releases the GIL) while this thread transcribes and measures the finished ones in order.
    with ThreadPoolExecutor(max_workers=synth.threads) as pool, \
            tqdm(total=len(jobs), desc=PROG, unit="utt", file=sys.stderr,
                 disable=None) as progress:
        futures: list[Future] = [pool.submit(run_job, synth, corpus, job) for job in jobs]
        try:
            for job, future in zip(jobs, futures):
                records.append(measure(job, future.result(), recognizer, corpus, judge))
                progress.update(1)
        finally:
            for future in futures:
                future.cancel()  # after an error, do not wait for the rest

    summaries = [summarize(s.id, short_source(teachers[s.id]),
                           [r for r in records if r["speaker"] == s.id]) for s in speakers]
    overall = summarize("all", "", records)
    return {"voice": str(synth.voice.directory), "seed": args.seed, "draws": args.draws,
            "speed": args.speed, "teacher_tempos": list(args.teacher_tempos),
            "teacher_timing": args.teacher_timing, "timing_contrast": args.timing_contrast,
            "timing_phones": args.timing_phones, "timing_pauses": args.timing_pauses,
            "timing_classes": list(args.timing_classes),
            "sentence_set": args.sentence_set, "sentences": sentences,
            "speakers": summaries, "overall": overall, "results": records}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s: %(message)s")
    logger.setLevel(logging.INFO)
    try:
        results = run(args)
        if args.json is not None:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    except (BenchmarkError, VoiceError, SynthesisError, FliteError, EvaluationError,
            OSError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(f"voice: {results['voice']}  seed: {results['seed']}  "
          f"held-out sentences per speaker: {len(results['sentences'])} "
          f"({results['sentence_set']}), {results['draws']} draw(s) each, "
          f"speed {results['speed']:g}, teacher tempos "
          f"{','.join(f'{t:g}' for t in results['teacher_tempos'])}"
          + (f", teacher timing at contrast {results['timing_contrast']:g} with the "
             f"{results['timing_phones']}'s phones"
             + ("" if tuple(results["timing_classes"]) == PHONE_CLASSES
                else f" ({','.join(results['timing_classes'])}; the others the teacher's)")
             + f" and the {results['timing_pauses']}'s pauses"
             if results["teacher_timing"] else ""))
    print(format_table(results["speakers"] + [results["overall"]]))
    worst = max((s["wer"] for s in results["speakers"] if s["wer"] is not None), default=math.nan)
    print(f"worst_wer {worst:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
