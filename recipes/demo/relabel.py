"""Replace forced-alignment durations in a prepared *demo* corpus with flite's own phone times.

A real recording has no phone labels, so ``recipes.vctk.prepare`` finds them by forced
alignment, which misplaces a boundary by 10-20 ms now and then. The demo corpus is rendered by
flite, and flite knows exactly where every phone it spoke begins and ends (``-psdur``). The
duration and F0 models learn from these durations, and the bundled voice is judged against
fresh flite renderings, so training on the true boundaries removes label noise the models would
otherwise have to learn around.

For each ``align/SPK/UTT.json`` of a prepared corpus this re-renders the transcript with the
speaker's ``source`` command line, finds where the trimmed training wav sits in the rendering
(cross-correlation), and maps flite's phones onto our frontend's phonemes: phones that agree
take flite's times, a run where the two lexicons disagree (``replace``) shares its span equally,
and pauses come from where flite paused. An utterance whose mapping is ambiguous (our frontend
says phonemes flite does not, or flite pauses inside a disagreement) keeps its forced
alignment. The forced durations stay in the record under ``forced_durations``.

Afterwards rebuild the files that depend on the durations and retrain the prosody models:

    python -m recipes.demo.relabel data/demo/prep --jobs 2
    python -m recipes.vctk.prepare data/demo/vctk data/demo/prep --stage 4
"""

from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from frontend.phonemes import PAUSE, SILENCE, SILENCES, split_stress
from recipes.demo.flite import FliteError, parse_flite_args, render_with_phone_times
from tts_common.corpus import read_speakers

logger = logging.getLogger("recipes.demo.relabel")

LABELS_SOURCE = "flite -psdur"
# A pause shorter than this is not a pause the duration model should learn (one frame is 5 ms).
MIN_PAUSE_S = 0.010


class RelabelError(ValueError):
    """A prepared corpus this command cannot relabel at all."""


def find_offset(render: np.ndarray, trimmed: np.ndarray) -> int:
    """Sample index of ``render`` where ``trimmed`` (a resampled, trimmed copy of it) starts."""
    if len(trimmed) > len(render):
        raise ValueError("the training wav is longer than flite's rendering of its transcript")
    n = 1 << int(np.ceil(np.log2(len(render) + len(trimmed))))
    correlation = np.fft.irfft(np.fft.rfft(render, n) * np.conj(np.fft.rfft(trimmed, n)), n)
    lags = correlation[: len(render) - len(trimmed) + 1]  # (L,) non-negative lags only
    return int(np.argmax(lags))


