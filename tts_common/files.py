"""Atomic writes: a file or directory is either its old self or complete, never half-written.

Everything the project writes for users or for later runs (audio, checkpoints, prepared
features, voice directories) goes through here, so that all of it behaves the same way:

- The data goes to a hidden temporary beside the target (``.NAME.XXXXXXXX.tmp``) and is
  renamed over it only once complete (and flushed to disk).
- A new file gets the mode ``open()`` would give it (``0o666`` less the umask), a new directory
  the mode ``mkdir`` would give; a file or directory that is replaced keeps its mode.
- A symbolic link is followed: its target is written and the link stays a link.
- ``temporaries`` (optional) holds the temporary path while it exists, so that a signal handler
  can remove it when the process is told to stop.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator, MutableSet
from pathlib import Path
from typing import IO

__all__ = ["atomic_directory", "atomic_file", "atomic_open"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths in one step


def _real_target(path: str | Path) -> Path:
    """``path`` with symbolic links followed (a dangling link gives the file it names)."""
    return Path(os.path.realpath(path))


def _temporary_name(target: Path, suffix: str) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{suffix}")


def _existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # makes the rename itself durable; not every FS allows it
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | Path, *, suffix: str = ".tmp",
                temporaries: MutableSet[Path] | None = None) -> Iterator[Path]:
    """Yield the path of an empty hidden temporary file; it replaces ``path`` if the block succeeds.

    Write the temporary by name (``soundfile``, ``torch.save``, ``np.save``...). If the block
    raises, the temporary is removed and ``path`` is left as it was. The parent directory must
    exist.
    """
    target = _real_target(path)
    old_mode = _existing_mode(target)
    while True:
        tmp = _temporary_name(target, suffix)
        if temporaries is not None:
            temporaries.add(tmp)
        try:
            # O_EXCL: never follow or reuse something already there; 0o666: the kernel applies
            # the umask exactly as open() does.
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            if temporaries is not None:
                temporaries.discard(tmp)
        except BaseException:
            if temporaries is not None:
                temporaries.discard(tmp)
            raise
    try:
        yield tmp
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if temporaries is not None:
            temporaries.discard(tmp)
    _fsync_directory(target.parent)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", *, encoding: str | None = None,
                temporaries: MutableSet[Path] | None = None) -> Iterator[IO]:
    """``atomic_file`` as an open handle (``mode`` "wb" or "w"): for writers that take a handle."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open writes a new file: mode must be 'wb' or 'w', not {mode!r}")
    with atomic_file(path, temporaries=temporaries) as tmp:
        with open(tmp, mode, encoding=encoding) as handle:
            yield handle


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux renameat2); False where that is unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def atomic_directory(path: str | Path, *,
                     temporaries: MutableSet[Path] | None = None) -> Iterator[Path]:
    """Yield an empty hidden staging directory; it takes the place of ``path`` if the block
    succeeds.

    An existing ``path`` is swapped out in one step where the OS allows it (Linux renameat2),
    so that at every instant ``path`` is the complete old or the complete new directory, and
    is then removed. Elsewhere the old directory is renamed aside first. If the block raises,
    the staging directory is removed and ``path`` is untouched.
    """
    target = _real_target(path)
    old_mode = _existing_mode(target)
    staging = _temporary_name(target, ".staging")
    if temporaries is not None:
        temporaries.add(staging)
    try:
        os.mkdir(staging)  # 0o777 less the umask, as mkdir(1) gives
        yield staging
        if old_mode is None:
            os.rename(staging, target)
        else:
            os.chmod(staging, old_mode)
            previous = staging  # after the exchange it holds the old directory
            if not _exchange(staging, target):
                previous = _temporary_name(target, ".old")
                os.rename(target, previous)
                os.rename(staging, target)
            shutil.rmtree(previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if temporaries is not None:
            temporaries.discard(staging)
    _fsync_directory(target.parent)
