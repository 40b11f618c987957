"""A batch folder's memory: what earlier runs rendered (by each article's digest), kept beside the
outputs in one JSON file written atomically, so a run is resumable and nothing is rendered or
published twice."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tts_news.audio.sidecars import EPISODE_FILES
from tts_news.core.errors import UserError
from tts_news.core.files import write_text_atomic
from tts_news.text.article import Article

MANIFEST = ".tts-news-batch.json"


class Manifest:
    """What earlier runs finished, kept beside the outputs."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / MANIFEST
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.data = {}
        except (OSError, ValueError) as err:
            # Treating it as empty would render and publish everything again.
            raise UserError(f"{self.path}: the batch manifest is unreadable ({err}); fix it, or move it away "
                            "to start the folder afresh (every article is then rendered again)") from err
        if not isinstance(self.data, dict):
            raise UserError(f"{self.path}: the batch manifest is not a JSON object; fix it or move it away")
        self.data.setdefault("articles", {})
        self.data.setdefault("bulletins", {})

    def entry(self, stem: str) -> dict:
        return self.data["articles"].get(stem, {})

    def finished(self, article: Article, out: Path) -> bool:
        entry = self.entry(article.stem)
        return (entry.get("digest") == article.digest and entry.get("status") == "done"
                and all((out / f"{article.stem}{s}").exists() for s in EPISODE_FILES))

    def record(self, stem: str, **values) -> None:
        self.data["articles"].setdefault(stem, {}).update(values)
        self.save()

    def save(self) -> None:
        write_text_atomic(self.path, json.dumps(self.data, ensure_ascii=False, indent=1))


def digest_of(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()
