"""The ``tts`` command line.

Every failure a user can cause ends as one line on stderr and a non-zero exit, never a
traceback. Set ``TTS_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click


class CliError(click.ClickException):
    """A user-facing error: printed as ``tts: error: <message>`` with exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"tts: error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wavenet-tts")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """Text-to-speech with a conditional WaveNet."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("text", required=False)
@click.option("-f", "--file", "path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Analyze each line of this file ('-' for stdin) as one utterance.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object (one per input line with -f, i.e. JSON Lines).")
@click.option("--backend", type=click.Choice(["cmudict", "espeak"]), default="cmudict",
              show_default=True, help="cmudict: CMUdict + neural G2P; espeak: espeak-ng.")
@click.option("--language", default="en-us", show_default=True,
              help="espeak-ng language for --backend espeak, e.g. fr-fr.")
@click.option("--lexicon", type=click.Path(dir_okay=False),
              help="User lexicon ('word PH1 PH2 ...' per line), overrides the G2P.")
@click.option("-s", "--speaker", default=None,
              help="Add the voice's predicted durations_ms and f0_hz per phoneme.")
@click.option("--voice", type=click.Path(), default=None,
              help="Voice directory for --speaker (default: the bundled voice).")
def analyze(text: str | None, path: str | None, as_json: bool, backend: str, language: str,
            lexicon: str | None, speaker: str | None, voice: str | None) -> None:
    """Show how TEXT is read: words, phonemes and each phoneme's linguistic context.

    With --speaker (and optionally --voice), also the voice's predicted duration (ms) and mean
    F0 (Hz, 0 for unvoiced) of every phoneme.
    """
    import json

    from frontend.features import Frontend, FrontendError, NothingToSayError

    if (text is None) == (path is None):
        raise click.UsageError("give either TEXT or -f FILE")
    frontend = Frontend(backend, language=language, lexicon=lexicon)  # type: ignore[arg-type]
    synth = None
    if speaker is not None or voice is not None:
        synth = _load_synthesizer(voice)
        speaker_index = synth.speaker_index(speaker)

    def describe(utterance) -> dict:
        data = utterance.to_dict()
        if synth is not None:
            data.update(_prosody_summary(synth, utterance, speaker_index))
        return data

    def render(utterance) -> str:
        if as_json:
            return json.dumps(describe(utterance), ensure_ascii=False)
        table = utterance.to_table()
        if synth is not None:
            summary = _prosody_summary(synth, utterance, speaker_index)
            rows = [f"{p:<5} {d:7.1f} ms {f:7.1f} Hz" for p, d, f in zip(
                utterance.phonemes, summary["durations_ms"], summary["f0_hz"])]
            table += "\n\nphone  duration      F0\n" + "\n".join(rows)
        return table

    if text is not None:
        try:
            utterance = frontend.utterance(text)
        except FrontendError as exc:
            if isinstance(exc, NothingToSayError) and backend == "cmudict":
                raise CliError(f"{exc} (for other scripts use --backend espeak with their "
                               "--language)") from None
            raise
        click.echo(render(utterance))
        return
    lines = _read_text_file(path).splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            utterance = frontend.utterance(line)
        except FrontendError as exc:
            # One bad line must not lose the others: report it in place and carry on.
            if as_json:
                error = {"text": line, "words": [], "phonemes": [], "error": str(exc)}
                click.echo(json.dumps(error, ensure_ascii=False))
            else:
                click.echo(f"tts: warning: line {number}: {exc}", err=True)
            continue
        click.echo(render(utterance) + ("" if as_json else "\n"))


def _prosody_summary(synth, utterance, speaker_index: int) -> dict:
    """Per phoneme: predicted duration in ms and mean F0 over its voiced frames (0: unvoiced)."""
    durations, f0 = synth.phoneme_prosody(utterance, speaker_index)
    frame_ms = 1000.0 * synth.voice.hop_length / synth.sample_rate
    return {"durations_ms": [round(float(d) * frame_ms, 1) for d in durations],
            "f0_hz": [round(float(f), 1) for f in f0]}


@cli.command("align")
@click.argument("audio", type=click.Path(dir_okay=False))
@click.argument("transcript", required=False)
@click.option("-t", "--transcript-file", type=click.Path(dir_okay=False, allow_dash=True),
              help="Read the transcript from this UTF-8 text file ('-' for stdin) instead.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"phones": [{"phone", "start", "end"}, ...], "words": [...]} '
                   "(seconds; silences are SIL).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Also draw the spectrogram, phone boundaries and F0 to this image "
                   "(.png, .pdf or .svg).")
@click.option("--raw", is_flag=True, help="Plain pocketsphinx (10 ms frames), no refinement.")
def align_command(audio: str, transcript: str | None, transcript_file: str | None,
                  as_json: bool, plot_path: str | None, raw: bool) -> None:
    """Forced alignment of one recording: where each phone of TRANSCRIPT is in AUDIO.

    TRANSCRIPT is the spoken text (English), as an argument or with -t FILE. AUDIO is any
    WAV/FLAC: mono or stereo, any sample rate or bit depth.

    \b
    Examples:
      tts align hello.wav "Hello world" --json
      tts align hello.wav -t hello.txt --plot hello.png
    """
    import json

    from frontend.align import Aligner, AlignerConfig, plot_alignment
    from frontend.audio import load_audio
    from frontend.features import text_to_utterance

    if (transcript is None) == (transcript_file is None):
        raise click.UsageError("give the transcript either as TRANSCRIPT or with -t FILE")
    if transcript_file is not None:
        transcript = _read_text_file(transcript_file)
    if plot_path is not None:
        suffix = os.path.splitext(plot_path)[1].lower()
        if suffix not in (".png", ".pdf", ".svg"):
            raise CliError(f"--plot {plot_path}: use a .png, .pdf or .svg file name")
        if not os.path.isdir(os.path.dirname(os.path.abspath(plot_path))):
            raise CliError(f"--plot {plot_path}: its directory does not exist")
    samples = load_audio(audio)
    utterance = text_to_utterance(transcript or "")
    pairs = [(word, phones) for word, phones in zip(utterance.words, utterance.word_phonemes())
             if phones]
    unknown = [word for word, source in zip(utterance.words, utterance.word_sources)
               if source == "neural"]
    if len(unknown) >= 3 and len(unknown) > len(utterance.words) / 2:
        raise CliError(
            f"the transcript does not look like English ({len(unknown)} of "
            f"{len(utterance.words)} words are unknown, e.g. {unknown[0]!r}): tts align "
            "aligns English speech only"
        )
    alignment = Aligner(AlignerConfig(refine=not raw)).align(samples, [p for _, p in pairs])
    words = [
        {"word": pairs[index][0],
         "start": round(min(p.start_s for p in alignment.phones if p.word_index == index), 4),
         "end": round(max(p.end_s for p in alignment.phones if p.word_index == index), 4)}
        for index in range(len(pairs))
    ]
    if plot_path is not None:
        plot_alignment(plot_path, samples, alignment, [word for word, _ in pairs])
    if as_json:
        click.echo(json.dumps({**alignment.to_json(), "words": words}))
        return
    click.echo(f"{'start':>8} {'end':>8}  {'phone':<6} word")
    previous_word = None
    for phone, row in zip(alignment.phones, alignment.to_json()["phones"]):
        word = ""
        if phone.word_index is not None and phone.word_index != previous_word:
            word = pairs[phone.word_index][0]
        previous_word = phone.word_index
        click.echo(f"{row['start']:8.3f} {row['end']:8.3f}  {row['phone']:<6} {word}".rstrip())


AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
DEFAULT_OUTPUT = "tts_output.wav"  # what Coqui's `tts` writes when no output is named


_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _read_text_file(source: str) -> str:
    """The text of a file ('-': stdin), decoded by its byte-order mark or as UTF-8.

    Refuses binary files instead of reading garbage; a missing or unreadable file is one line.
    """
    name = "stdin" if source == "-" else source
    try:
        with click.open_file(source, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                raise CliError(f"{name} starts with a {encoding} byte-order mark but is not "
                               f"{encoding} text: convert it (e.g. iconv -t utf-8)") from None
    if b"\x00" in data:
        raise CliError(f"{name} is a binary file, not text: give a UTF-8 text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{name} is not UTF-8 text: convert it (e.g. iconv -t utf-8)") from None


def _read_text_input(text: str | None, path: str | None) -> str:
    """TEXT, '-' for stdin, or -f FILE (see _read_text_file)."""
    if (text is None) == (path is None):
        raise click.UsageError("give the text to say as TEXT, '-' (stdin) or -f FILE")
    if text is not None and text != "-":
        return text
    return _read_text_file(path if path is not None else "-")


def _check_output_path(output: str) -> Path:
    path = Path(output)
    if path.suffix.lower() not in AUDIO_FORMATS:
        raise CliError(f"output {output}: use a .wav or .flac file name, or '-' for stdout")
    if path.is_dir():
        raise CliError(f"output {output} is a directory: give a file name")
    # A symlink's target is what gets written (and a temporary beside it), so check there.
    parent = Path(os.path.realpath(path)).parent if path.is_symlink() else path.parent
    if not parent.is_dir():
        raise CliError(f"cannot write {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CliError(f"cannot write {output}: permission denied")
    return path


def _require_training_extra(command: str) -> None:
    """Training commands need torch, which synthesis does not (it is the [train] extra)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise CliError(f"{command} needs PyTorch, which this installation lacks (synthesis runs "
                       "without it): pip install 'wavenet-tts[train]'")


