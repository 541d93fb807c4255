"""wavenet-tts: text-to-speech with a linguistic frontend and a conditional WaveNet vocoder."""

__version__ = "0.1.0"
