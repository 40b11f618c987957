"""Settings from the environment (TTS_NEWS_*), with defaults that work on a fresh machine."""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

from tts_news.core.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The MMS release server Coqui itself downloads from; tests point this at 127.0.0.1.
MMS_DOWNLOAD_BASE = "https://dl.fbaipublicfiles.com/mms/tts"


def _bool(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


PARSERS = {bool: _bool, int: int, float: float, Path: _path}


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tts-news"))


@dataclass
class Settings:
    """Every knob, each readable from TTS_NEWS_<NAME> (e.g. TTS_NEWS_DATA_DIR, TTS_NEWS_BITRATE)."""

    data_dir: Path = field(default_factory=_default_data_dir)
    voice: str = "mms-urdu"  # the default voice; espeak-urdu stands in when it cannot be had
    voices_dir: Path = PROJECT_ROOT / "voices"
    download_base_url: str = MMS_DOWNLOAD_BASE
    offline: bool = False  # never fetch voice weights
    redis_url: str = ""  # set → jobs go through Redis for workers on many machines
    job_lease_s: float = 60.0  # a running job whose worker is silent this long is sent again
    max_attempts: int = 3  # a job whose worker died this many times is failed, not sent again (no crash loop)
    speech_timeout_s: float = 60.0  # how long a speech request waits for a worker to start speaking
    secret_key: str = ""  # signs form tokens; unset → a random key kept in the data dir
    bitrate: str = "96k"
    sentence_pause_ms: int = 350
    paragraph_pause_ms: int = 900
    title_pause_ms: int = 1200
    loudness_lufs: float = -16.0
    true_peak_db: float = -1.5  # a margin under the -1 dBTP ceiling podcast platforms ask for
    cache_mb: int = 512
    gpu_batch: int = 32  # sentences per batch on a GPU (length-sorted); fp32, which beat fp16 on an H200
    max_article_chars: int = 100_000
    api_key: str = ""  # one API key; TTS_NEWS_API_KEYS takes several, separated by commas or spaces
    api_keys: str = ""
    # Editors who may use the web form: "name=HASH name2=HASH" (entries from `tts-news editor NAME`).
    editors: str = ""
    submit_rate: str = "30/minute;300/hour"  # per client: POST /api/jobs, the web form, re-renders
    speech_rate: str = "60/minute"  # per client: /v1/audio/speech
    max_queued: int = 1000  # jobs waiting in total before new ones are refused (503)
    max_queued_per_client: int = 50  # jobs one client may have waiting (429)
    min_free_mb: int = 500  # new work is refused (507) when the data dir's disk has less free
    keep_days: float = 30.0  # unpublished episodes and speech leftovers older than this are removed
    max_title_chars: int = 300
    fetch_allow_private: bool = False  # fetch articles from loopback/private addresses (tests, intranets)
    fetch_timeout_s: float = 20.0  # the most a page or feed may take to arrive, whole
    feeds: str = ""  # news feeds (RSS/Atom) for `batch --feed` when none is given: URLs separated by spaces
    show_title: str = "اردو خبریں"
    show_author: str = "tts-news"
    show_owner_email: str = "news@example.com"
    show_description: str = "اردو خبریں، آواز میں"
    cover: Path = PROJECT_ROOT / "tts_news" / "data" / "cover.jpg"
    public_url: str = ""  # base URL of the web app as listeners reach it, for feeds
    # Host names the app answers to (besides loopback and public_url's): a request naming another Host
    # is refused, so nobody can make the feed point elsewhere. Comma- or space-separated.
    trusted_hosts: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        values = {}
        types = typing.get_type_hints(cls)
        for f in fields(cls):
            raw = env.get(f"TTS_NEWS_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = types[f.name]
            parse = PARSERS.get(kind, str)
            try:
                values[f.name] = parse(raw)
            except ValueError as err:
                raise UserError(f"TTS_NEWS_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from err
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes) -> Settings:
        """A copy with some knobs changed (the original is shared, and never changed in place)."""
        return dataclasses.replace(self, **changes)

    @property
    def all_api_keys(self) -> list[str]:
        keys = [self.api_key, *self.api_keys.replace(",", " ").split()]
        return [k.strip() for k in keys if k.strip()]

    @property
    def editor_hashes(self) -> dict[str, str]:
        pairs = (item.partition("=") for item in self.editors.split())
        return {name: digest for name, _, digest in pairs if name and digest}

    @property
    def host_names(self) -> list[str]:
        """Every host name requests may carry: loopback, TTS_NEWS_TRUSTED_HOSTS, TTS_NEWS_PUBLIC_URL's."""
        from urllib.parse import urlsplit

        names = ["localhost", "127.0.0.1", "::1", *self.trusted_hosts.replace(",", " ").split()]
        if self.public_url:
            names.append(urlsplit(self.public_url).hostname or "")
        return [n for n in names if n]

    @property
    def credentials_configured(self) -> bool:
        """Once any key or editor is set, every write needs one; with none, the app is open (loopback)."""
        return bool(self.all_api_keys or self.editor_hashes)

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def exports_dir(self) -> Path:
        """ONNX exports of neural voices, one per checkpoint and exporter version."""
        return self.data_dir / "onnx"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def user_lexicon(self) -> Path:
        return self.data_dir / "lexicon.tsv"

    @property
    def user_voices_dir(self) -> Path:
        return self.data_dir / "voices"