def _load_synthesizer(voice: str | None, *, lexicon: str | None = None):
    from tts.synthesizer import Synthesizer

    return Synthesizer.from_pretrained(voice, lexicon=lexicon)


def _warn_unspeakable(content: str, shown: int = 8) -> None:
    """One warning line naming what the frontend will drop (other scripts, emoji)."""
    from frontend.normalize import unspeakable_characters

    runs = unspeakable_characters(content)
    if runs:
        more = f" and {len(runs) - shown} more" if len(runs) > shown else ""
        listed = ", ".join(run[:20] for run in runs[:shown])
        click.echo(f"tts: warning: skipping what cannot be spoken: {listed}{more}", err=True)


@cli.command()
@click.argument("text", required=False)
@click.option("-f", "--file", "path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Read the text from this UTF-8 file ('-' for stdin).")
@click.option("-s", "--speaker", help="Speaker id (see `tts speakers`); VCTK_p225 = p225.")
@click.option("-o", "--output", default=None,
              help=f"Output .wav/.flac file, or '-' for stdout  [default: {DEFAULT_OUTPUT}]")
@click.option("--voice", type=click.Path(), help="Voice directory (default: the bundled voice).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Sampling seed: the same text, speaker and seed give the same audio.")
@click.option("--speed", type=float, default=1.0, show_default=True,
              help="Speaking rate: 2 is twice as fast.")
