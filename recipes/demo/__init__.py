"""Synthetic demo corpus rendered with flite in the VCTK 0.92 layout (see README.md)."""
