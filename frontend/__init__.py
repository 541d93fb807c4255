"""Text → linguistic features, and the analysis of recordings into the same feature space.

Pure Python + numpy, the duration/F0 networks included; torch is imported only to train them
(``frontend.prosody_torch``, ``frontend.prosody_train``).
"""
