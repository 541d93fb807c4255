"""Corpus layouts besides VCTK's: what ``recipes.vctk.prepare.scan_corpus`` reads them with.

    LJSpeech   CORPUS/metadata.csv  ``ID|text|normalized text`` per line (the normalized
               column is used when it is there), CORPUS/wavs/ID.wav; one speaker, named
               after the corpus directory (e.g. ``LJSpeech-1.1``).
    folder     CORPUS/NAME.wav + CORPUS/NAME.txt (any sample rate, mono or stereo; .flac too),
               one speaker named after the directory; or CORPUS/SPEAKER/NAME.wav +
               CORPUS/SPEAKER/NAME.txt, one speaker per sub-folder.

Both give the same ``Corpus`` of ``Item``s the VCTK scanner gives, so every stage after the scan
is shared. An LJSpeech transcript lives in one line of metadata.csv; the scan writes it to
``PREP/text/SPEAKER/ID.txt`` (rewritten only when it changed, so the alignment stage's
make-style freshness check still sees an edited transcript as newer).

A recording without a transcript (or the reverse) is a scan skip with its reason; a corpus in
which no recording has a transcript is one ``PrepareError`` saying which half is missing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recipes.vctk.prepare import Corpus, PrepareConfig

LAYOUT_LJSPEECH = "ljspeech"
LAYOUT_FOLDER = "folder"
AUDIO_SUFFIXES = (".wav", ".flac")
TRANSCRIPT_SUFFIX = ".txt"
LJSPEECH_METADATA = "metadata.csv"
LJSPEECH_AUDIO_DIR = "wavs"
TEXT_DIR = "text"  # PREP/text/SPEAKER/UTT.txt: transcripts that had no file of their own
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def speaker_name(directory: Path) -> str:
    """A directory name as a speaker id: letters, digits, ``_ . -`` (others become ``_``)."""
    return _UNSAFE.sub("_", directory.resolve().name).strip("_.") or "speaker"


def detect_layout(corpus_dir: Path) -> str | None:
    """``ljspeech`` or ``folder`` for a directory in one of those layouts, else None (also for
    a VCTK release missing its audio: its speaker-info.txt is no transcript)."""
    if (corpus_dir / "speaker-info.txt").is_file():
        return None
    if (corpus_dir / LJSPEECH_METADATA).is_file():
        return LAYOUT_LJSPEECH
    if _has_files(corpus_dir) or any(_has_files(d) for d in _subdirectories(corpus_dir)):
        return LAYOUT_FOLDER
    return None


def _subdirectories(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))


def _files(directory: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """``{stem: path}`` of the visible files with one of ``suffixes`` (case-insensitive)."""
    return {p.stem: p for p in sorted(directory.iterdir())
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes}


def _has_files(directory: Path) -> bool:
    return bool(_files(directory, AUDIO_SUFFIXES + (TRANSCRIPT_SUFFIX,)))


def scan_layout(layout: str, root: Path, config: "PrepareConfig") -> "Corpus":
    """The ``Corpus`` of ``root`` in ``layout`` (``detect_layout``'s answer)."""
    if layout == LAYOUT_LJSPEECH:
        return _scan_ljspeech(root, config)
    return _scan_folder(root, config)


def _pairs_of_speaker(speaker: str, audio: dict[str, Path], texts: dict[str, Path],
                      where: str, skip, config: "PrepareConfig", prefix: bool) -> list:
    """Items for the stems that have both files; skips for those with one. ``prefix``: the
    utterance ids get the speaker's name in front (stems repeat across speakers' folders)."""
    from recipes.vctk.prepare import Item

    items = []
    for stem in sorted(set(audio) | set(texts)):
        utt_id = f"{speaker}_{stem}" if prefix and not stem.startswith(f"{speaker}_") else stem
        if stem not in texts:
            skip(utt_id, f"recording without transcript: {audio[stem]} has no transcript "
                         f"({stem}{TRANSCRIPT_SUFFIX}) beside it")
        elif stem not in audio:
            skip(utt_id, f"transcript without audio: {stem} has a transcript but no "
                         f"{stem}.wav in {where}")
        else:
            items.append(Item(utt_id, speaker, str(audio[stem]), str(texts[stem])))
    if config.max_per_speaker > 0:
        items = items[: config.max_per_speaker]
    return items


def _missing_half(root: Path, audio_count: int, text_count: int, what: str) -> str:
    """Why nothing could be paired: which half of the corpus is missing."""
    if audio_count and not text_count:
        return (f"{root} has {audio_count} recording(s) but no transcripts: put NAME.txt (the "
                f"words spoken) beside each NAME.wav{what}")
    if text_count and not audio_count:
        return (f"{root} has {text_count} transcript(s) but no recordings: put NAME.wav beside "
                f"each NAME.txt{what}")
    if not audio_count:
        return (f"no audio in {root}: expected NAME.wav + NAME.txt pairs (or one sub-folder of "
                "them per speaker), LJSpeech's metadata.csv + wavs/, or a VCTK release")
    return (f"nothing to prepare in {root}: none of its {audio_count} recordings has a "
            f"transcript of the same name{what}")


def _select_speakers(found: dict[str, object], config: "PrepareConfig", root: Path) -> list[str]:
    from recipes.vctk.prepare import PrepareError

    if not config.speakers:
        return sorted(found)
    unknown = [s for s in config.speakers if s not in found]
    if unknown:
        raise PrepareError(f"speaker(s) {', '.join(unknown)} not in {root}: choose from "
                           f"{', '.join(sorted(found)[:8])}{' ...' if len(found) > 8 else ''}")
    return list(config.speakers)


def _scan_folder(root: Path, config: "PrepareConfig") -> "Corpus":
    from recipes.vctk.prepare import Corpus, PrepareError, SpeakerInfo

    per_speaker = {speaker_name(d): d for d in _subdirectories(root) if _has_files(d)}
    # Recordings at the top make it one speaker's folder; so do transcripts with nothing below.
    single = bool(_files(root, AUDIO_SUFFIXES)) or (_has_files(root) and not per_speaker)
    speaker_dirs = {speaker_name(root): root} if single else per_speaker
    skipped: list[dict[str, str]] = []

    def skip(utt_id: str, reason: str) -> None:
        skipped.append({"utt_id": utt_id, "stage": "scan", "reason": reason})

    items = []
    audio_count = text_count = 0
    for speaker in _select_speakers(speaker_dirs, config, root):
        directory = speaker_dirs[speaker]
        audio = _files(directory, AUDIO_SUFFIXES)
        texts = _files(directory, (TRANSCRIPT_SUFFIX,))
        audio_count, text_count = audio_count + len(audio), text_count + len(texts)
        items += _pairs_of_speaker(speaker, audio, texts, str(directory), skip, config,
                                   prefix=not single)
    if not items:
        raise PrepareError(_missing_half(root, audio_count, text_count, ""))
    speakers = {s: SpeakerInfo(id=s) for s in sorted({i.speaker for i in items})}
    return Corpus(LAYOUT_FOLDER, root, speakers, items, skipped)


def _read_metadata(path: Path) -> dict[str, str]:
    """``{ID: text}`` of an LJSpeech metadata.csv (the normalized column where present)."""
    from recipes.vctk.prepare import PrepareError

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PrepareError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    rows: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2 or not fields[0].strip():
            raise PrepareError(f"{path}:{number} is not 'ID|text|normalized text': "
                               f"{line.strip()[:60]!r}")
        spoken = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
        rows[fields[0].strip()] = " ".join(spoken.split())
    if not rows:
        raise PrepareError(f"{path} is empty: LJSpeech's metadata.csv has one 'ID|text|"
                           "normalized text' line per recording in wavs/")
    return rows


def _scan_ljspeech(root: Path, config: "PrepareConfig") -> "Corpus":
    from recipes.vctk.prepare import Corpus, PrepareError, SpeakerInfo, write_text_atomic

    metadata = _read_metadata(root / LJSPEECH_METADATA)
    audio_dir = root / LJSPEECH_AUDIO_DIR
    audio = _files(audio_dir, AUDIO_SUFFIXES) if audio_dir.is_dir() else {}
    speaker = speaker_name(root)
    _select_speakers({speaker: root}, config, root)
    texts: dict[str, Path] = {}
    for utt_id, spoken in metadata.items():
        if not spoken:
            continue  # an empty transcript: reported by the alignment stage if it has audio
        path = Path(config.prep_dir) / TEXT_DIR / speaker / f"{utt_id}{TRANSCRIPT_SUFFIX}"
        if utt_id in audio:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, spoken + "\n", only_if_changed=True)
        texts[utt_id] = path
    skipped: list[dict[str, str]] = []

    def skip(utt_id: str, reason: str) -> None:
        skipped.append({"utt_id": utt_id, "stage": "scan", "reason": reason})

    items = _pairs_of_speaker(speaker, audio, texts, str(audio_dir), skip, config, prefix=False)
    if not items:
        raise PrepareError(_missing_half(root, len(audio), len(texts),
                                         f" (LJSpeech: {LJSPEECH_METADATA} lists each "
                                         f"{LJSPEECH_AUDIO_DIR}/ID.wav)"))
    return Corpus(LAYOUT_LJSPEECH, root, {speaker: SpeakerInfo(id=speaker)}, items, skipped)
