"""Helpers shared by every package (tts, frontend, vocoder, recipes); imports none of them."""
