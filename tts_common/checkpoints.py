"""Training checkpoints that carry a SHA-256 of their contents, verified when they are read.

torch's zip format does not check what it reads: 64 flipped bytes inside tensor data load
silently, and training would resume from (or a voice be exported with) damaged weights. So a
checkpoint is saved with ``"sha256"``, a digest of every tensor (dtype, shape and bytes) and
value in it, in a fixed order, and reading it recomputes that digest. A checkpoint written
before digests existed still loads, with a warning.

Reading never unpickles arbitrary objects (``torch.load(weights_only=True)``). torch is imported
only when a checkpoint is saved or read, so that this package does not need it otherwise.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from tts_common.files import atomic_file

__all__ = ["DIGEST_KEY", "CheckpointError", "read_checkpoint", "state_digest", "write_checkpoint"]

logger = logging.getLogger(__name__)

DIGEST_KEY = "sha256"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, not a dict, or damaged; names the file."""


def _update(digest: Any, value: Any, torch: Any) -> None:
    """Feed ``value`` into ``digest`` with its structure, so that moved bytes change it too."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}".encode())
        for key in sorted(value, key=repr):
            digest.update(repr(key).encode())
            _update(digest, value[key], torch)
    elif isinstance(value, (list, tuple)):
        digest.update(f"L{len(value)}".encode())
        for item in value:
            _update(digest, item, torch)
    else:  # numbers, strings, None, booleans: what weights_only loading allows besides tensors
        digest.update(f"V{value!r}".encode())


def state_digest(state: dict) -> str:
    """SHA-256 (hex) of everything in ``state`` except its own digest entry."""
    import torch

    digest = hashlib.sha256()
    _update(digest, {k: v for k, v in state.items() if k != DIGEST_KEY}, torch)
    return digest.hexdigest()


def write_checkpoint(path: str | Path, state: dict) -> None:
    """``torch.save`` with the digest, atomically (``tts_common.files.atomic_file``)."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        torch.save({**state, DIGEST_KEY: state_digest(state)}, tmp)


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint's dict, its digest verified; raises CheckpointError naming the file."""
    import torch

    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} not found") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds; all mean "unreadable"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"cannot read checkpoint {path} ({first_line[:200]}): it is "
                              "damaged or not a checkpoint of this program") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a checkpoint of this program (it holds a "
                              f"{type(state).__name__}, not a dict)")
    stored = state.pop(DIGEST_KEY, None)
    if stored is None:
        logger.warning("%s has no SHA-256 (written by an older version): its integrity cannot "
                       "be checked", path)
    elif stored != state_digest(state):
        raise CheckpointError(f"{path} is damaged: its contents do not match the SHA-256 stored "
                              "in it (a disk or copy error); use an earlier copy or retrain")
    return state
