"""Settings from the environment (TTS_NEWS_*), with defaults that work on a fresh machine.

`Settings` is a pydantic-settings model: each field is read from TTS_NEWS_<NAME> and validated by type;
an empty variable counts as unset. A bad value is one line naming the variable (a `UserError`, which
the CLI prints and exits 1 on)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from tts_news.core.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The MMS release server Coqui itself downloads from; tests point this at 127.0.0.1.
MMS_DOWNLOAD_BASE = "https://dl.fbaipublicfiles.com/mms/tts"
ENV_PREFIX = "TTS_NEWS_"


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# Yes/no knobs: 1/true/yes/on (any case, spaces around ignored) and 0/false/no/off; anything else is an error.
Flag = Annotated[bool, BeforeValidator(_stripped)]
# Folders and files: "~" is the user's home, as in a shell.
UserPath = Annotated[Path, AfterValidator(Path.expanduser)]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tts-news"))


# The environment `from_env` reads: os.environ unless a caller (a test, a child's environment) names another.
_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("tts_news_environment", default=None)


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source reading a given mapping instead of os.environ (its own
    extension point, as its cloud sources use it)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._mapping, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


@contextmanager
def _reading(env: Mapping[str, str] | None) -> Iterator[None]:
    token = _ENVIRONMENT.set(env)
    try:
        yield
    finally:
        _ENVIRONMENT.reset(token)


class Settings(BaseSettings):
    """Every knob, each readable from TTS_NEWS_<NAME> (e.g. TTS_NEWS_DATA_DIR, TTS_NEWS_BITRATE)."""

    # Values set in code (tests do, `settings.offline = False`) are validated too; unknown names are refused.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, validate_assignment=True,
                                      extra="forbid")

    data_dir: UserPath = Field(default_factory=_default_data_dir)
    voice: str = "mms-urdu"  # the default voice; espeak-urdu stands in when it cannot be had
    voices_dir: UserPath = PROJECT_ROOT / "voices"
    download_base_url: str = MMS_DOWNLOAD_BASE
    offline: Flag = False  # never fetch voice weights
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
    # Fetch from loopback/private addresses (tests, intranets): article pages, feeds and voice downloads.
    fetch_allow_private: Flag = False
    fetch_timeout_s: float = 20.0  # the most a page or feed may take to arrive, whole
    feeds: str = ""  # news feeds (RSS/Atom) for `batch --feed` when none is given: URLs separated by spaces
    show_title: str = "اردو خبریں"
    show_author: str = "tts-news"
    show_owner_email: str = "news@example.com"
    show_description: str = "اردو خبریں، آواز میں"
    cover: UserPath = PROJECT_ROOT / "tts_news" / "data" / "cover.jpg"
    public_url: str = ""  # base URL of the web app as listeners reach it, for feeds
    # Host names the app answers to (besides loopback and public_url's): a request naming another Host
    # is refused, so nobody can make the feed point elsewhere. Comma- or space-separated.
    trusted_hosts: str = ""

    def __init__(self, **values: Any) -> None:
        """Keyword values first, then the environment (see `from_env`), then the defaults."""
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise UserError(_describe(err, given=set(values))) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keyword values, then the environment; no .env or secrets files (nobody asked for them).
        env = _ENVIRONMENT.get()
        return init_settings, (env_settings if env is None else _MappingEnvSource(settings_cls, env))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings `env` (default: os.environ) gives, with `overrides` (field names) winning."""
        with _reading(env):
            return cls(**overrides)

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with some knobs changed (the original is shared, and never changed in place)."""
        with _reading({}):  # a copy of these settings, not a new reading of the environment
            return type(self)(**{**self.model_dump(), **changes})

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


def _describe(err: ValidationError, given: set[str]) -> str:
    """pydantic's errors as one line: each bad value by the variable it came from (or the name it was
    given by in code), e.g. "TTS_NEWS_CACHE_MB='lots' is not a valid int"."""
    problems = []
    for problem in err.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        where = name if name in given else f"{ENV_PREFIX}{name.upper()}"
        if problem["type"] == "extra_forbidden":
            problems.append(f"{name!r} is not a setting")
            continue
        field = Settings.model_fields.get(name)
        kind = getattr(field.annotation, "__name__", str(field.annotation)) if field else "value"
        problems.append(f"{where}={problem['input']!r} is not a valid {kind}")
    return "; ".join(problems)