@click.option("--pitch", type=float, default=0.0, show_default=True,
              help="Pitch shift in semitones.")
@click.option("--pitch-range", type=float, default=1.0, show_default=True,
              help="Scale of the pitch movements: 0 is monotone.")
@click.option("--temperature", type=float, default=None,
              help="Sampling temperature of the WaveNet (default: the voice's).")
@click.option("--raw", is_flag=True,
              help="Write 16-bit PCM frames (no header) as each sentence is ready.")
@click.option("--lexicon", type=click.Path(dir_okay=False),
              help="User lexicon ('word PH1 PH2 ...' per line), overrides the G2P.")
def say(text: str | None, path: str | None, speaker: str | None, output: str | None,
        voice: str | None, seed: int, speed: float, pitch: float, pitch_range: float,
        temperature: float | None, raw: bool, lexicon: str | None) -> None:
    """Speak TEXT (or -f FILE, or '-' for stdin) into a sound file.

    \b
    Examples:
      tts say "Hello there." --speaker p225 -o hello.wav
      tts say -f story.txt -o story.flac --speed 1.1
      tts say "Streaming." -o - --raw | aplay -r 16000 -f S16_LE -c 1
    """
    content = _read_text_input(text, path)
    if not content.strip():
        raise CliError("the text is empty: give some words to say")
    _warn_unspeakable(content)
    output = output if output is not None else DEFAULT_OUTPUT
    to_stdout = output == "-"
    if raw and not to_stdout:
        raise CliError("--raw writes headerless PCM to stdout: use it with -o -")
    target = None if to_stdout else _check_output_path(output)
    from tts.synthesizer import check_controls

    check_controls(speed=speed, pitch=pitch, pitch_range=pitch_range, temperature=temperature)
    synth = _load_synthesizer(voice, lexicon=lexicon)
    synth.speaker_index(speaker)  # an unknown speaker fails before any work
    phrases = synth.parse(content)  # so does a bad line anywhere in the text

    show_progress = sys.stderr.isatty()
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(total=len(phrases), unit="phrase", file=sys.stderr)
    chunks = synth.stream(phrases, speaker, seed=seed, speed=speed, pitch=pitch,
                          pitch_range=pitch_range, temperature=temperature,
                          progress=bar.update if bar is not None else None)
    try:
        if to_stdout:
            _write_stdout(chunks, synth.sample_rate, raw)
        else:
            _write_file_atomic(target, chunks, synth.sample_rate)
        if bar is not None:  # sentences without words are skipped, so the count may fall short
            bar.update(bar.total - bar.n)
    finally:
        if bar is not None:
            bar.close()
    if target is not None:
        click.echo(f"wrote {target}", err=True)


