"""One way to write a file (or a folder) that readers may see at any moment: to a unique temporary name
beside it, then an atomic rename. A reader sees the old one or the new one, never half of one; on any
error the temporary one is removed, so a failure leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SHARED_MODE = 0o644  # mkstemp makes files private; episodes and records are served and shared
SHARED_DIR_MODE = 0o755  # and mkdtemp private folders: voices and exports are read by every worker


@contextmanager
def atomic_path(path: Path, mode: int = SHARED_MODE) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same folder, so the rename is atomic); when the block
    ends without error it replaces `path`, otherwise it is removed."""
    tmp = temp_beside(path)
    try:
        yield tmp
        put_in_place(tmp, path, mode)
    finally:
        tmp.unlink(missing_ok=True)


def temp_beside(path: Path) -> Path:
    """A new, empty temporary file in `path`'s folder (`.STEM.XXXX.part.SUFFIX`: stale ones are
    recognized and removed); the caller writes it and puts it in place, or removes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".part{path.suffix}")
    os.close(fd)
    return Path(name)


def put_in_place(tmp: Path, path: Path, mode: int = SHARED_MODE) -> None:
    """A finished temporary file beside `path` becomes `path`, by one rename."""
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_bytes_atomic(path: Path, data: bytes, mode: int = SHARED_MODE) -> None:
    with atomic_path(path, mode) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str, mode: int = SHARED_MODE) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), mode)


def copy_atomic(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)


@contextmanager
def staged_dir(target: Path, replace: bool = False) -> Iterator[Path]:
    """Yield a new, empty folder beside `target` to fill; when the block ends without error it becomes
    `target` by one rename (a half-filled folder is never seen under the name), otherwise it is removed.

    A `target` that is already there is kept, and the staged copy dropped, unless `replace`: then the old
    one is renamed aside and removed once the new one is in. Either way, a concurrent writer that puts
    its own finished folder in first wins, and this one gives way quietly (both were complete)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    aside = None
    try:
        yield staging
        os.chmod(staging, SHARED_DIR_MODE)
        if replace and target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            with suppress(FileNotFoundError):  # another writer moved it aside first
                os.rename(target, aside / target.name)
        try:
            os.rename(staging, target)
        except OSError:
            if target.is_dir():
                return  # another writer's finished folder got there first
            if aside is not None and (aside / target.name).is_dir():
                os.rename(aside / target.name, target)  # nothing new took its place: the old one stays
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