def map_phone_times(our_speech: Sequence[str], flite_phones: Sequence[tuple[str, float, float]],
                    duration_s: float) -> list[tuple[str, float, float]] | str:
    """Our speech phonemes timed by flite: ``[(label, start_s, end_s), ...]`` with ``sil`` at
    both ends and ``sp`` where flite paused, or a reason string when the mapping is ambiguous.

    ``flite_phones`` are (phone without stress, start, end) in the training wav's time, with
    ``sil``/``sp`` for flite's pauses.
    """
    speech_index = [i for i, (phone, _, _) in enumerate(flite_phones) if phone not in SILENCES]
    if not speech_index:
        return "flite spoke no phones"
    flite_speech = [flite_phones[i][0] for i in speech_index]
    ours = [split_stress(p)[0] for p in our_speech]
    spans: list[list[float] | None] = [None] * len(ours)  # (start_s, end_s) per our phoneme
    leading_start: float | None = None
    matcher = difflib.SequenceMatcher(None, ours, flite_speech, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                _, start, end = flite_phones[speech_index[j1 + k]]
                spans[i1 + k] = [start, end]
        elif tag == "replace":
            first, last = speech_index[j1], speech_index[j2 - 1]
            if any(flite_phones[i][0] in SILENCES for i in range(first, last + 1)):
                return "flite pauses inside a word our lexicon pronounces differently"
            start, end = flite_phones[first][1], flite_phones[last][2]
            edges = np.linspace(start, end, i2 - i1 + 1)
            for k in range(i2 - i1):
                spans[i1 + k] = [float(edges[k]), float(edges[k + 1])]
        elif tag == "delete":
            return (f"flite does not say our {' '.join(ours[i1:i2])} "
                    f"(after {' '.join(ours[max(0, i1 - 3):i1]) or 'the start'})")
        else:  # insert: flite says phones we do not; a neighbour of ours takes their time
            start, end = flite_phones[speech_index[j1]][1], flite_phones[speech_index[j2 - 1]][2]
            if i1 > 0:
                spans[i1 - 1][1] = end  # type: ignore[index]
            else:
                leading_start = start  # the first phoneme's span is set by a later op
    if any(span is None for span in spans):
        return "flite's phones could not be matched to ours"
    if leading_start is not None:
        spans[0][0] = leading_start  # type: ignore[index]

    segments: list[tuple[str, float, float]] = [(SILENCE, 0.0, spans[0][0])]  # type: ignore[index]
    for k, phone in enumerate(our_speech):
        start, end = spans[k]  # type: ignore[misc]
        previous_end = segments[-1][2]
        if k > 0 and start - previous_end >= MIN_PAUSE_S:
            segments.append((PAUSE, previous_end, start))
        elif k > 0:
            start = previous_end  # a sliver of pause is given to the phoneme that follows
        segments.append((phone, start, end))
    segments.append((SILENCE, segments[-1][2], duration_s))
    return segments


def segments_to_durations(segments: Sequence[tuple[str, float, float]], total_frames: int,
                          frame_s: float) -> np.ndarray | str:
    """Frames per segment, summing to ``total_frames``, every segment at least one frame."""
    boundaries = np.round(np.array([end for _, _, end in segments[:-1]]) / frame_s).astype(int)
    boundaries = np.concatenate([[0], boundaries, [total_frames]])
    # Push boundaries apart so every segment keeps a frame (forward, then back from the end).
    for k in range(1, len(boundaries)):
        boundaries[k] = max(boundaries[k], boundaries[k - 1] + 1)
    boundaries[-1] = total_frames
    for k in range(len(boundaries) - 2, -1, -1):
        boundaries[k] = min(boundaries[k], boundaries[k + 1] - 1)
    if boundaries[0] != 0:
        return "the utterance has fewer frames than phonemes"
    return np.diff(boundaries)


def timed_utterance(text_utt: Any, phone_ends: Sequence[tuple[str, float]], offset_s: float,
                    duration_s: float, total_frames: int, frame_s: float
                    ) -> tuple[Any, np.ndarray, list[tuple[str, float, float]]] | str:
    """The text's Utterance (``text_to_utterance``) with the pauses flite made, frames per
    phoneme (summing to ``total_frames``) and the timed segments, from flite's phone end times
    (``offset_s``: where the audio they are timed against starts in flite's rendering); or a
    reason string when flite's phones cannot be mapped to ours."""
    from frontend.features import Utterance
    from recipes.vctk.prepare import reannotate_pauses

    flite_phones, start = [], 0.0
    for phone, end in phone_ends:
        flite_phones.append((phone, min(max(start - offset_s, 0.0), duration_s),
                             min(max(end - offset_s, 0.0), duration_s)))
        start = end
    # Phones cut off by the trimming (only ever silence) have no length left.
    flite_phones = [p for p in flite_phones if p[2] > p[1] or p[0] not in SILENCES]
    our_speech = [p for p in text_utt.phonemes if p not in SILENCES]
    segments = map_phone_times(our_speech, flite_phones, duration_s)
    if isinstance(segments, str):
        return segments
    durations = segments_to_durations(segments, total_frames, frame_s)
    if isinstance(durations, str):
        return durations
    utt = reannotate_pauses(text_utt, [label for label, _, _ in segments])
    assert isinstance(utt, Utterance)
    return utt, durations, segments


def render_timed(text: str, flite_args: str | Sequence[str], hop_length: int
                 ) -> tuple[np.ndarray, Any, np.ndarray] | str:
    """flite's rendering of ``text`` with its own timing in the project's terms: (audio, the
    Utterance with flite's pauses, frames per phoneme over ``ceil(len(audio) / hop)`` frames),
    or a reason string as ``timed_utterance`` gives it. The prosody a voice trained on this
    speaker would ideally predict (see benchmarks/intelligibility.py --teacher-prosody)."""
    from frontend.audio import SAMPLE_RATE, num_frames
    from frontend.features import text_to_utterance

    audio, phone_ends = render_with_phone_times(text, flite_args)
    timed = timed_utterance(text_to_utterance(text), phone_ends, 0.0, len(audio) / SAMPLE_RATE,
                            num_frames(len(audio), hop_length), hop_length / SAMPLE_RATE)
    if isinstance(timed, str):
        return timed
    utt, durations, _ = timed
    return audio, utt, durations


def flite_labels(text: str, wav: np.ndarray, flite_args: str | Sequence[str], num_frames: int,
                 text_utt: Any = None) -> dict[str, Any] | str:
    """The fields of an align record (``recipes.vctk.prepare``'s stage 2: utterance, phonemes,
    durations, alignment, labels_source) from flite's phone times for ``wav``, the trimmed
    training copy of flite's rendering of ``text``; or a reason they cannot be mapped."""
    from frontend.audio import HOP_LENGTH, SAMPLE_RATE
    from frontend.features import text_to_utterance

    if isinstance(flite_args, str):
        flite_args = parse_flite_args(flite_args)
    render, phone_ends = render_with_phone_times(text, flite_args)
    offset = find_offset(render, wav) / SAMPLE_RATE
    timed = timed_utterance(text_utt or text_to_utterance(text), phone_ends, offset,
                            len(wav) / SAMPLE_RATE, num_frames, HOP_LENGTH / SAMPLE_RATE)
    if isinstance(timed, str):
        return timed
    utt, durations, segments = timed
    return {"utterance": utt.to_dict(), "phonemes": list(utt.phonemes),
            "durations": [int(d) for d in durations],
            "alignment": [{"phone": "SIL" if label in SILENCES else label,
                           "start": round(s, 4), "end": round(e, 4)}
                          for label, s, e in segments],
            "labels_source": LABELS_SOURCE}


def relabel_record(record: dict[str, Any], wav: np.ndarray, flite_args: Sequence[str]
                   ) -> dict[str, Any] | str:
    """The align record with flite's durations, or a reason to keep the forced alignment."""
    from frontend.audio import HOP_LENGTH, SAMPLE_RATE
    from frontend.features import text_to_utterance

    if (int(record["sample_rate"]), int(record["hop_length"])) != (SAMPLE_RATE, HOP_LENGTH):
        return "the record's sample rate or hop is not the frontend's"
    text_utt = text_to_utterance(record["text"])
    our_speech = [p for p in text_utt.phonemes if p not in SILENCES]
    if our_speech != [p for p in record["phonemes"] if p not in SILENCES]:
        return "the frontend now reads the transcript differently from the prepared record"
    labels = flite_labels(record["text"], wav, flite_args, int(record["num_frames"]), text_utt)
    if isinstance(labels, str):
        return labels
    return {**record, **labels,
            "forced_durations": record.get("forced_durations", record["durations"]),
            "forced_phonemes": record.get("forced_phonemes", record["phonemes"])}


def boundary_shift_ms(record: dict[str, Any]) -> list[float]:
    """|forced − flite| for each speech-phoneme end that both label sequences share, in ms."""
    frame_ms = 1000.0 * record["hop_length"] / record["sample_rate"]

    def speech_ends(phonemes: list[str], durations: list[int]) -> list[int]:
        ends = np.cumsum(durations)
        return [int(e) for p, e in zip(phonemes, ends) if p not in SILENCES]

    if "forced_durations" not in record:  # labelled by flite from the start (--labels flite)
        return []
    new = speech_ends(record["phonemes"], record["durations"])
    old = speech_ends(record["forced_phonemes"], record["forced_durations"])
    return [abs(a - b) * frame_ms for a, b in zip(new, old)] if len(new) == len(old) else []


def _relabel_file(path: Path, prep: Path, sources: dict[str, list[str]]
                  ) -> tuple[str, str | None, list[float]]:
    """Relabel one align file in place. Returns (utt_id, reason it was kept or None, shifts)."""
    from frontend.audio import load_audio
    from recipes.vctk.prepare import write_json_atomic

    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("labels_source") == LABELS_SOURCE:
        return record["utt_id"], None, boundary_shift_ms(record)
    speaker = path.parent.name
    wav = load_audio(prep / "wav" / speaker / f"{record['utt_id']}.wav", record["sample_rate"])
    try:
        updated = relabel_record(record, wav, sources[speaker])
    except (FliteError, ValueError) as exc:
        return record["utt_id"], f"{type(exc).__name__}: {exc}", []
    if isinstance(updated, str):
        return record["utt_id"], updated, []
    write_json_atomic(path, updated)
    return record["utt_id"], None, boundary_shift_ms(updated)


def speaker_sources(prep: Path) -> dict[str, list[str]]:
    """flite options per speaker, from the prepared corpus's speakers.json."""
    sources = {}
    for speaker in read_speakers(prep, RelabelError):
        source = str(speaker.get("source", ""))
        if not source.startswith("flite"):
            raise RelabelError(f"speaker {speaker['id']} was not rendered by flite (source "
                               f"{source!r}): only the demo corpus has true phone times")
        sources[speaker["id"]] = parse_flite_args(source)
    return sources


def relabel(prep: Path, jobs: int = 1) -> dict[str, Any]:
    """Relabel every align file of ``prep``; returns counts and the boundary shift summary."""
    sources = speaker_sources(prep)
    paths = sorted((prep / "align").glob("*/*.json"))
    if not paths:
        raise RelabelError(f"{prep}/align holds no alignments: run recipes.vctk.prepare first")
    kept: dict[str, str] = {}
    shifts: list[float] = []
    from tqdm import tqdm

    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_relabel_file, path, prep, sources) for path in paths]
        for future in tqdm(concurrent.futures.as_completed(futures), total=len(futures),
                           desc="relabel", unit="utt", file=sys.stderr):
            utt_id, reason, shift = future.result()
            if reason:
                kept[utt_id] = reason
            shifts.extend(shift)
    values = np.array(shifts) if shifts else np.zeros(1)
    summary = {
        "utterances": len(paths),
        "relabeled": len(paths) - len(kept),
        "kept_forced_alignment": kept,
        "boundary_shift_ms": {"mean": round(float(values.mean()), 2),
                              "median": round(float(np.median(values)), 2),
                              "within_20ms_percent": round(100.0 * float(np.mean(values <= 20)),
                                                           2)},
    }
    (prep / "relabel.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Give a prepared demo corpus flite's true phone durations (see the module "
                    "docstring); then rerun recipes.vctk.prepare --stage 4.")
    parser.add_argument("prep", type=Path, help="prepared corpus directory (data/demo/prep)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        summary = relabel(args.prep, args.jobs)
    except (RelabelError, FliteError) as exc:
        print(f"relabel: error: {exc}", file=sys.stderr)
        return 1
    reasons = Counter(reason.split(" (")[0] for reason in summary["kept_forced_alignment"].values())
    print(f"relabeled {summary['relabeled']} of {summary['utterances']} utterances; "
          f"kept the forced alignment of {len(summary['kept_forced_alignment'])}")
    for reason, count in reasons.most_common(5):
        print(f"  {count:5d}  {reason}")
    shift = summary["boundary_shift_ms"]
    print(f"forced-alignment boundaries vs flite's: mean {shift['mean']} ms, median "
          f"{shift['median']} ms, {shift['within_20ms_percent']}% within 20 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