def _detach_stdout() -> None:
    """Point fd 1 at /dev/null, so that flushing what is still buffered at exit cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _write_stdout(chunks, sample_rate: int, raw: bool) -> None:
    """WAV (or with ``raw`` headerless PCM, sentence by sentence) to stdout.

    A reader that goes away (``| head -c 100``) ends `tts` quietly with status 0, as other
    Unix tools do; a full disk is one line.
    """
    import io

    import soundfile as sf

    from tts.serving import pcm16

    stdout = sys.stdout.buffer

    def emit(data: bytes) -> None:
        try:
            stdout.write(data)
            stdout.flush()
        except BrokenPipeError:
            _detach_stdout()
            raise click.exceptions.Exit(0) from None
        except OSError as exc:
            _detach_stdout()
            raise CliError(f"cannot write to stdout: {_os_reason(exc)}") from None

    if raw:
        for chunk in chunks:
            emit(pcm16(chunk))
        return
    # A WAV header holds the length, so the whole file is assembled first (use --raw to stream).
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", samplerate=sample_rate, channels=1, subtype="PCM_16",
                      format="WAV") as sound:
        for chunk in chunks:
            sound.write(chunk)
    emit(buffer.getvalue())


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return (exc.strerror or str(exc)).lower() if exc.errno else str(exc)


def _disk_full(directory: Path) -> bool:
    """Whether ``directory``'s file system has (almost) no room left for us."""
    try:
        info = os.statvfs(directory)
    except OSError:
        return False
    free = (info.f_bfree if os.geteuid() == 0 else info.f_bavail) * info.f_frsize
    return free < 64 * 1024


def _write_file_atomic(target: Path, chunks, sample_rate: int) -> None:
    """Stream sentences into a hidden temp file beside TARGET; rename only once complete.

    The file gets the mode open() would give (or keeps the mode of the file it replaces), a
    symlink's target is written, and SIGTERM/SIGINT remove the temporary (see _StopOnSignal).
    """
    import soundfile as sf

    from tts_common.files import atomic_file

    context = click.get_current_context(silent=True)
    stopper = context.find_object(_StopOnSignal) if context is not None else None
    try:
        with atomic_file(target, suffix=".part",
                         temporaries=stopper.temporaries if stopper else None) as tmp:

            def checked(call):
                try:
                    return call()
                except RuntimeError:  # libsndfile says only "System error." for a full disk
                    if _disk_full(tmp.parent):
                        raise OSError(errno.ENOSPC, "no space left on device") from None
                    raise

            sound = checked(lambda: sf.SoundFile(
                tmp, "w", samplerate=sample_rate, channels=1, subtype="PCM_16",
                format=AUDIO_FORMATS[target.suffix.lower()]))
            try:
                for chunk in chunks:
                    checked(lambda: sound.write(chunk))
            finally:
                checked(sound.close)
    except OSError as exc:
        if exc.errno is None:
            raise
        raise CliError(f"cannot write {target}: {_os_reason(exc)}") from None


class _StopOnSignal:
    """SIGTERM and SIGINT end `tts` at once with one line, removing the files being written.

    Python runs signal handlers only in the main thread and only between bytecodes, and the
    main thread may be inside a numba loop that does not come back for seconds: so the signal
    is read from a wakeup pipe by a thread of its own, which removes the temporaries and exits.
    """

    EXITS = {signal.SIGINT: ("interrupted", 130), signal.SIGTERM: ("terminated", 143)}

    def __init__(self) -> None:
        self.temporaries: set[Path] = set()  # in-progress outputs (see tts_common.files)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        previous = {signum: signal.signal(signum, _ignore_signal) for signum in self.EXITS}
        previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        watcher = threading.Thread(target=self._watch, args=(read_fd,), daemon=True,
                                   name="tts-signals")
        watcher.start()
        try:
            yield
        finally:
            signal.set_wakeup_fd(previous_fd)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            os.close(write_fd)  # the watcher reads end-of-file and returns
            watcher.join()

    def _watch(self, read_fd: int) -> None:
        try:
            while data := os.read(read_fd, 1):
                # A command that installed its own handler (a server's graceful shutdown)
                # has taken the signal over.
                if data[0] in self.EXITS and signal.getsignal(data[0]) is _ignore_signal:
                    self._stop(data[0])
        finally:
            os.close(read_fd)

    def _stop(self, signum: int) -> None:
        import shutil

        for path in list(self.temporaries):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        name, code = self.EXITS[signum]
        os.write(2, f"tts: {name}\n".encode())
        os._exit(code)  # not sys.exit: worker threads mid-sentence would delay it


