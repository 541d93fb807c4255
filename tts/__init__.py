"""wavenet-tts: text-to-speech with a linguistic frontend and a conditional WaveNet vocoder."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # `from tts import Synthesizer` without importing torch for every `tts` command.
    if name == "Synthesizer":
        from tts.synthesizer import Synthesizer

        return Synthesizer
    raise AttributeError(f"module 'tts' has no attribute {name!r}")


__all__ = ["Synthesizer", "__version__"]
