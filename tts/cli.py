"""The ``tts`` command line.

Every failure a user can cause ends as one line on stderr and a non-zero exit, never a
traceback. Set ``TTS_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import logging
import os
import sys
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

    from frontend.features import Frontend, FrontendError

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
        click.echo(render(frontend.utterance(text)))
        return
    with click.open_file(path, encoding="utf-8") as stream:
        try:
            lines = stream.read().splitlines()
        except UnicodeDecodeError:
            raise CliError(f"{path} is not UTF-8 text") from None
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
    import numpy as np

    plan = synth.plan(utterance, speaker_index)
    frame_ms = 1000.0 * synth.voice.hop_length / synth.sample_rate
    ends = np.cumsum(plan.durations)
    f0 = []
    for start, end in zip(ends - plan.durations, ends):
        voiced = plan.voiced[start:end]
        f0.append(round(float(plan.f0_hz[start:end][voiced].mean()), 1) if voiced.any() else 0.0)
    return {"durations_ms": [round(float(d) * frame_ms, 1) for d in plan.durations],
            "f0_hz": f0}


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
        with click.open_file(transcript_file, encoding="utf-8") as stream:
            try:
                transcript = stream.read()
            except UnicodeDecodeError:
                raise CliError(f"{transcript_file} is not UTF-8 text") from None
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


def _read_text_input(text: str | None, path: str | None) -> str:
    """TEXT, '-' for stdin, or -f FILE; refuses binary files instead of reading garbage."""
    if (text is None) == (path is None):
        raise click.UsageError("give the text to say as TEXT, '-' (stdin) or -f FILE")
    if text is not None and text != "-":
        return text
    source = path if path is not None else "-"
    with click.open_file(source, "rb") as stream:
        data = stream.read()
    name = "stdin" if source == "-" else source
    if b"\x00" in data:
        raise CliError(f"{name} is a binary file, not text: give a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{name} is not UTF-8 text: convert it (e.g. iconv -t utf-8)") from None


def _check_output_path(output: str) -> Path:
    path = Path(output)
    if path.suffix.lower() not in AUDIO_FORMATS:
        raise CliError(f"output {output}: use a .wav or .flac file name, or '-' for stdout")
    if path.is_dir():
        raise CliError(f"output {output} is a directory: give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CliError(f"cannot write {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CliError(f"cannot write {output}: permission denied")
    return path


def _load_synthesizer(voice: str | None):
    from tts.synthesizer import Synthesizer

    return Synthesizer.from_pretrained(voice)


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
def say(text: str | None, path: str | None, speaker: str | None, output: str | None,
        voice: str | None, seed: int, speed: float, pitch: float, pitch_range: float,
        temperature: float | None, raw: bool) -> None:
    """Speak TEXT (or -f FILE, or '-' for stdin) into a sound file.

    \b
    Examples:
      tts say "Hello there." --speaker p225 -o hello.wav
      tts say -f story.txt -o story.flac --speed 1.1
      tts say "Streaming." -o - --raw | aplay -r 16000 -f S16_LE -c 1
    """
    import numpy as np

    from frontend.normalize import split_sentences

    content = _read_text_input(text, path)
    if not content.strip():
        raise CliError("the text is empty: give some words to say")
    output = output if output is not None else DEFAULT_OUTPUT
    to_stdout = output == "-"
    if raw and not to_stdout:
        raise CliError("--raw writes headerless PCM to stdout: use it with -o -")
    target = None if to_stdout else _check_output_path(output)
    synth = _load_synthesizer(voice)
    synth.speaker_index(speaker)  # an unknown speaker fails before any work

    show_progress = sys.stderr.isatty()
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(total=len(split_sentences(content)), unit="sentence", file=sys.stderr)
    chunks = synth.stream(content, speaker, seed=seed, speed=speed, pitch=pitch,
                          pitch_range=pitch_range, temperature=temperature,
                          progress=bar.update if bar is not None else None)
    try:
        if to_stdout:
            _write_stdout(chunks, synth.sample_rate, raw)
        else:
            _write_file_atomic(target, chunks, synth.sample_rate)
    finally:
        if bar is not None:
            bar.close()
    if target is not None:
        click.echo(f"wrote {target}", err=True)


def _pcm16(chunk) -> bytes:
    import numpy as np

    return (np.clip(chunk, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def _write_stdout(chunks, sample_rate: int, raw: bool) -> None:
    import io

    import soundfile as sf

    stdout = click.get_binary_stream("stdout")
    if raw:
        for chunk in chunks:
            stdout.write(_pcm16(chunk))
            stdout.flush()
        return
    # A WAV header holds the length, so the whole file is assembled first (use --raw to stream).
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", samplerate=sample_rate, channels=1, subtype="PCM_16",
                      format="WAV") as sound:
        for chunk in chunks:
            sound.write(chunk)
    stdout.write(buffer.getvalue())
    stdout.flush()


def _write_file_atomic(target: Path, chunks, sample_rate: int) -> None:
    """Stream sentences into a hidden temp file beside TARGET; rename only once complete."""
    import tempfile

    import soundfile as sf

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                    dir=target.parent if str(target.parent) else ".")
    os.close(fd)
    try:
        with sf.SoundFile(tmp_name, "w", samplerate=sample_rate, channels=1, subtype="PCM_16",
                          format=AUDIO_FORMATS[target.suffix.lower()]) as sound:
            for chunk in chunks:
                sound.write(chunk)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


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
              help="Experiment directory of `python -m frontend.prosody_train`.")
@click.option("--wavenet", required=True, type=click.Path(file_okay=False),
              help="Experiment directory of `python -m vocoder.train` (its EMA weights).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Voice directory to write (replaced atomically if it exists).")
@click.option("--name", default="voice", show_default=True, help="Name stored in voice.json.")
@click.option("--temperature", type=float, default=1.0, show_default=True,
              help="Default sampling temperature of the voice.")
@click.option("--envelope", default=None, type=click.Path(file_okay=False),
              help="Excitation mode: experiment directory of `python -m vocoder.envelope "
                   "--set envelope_layers=N` whose envelope network the voice uses.")
def export_voice_command(prep: str, prosody: str, wavenet: str, output: str, name: str,
                         temperature: float, envelope: str | None) -> None:
    """Assemble a voice directory (voice.json + safetensors) from trained checkpoints."""
    from tts.voice import export_voice

    directory = export_voice(prep, prosody, wavenet, output, name=name, temperature=temperature,
                             envelope_exp=envelope)
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
    try:
        cli.main(args=argv, prog_name="tts", standalone_mode=False)
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