def _ignore_signal(signum, frame) -> None:
    """The Python-level handler: the work is done by _StopOnSignal's watcher thread."""


@cli.command()
@click.option("--voice", type=click.Path(), help="Voice directory (default: the bundled voice).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of speaker objects.")
def speakers(voice: str | None, as_json: bool) -> None:
    """List the voice's speakers with their metadata."""
    import json

    from tts.voice import bundled_voice_dir, read_voice

    spec = read_voice(bundled_voice_dir() if voice is None else voice)
    infos = [s.to_dict() for s in spec.speakers]
    if as_json:
        click.echo(json.dumps(infos, indent=2))
        return
    for info in infos:
        click.echo(f"{info['id']:<8} {info['gender'] or '-':<2} {info['accent'] or '-':<12} "
                   f"{info['source']}")


@cli.command("export-voice")
@click.option("--prep", required=True, type=click.Path(file_okay=False),
              help="The prepared corpus the models were trained on.")
@click.option("--prosody", required=True, type=click.Path(file_okay=False),
              help="Experiment directory of `python -m frontend.prosody_train`, or a voice "
                   "directory whose duration and F0 models to take as they are.")
@click.option("--wavenet", required=True, type=click.Path(file_okay=False),
              help="Experiment directory of `python -m vocoder.train` (its EMA weights), or a "
                   "voice directory whose WaveNet to take as it is.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Voice directory to write (replaced atomically if it exists).")
@click.option("--name", default="voice", show_default=True, help="Name stored in voice.json.")
@click.option("--temperature", type=float, default=None,
              help="Default sampling temperature of the voice (default: the voice format's, "
                   "tts.voice.SynthesisSpec).")
@click.option("--level-dbfs", type=float, default=None,
              help="Active-speech level in dBFS every speaker is brought to, never clipping "
                   "(default: the voice format's, tts.voice.SynthesisSpec).")
@click.option("--envelope", default=None, type=click.Path(file_okay=False),
              help="Excitation mode: experiment directory of `python -m vocoder.envelope "
                   "--set model.envelope_layers=N` whose envelope network the voice uses.")
def export_voice_command(prep: str, prosody: str, wavenet: str, output: str, name: str,
                         temperature: float | None, level_dbfs: float | None,
                         envelope: str | None) -> None:
    """Assemble a voice directory (voice.json + safetensors) from trained checkpoints."""
    _require_training_extra("export-voice")
    from tts.voice import export_voice

    given = {key: value for key, value in (("temperature", temperature),
                                           ("level_dbfs", level_dbfs)) if value is not None}
    directory = export_voice(prep, prosody, wavenet, output, name=name, envelope_exp=envelope,
                             **given)
    click.echo(f"wrote voice {directory}", err=True)


@cli.command("adapt")
@click.argument("data", type=click.Path(file_okay=False))
@click.option("--speaker", required=True, help="Id of the new speaker (not one the voice has).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Voice directory to write: the base voice's speakers plus the new one.")
@click.option("--voice", type=click.Path(),
              help="Base voice directory (default: the bundled voice).")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="Wall-time budget of the whole run.")
@click.option("--gender", type=click.Choice(["F", "M"], case_sensitive=False), default=None)
@click.option("--accent", default="", help="Accent stored in the speaker's metadata.")
@click.option("--threads", type=click.IntRange(1), default=2, show_default=True,
              help="CPU threads for fitting (and worker processes for preparing).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def adapt_command(data: str, speaker: str, output: str, voice: str | None, minutes: float,
                  gender: str | None, accent: str, threads: int, quiet: bool) -> None:
    """Add a speaker to a voice from a few minutes of recordings (DATA: NAME.wav + NAME.txt
    files, or the LJSpeech layout).

    Resumable: run the same command again after an interruption (the work directory is
    OUTPUT.work). Only the new speaker's rows are fitted: the old speakers stay as they were.
    """
    _require_training_extra("adapt")
    from tts.adapt import AdaptConfig, adapt

    if not quiet:
        for name in ("tts.adapt", "recipes.vctk.prepare"):
            logging.getLogger(name).setLevel(logging.INFO)
    directory = adapt(AdaptConfig(data=Path(data), speaker=speaker, output=Path(output),
                                  voice=Path(voice) if voice else None, minutes=minutes,
                                  gender=(gender or "").upper(), accent=accent,
                                  threads=threads, jobs=threads))
    click.echo(f"wrote voice {directory}", err=True)


