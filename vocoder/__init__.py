"""The conditional WaveNet vocoder: model, μ-law coding, training, and fast generation.

Knows nothing about text: it maps frame-level conditioning features and a speaker index to audio.
"""
