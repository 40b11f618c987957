"""The sentence cache: each sentence's audio stored by a hash of what made it, so a re-render, a bulletin
of stories already rendered and a repeated speech request cost no synthesis."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from tts_news.core.files import atomic_path
from tts_news.voice.catalog import Voice

MAX_SEGMENT_SHARE = 2  # a sentence bigger than half the whole cache is never cached


class SegmentCache:
    """Sentence audio stored by a hash of (voice, its version, spoken text, synthesis settings).

    Bounded in size, least recently used first out. Writes are atomic renames, so concurrent
    writers of the same sentence never leave a torn file; a reader that loses a race re-synthesizes.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._size: int | None = None  # bytes on disk as this process last counted them

    @staticmethod
    def key(voice: Voice, sample_rate: int, text: str) -> str:
        ident = json.dumps([voice.name, voice.version, voice.engine, voice.settings, sample_rate, text],
                           ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        try:
            audio = np.load(path, allow_pickle=False)
            os.utime(path)  # mark as recently used
        except (OSError, ValueError):
            return None
        return audio.astype(np.float32, copy=False)

    def put(self, key: str, audio: np.ndarray) -> None:
        """Store a sentence's audio; the size limit holds after every write (a segment bigger than a
        half the whole cache is not kept at all)."""
        samples = audio.astype(np.float32, copy=False)
        if samples.nbytes > self.max_bytes // MAX_SEGMENT_SHARE:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, tmp.open("wb") as f:
            np.save(f, samples, allow_pickle=False)
        if self._size is None:
            self._size = sum(p.stat().st_size for p in self.folder.glob("*/*.npy") if p.exists())
        else:
            self._size += path.stat().st_size
        if self._size > self.max_bytes:
            self.prune()

    def prune(self) -> int:
        """Drop least recently used entries until the cache fits; returns bytes freed."""
        entries = []
        for p in self.folder.glob("*/*.npy"):
            try:
                st = p.stat()
            except FileNotFoundError:
                continue  # another process pruned it
            entries.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in entries)
        freed = 0
        for _, size, path in sorted(entries):
            if total - freed <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            freed += size
        self._size = total - freed
        return freed
