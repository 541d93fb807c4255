"""The ``tts`` command line.

Every failure a user can cause ends as one line on stderr and a non-zero exit, never a
traceback. Set ``TTS_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import logging
import os
import sys

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
