"""Writes librosa_mel.npz: librosa's mel filterbanks, the reference vocoder.lpc.mel_basis is
tested against (tests/test_fast_start.py) without librosa in the test environment.

    pip install librosa && python tests/data/make_librosa_mel.py

Made with librosa 0.11.0; librosa.filters.mel's defaults: Slaney mel scale and area norm.
"""

from pathlib import Path

import librosa
import numpy as np

CONFIGS = [(16000, 400, 80), (16000, 160, 8), (22050, 1024, 80), (16000, 2048, 128),
           (8000, 256, 20), (24000, 512, 100)]

if __name__ == "__main__":
    banks = {f"{sr}_{n_fft}_{bands}": librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=bands)
             for sr, n_fft, bands in CONFIGS}
    np.savez_compressed(Path(__file__).with_name("librosa_mel.npz"),
                        librosa_version=np.array(librosa.__version__), **banks)
