"""Text → linguistic features, and the analysis of recordings into the same feature space.

Pure Python + numpy; torch is imported only where the small duration/F0 networks run.
"""