@cli.command("server")
@click.option("--voice", type=click.Path(), help="Voice directory (default: the bundled voice).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; then set --api-key).")
@click.option("--port", type=click.IntRange(1, 65535), default=5002, show_default=True)
@click.option("--max-text", type=click.IntRange(1), default=4096, show_default=True,
              help="Most characters of text one request may send (413 beyond).")
@click.option("--api-key", envvar="TTS_API_KEY", default=None,
              help="Require 'Authorization: Bearer KEY' on every endpoint but /health "
                   "(or set TTS_API_KEY).")
@click.option("--cors", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Allow browser pages from ORIGIN to call the API (repeatable); none by "
                   "default.")
@click.option("--max-concurrent", type=click.IntRange(1), default=8, show_default=True,
              help="Requests generating at once (batched together by the synthesizer).")
@click.option("--max-queue", type=click.IntRange(0), default=16, show_default=True,
              help="Requests waiting for a free slot; beyond that: 503 with Retry-After.")
def server_command(voice: str | None, host: str, port: int, max_text: int,
                   api_key: str | None, cors_origins: tuple[str, ...], max_concurrent: int,
                   max_queue: int) -> None:
    """Serve the voice over HTTP: a web page, Coqui's /api/tts and OpenAI's /v1/audio/speech.

    \b
    Examples:
      tts server                                   # http://127.0.0.1:5002/
      curl -o hi.wav 'http://127.0.0.1:5002/api/tts?text=Hello.&speaker_id=p225'
    """
    from tts.server import ServerConfig, serve

    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"tts server: http://{shown_host}:{port}/ once the voice is loaded "
               "(Ctrl+C stops it)", err=True)
    serve(ServerConfig(host=host, port=port, max_text=max_text, api_key=api_key or None,
                       cors_origins=list(cors_origins), max_concurrent=max_concurrent,
                       max_queue=max_queue), voice)


@cli.command("wyoming")
@click.option("--uri", default="tcp://127.0.0.1:10200", show_default=True,
              help="Where to listen: tcp://HOST:PORT, unix://PATH or stdio://.")
@click.option("--voice", type=click.Path(), help="Voice directory (default: the bundled voice).")
@click.option("--max-text", type=click.IntRange(1), default=4096, show_default=True,
              help="Most characters of text one synthesize request may send.")
@click.option("--max-concurrent", type=click.IntRange(1), default=8, show_default=True,
              help="Requests generating at once (batched together by the synthesizer).")
def wyoming_command(uri: str, voice: str | None, max_text: int, max_concurrent: int) -> None:
    """Serve the voice to Home Assistant over the Wyoming protocol.

    In Home Assistant: Settings → Devices & services → Add integration → Wyoming Protocol,
    with this machine's host and the port of --uri (10200).
    """
    from tts.wyoming_service import WyomingConfig, serve_wyoming

    click.echo(f"tts wyoming: {uri} once the voice is loaded (Ctrl+C stops it)", err=True)
    serve_wyoming(WyomingConfig(uri=uri, max_text=max_text, max_concurrent=max_concurrent),
                  voice)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: turns every expected failure into one line on stderr."""
    stopper = _StopOnSignal()
    try:
        with stopper.installed():
            code = cli.main(args=argv, prog_name="tts", standalone_mode=False, obj=stopper)
        if isinstance(code, int) and code:  # a command that ended with ctx.exit(code)
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("tts: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        if isinstance(exc, CliError):
            exc.show()
        else:
            click.echo(f"tts: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `tts analyze ... | head`): not an error.
        sys.stderr.close()
        sys.exit(0)
    except (ValueError, OSError, KeyError, RuntimeError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        click.echo(f"tts: error: {message}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - last line of defence: never show a traceback
        if os.environ.get("TTS_DEBUG"):
            raise
        click.echo(
            f"tts: internal error: {type(exc).__name__}: {exc} "
            "(please report it; TTS_DEBUG=1 shows the traceback)",
            err=True,
        )
        sys.exit(2)
