"""The newsroom's normalizer — the shipped word lists with the newsroom's own lexicon, page furniture
and names from the data dir — read once, and again only when one of those files changes (not for every
job); and an article made into the Script a voice will read."""

from __future__ import annotations

import functools
from pathlib import Path

from tts_news.core.config import Settings
from tts_news.text.article import check_article
from tts_news.text.lexicon import Lexicon
from tts_news.text.markup import Furniture
from tts_news.text.normalize import Normalizer
from tts_news.text.roman import RomanReader
from tts_news.text.script import Script, build_script


def normalizer_for(settings: Settings) -> Normalizer:
    files = (settings.user_lexicon, settings.data_dir / "furniture.txt", settings.data_dir / "names.txt")
    return _normalizer(tuple((path, _stamp(path)) for path in files))


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime, stat.st_size


@functools.lru_cache(maxsize=8)
def _normalizer(files: tuple[tuple[Path, tuple | None], ...]) -> Normalizer:
    (lexicon, _), (furniture, _), (names, _) = files
    return Normalizer(Lexicon.load(lexicon), furniture=Furniture.load(furniture), roman=RomanReader.load(names))


def prepare(text: str, settings: Settings, *, max_chars: int, title: str | None = None) -> Script:
    """The article checked (something to say, within the limit) and read into a Script whose sentences
    are at most `max_chars` spoken characters (what the voice says comfortably in one call)."""
    check_article(text, settings)
    return build_script(text, normalizer_for(settings), title=title, max_chars=max_chars)
