"""Voices: `voices/*.toml` → Voice; where a neural voice's weights live, and how they get there.

A voice file names its engine and that engine's settings. Files are validated on load, and a bad
file is reported by name with what is wrong. Coqui voices either name a model that is fetched into
the data dir (`voices pull`), installed from a local archive (`voices install --from`), or point at a
local Coqui model directory.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tarfile
import tempfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tts_news.core.config import Settings
from tts_news.core.errors import UnknownVoice, UserError, VoiceUnavailable
from tts_news.text.script import DEFAULT_MAX_CHARS

log = logging.getLogger(__name__)

ENGINES = ("coqui", "espeak")
RUNTIMES = ("auto", "onnx", "torch")  # a Coqui voice: ONNX Runtime on CPU, torch, or the best one here
# VITS inference settings a voice file may set: sampling noise (0: the same audio every time) and
# length_scale (above 1: slower reading).
SCALES = ("noise_scale", "length_scale", "noise_scale_dp")
FALLBACK_VOICE = "espeak-urdu"
REQUIRED = {"name": str, "label": str, "engine": str, "language": str, "license": str, "sample_rate": int}
DOWNLOAD_CHUNK = 1 << 16
MAX_DOWNLOAD_BYTES = 2 * 2**30  # a voice archive (MMS Urdu is ~110 MB; large multi-speaker models ~1 GB)
MAX_UNPACKED_BYTES = 4 * 2**30
MAX_ARCHIVE_MEMBERS = 10_000
# Coqui model names: type/language/dataset/model, each part plain (no "..", no separators of its own).
MODEL_NAME_RE = re.compile(r"[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+){1,4}")


@dataclass(frozen=True)
class Voice:
    name: str
    label: str
    engine: str
    language: str
    license: str
    sample_rate: int
    source: Path  # the .toml file it came from
    version: str = "1"
    max_chars: int = DEFAULT_MAX_CHARS  # longest spoken sentence the voice says comfortably in one call
    settings: dict = field(default_factory=dict)  # the engine's own table

    @property
    def scales(self) -> tuple[float | None, float | None, float | None]:
        """The voice file's (noise_scale, length_scale, noise_scale_dp); None keeps the model's own."""
        return tuple(None if self.settings.get(k) is None else float(self.settings[k]) for k in SCALES)

    @property
    def model_name(self) -> str | None:
        return self.settings.get("model")

    def model_dir(self, settings: Settings) -> Path | None:
        """Where this voice's weights are (or would be) on disk; None for engines without weights."""
        if self.engine != "coqui":
            return None
        if "path" in self.settings:
            path = Path(os.path.expandvars(self.settings["path"])).expanduser()
            return path if path.is_absolute() else (self.source.parent / path).resolve()
        # Coqui's own folder naming; the word "fairseq" in it is how Coqui recognises MMS checkpoints.
        return settings.models_dir / self.model_name.replace("/", "--")

    @property
    def downloadable(self) -> bool:
        """Weights this project fetches and installs itself (a named Coqui model, not a local `path`)."""
        return self.engine == "coqui" and "path" not in self.settings

    def is_installed(self, settings: Settings) -> bool:
        if self.engine == "espeak":
            return shutil.which("espeak-ng") is not None
        model_dir = self.model_dir(settings)
        return model_dir is not None and (model_dir / "config.json").is_file() and any(
            model_dir.glob("*.pth")
        )


def _check(data: dict, path: Path) -> Voice:
    def bad(message: str) -> UserError:
        return UserError(f"voice file {path}: {message}")

    for key, kind in REQUIRED.items():
        if key not in data:
            raise bad(f"missing '{key}'")
        if not isinstance(data[key], kind):
            raise bad(f"'{key}' must be a {kind.__name__}, not {type(data[key]).__name__}")
    if data["engine"] not in ENGINES:
        raise bad(f"engine must be one of {', '.join(ENGINES)}, not {data['engine']!r}")
    engine_settings = data.get(data["engine"], {})
    if not isinstance(engine_settings, dict):
        raise bad(f"[{data['engine']}] must be a table")
    if data["engine"] == "coqui" and not ({"model", "path"} & set(engine_settings)):
        raise bad("[coqui] needs 'model' (a Coqui model name) or 'path' (a local model directory)")
    model = engine_settings.get("model")
    if model is not None and (not isinstance(model, str) or not MODEL_NAME_RE.fullmatch(model)
                              or ".." in model.split("/")):
        raise bad("[coqui] model must be a Coqui model name like tts_models/urd-script_arabic/fairseq/vits")
    if data["engine"] == "coqui" and engine_settings.get("runtime", "auto") not in RUNTIMES:
        raise bad(f"[coqui] runtime must be one of {', '.join(RUNTIMES)}")
    for scale in SCALES:
        value = engine_settings.get(scale)
        positive = scale == "length_scale"  # a length of 0 would say nothing at all
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0
                                  or (positive and value == 0)):
            raise bad(f"[coqui] {scale} must be a number {'above' if positive else 'of at least'} 0")
    if data["engine"] == "espeak" and not isinstance(engine_settings.get("voice", "ur"), str):
        raise bad("[espeak] voice must be a string")
    max_chars = data.get("max_chars", DEFAULT_MAX_CHARS)
    if not isinstance(max_chars, int) or max_chars < 20:
        raise bad("'max_chars' must be a whole number of at least 20")
    if data["sample_rate"] <= 0:
        raise bad("'sample_rate' must be positive")
    return Voice(
        name=data["name"],
        label=data["label"],
        engine=data["engine"],
        language=data["language"],
        license=data["license"],
        sample_rate=data["sample_rate"],
        source=path,
        version=str(data.get("version", "1")),
        max_chars=max_chars,
        settings=engine_settings,
    )


def load_voice_file(path: Path) -> Voice:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"voice file {path}: not valid TOML ({err})") from err
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"voice file {path}: cannot be read ({err})") from err
    return _check(data, path)


def all_voices(settings: Settings) -> dict[str, Voice]:
    """Shipped voices, then the newsroom's own (data dir `voices/`, which wins on a name clash)."""
    voices: dict[str, Voice] = {}
    for folder in (settings.voices_dir, settings.user_voices_dir):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                voice = load_voice_file(path)
                voices[voice.name] = voice
    return voices


def get_voice(settings: Settings, name: str) -> Voice:
    voices = all_voices(settings)
    if name not in voices:
        raise UnknownVoice(f"unknown voice {name!r}; voices: {', '.join(sorted(voices))}")
    return voices[name]


# -- getting weights ---------------------------------------------------------------------------------
ProgressFn = Callable[[int, int | None], None]  # (bytes so far, total or None)


def _archive_url(voice: Voice, settings: Settings) -> str:
    archive = voice.settings.get("archive")
    if not archive:
        raise UserError(f"voice {voice.name} names no archive to download")
    return f"{settings.download_base_url.rstrip('/')}/{archive}"


def _download(url: str, dest: Path, progress: ProgressFn | None) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            done = 0
            if total is not None and total > MAX_DOWNLOAD_BYTES:
                raise VoiceUnavailable(f"{url} is {total:,} bytes; a voice archive may be at most "
                                       f"{MAX_DOWNLOAD_BYTES:,}")
            while chunk := response.read(DOWNLOAD_CHUNK):
                out.write(chunk)
                done += len(chunk)
                if done > MAX_DOWNLOAD_BYTES:
                    raise VoiceUnavailable(f"{url} is larger than {MAX_DOWNLOAD_BYTES:,} bytes; stopped")
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise VoiceUnavailable(f"download of {url} failed: {getattr(err, 'reason', err)}") from err
    if total is not None and done != total:
        raise VoiceUnavailable(f"download of {url} stopped after {done} of {total} bytes; run it again")


def _model_root(folder: Path) -> Path:
    """The folder inside an unpacked archive that holds config.json (MMS tarballs nest one level)."""
    configs = sorted(folder.rglob("config.json"), key=lambda p: len(p.parts))
    if not configs:
        raise UserError("the archive holds no config.json: it is not a Coqui or MMS model")
    root = configs[0].parent
    if not any(root.glob("*.pth")):
        raise UserError(f"the archive's {root.name or 'top'} folder has config.json but no .pth checkpoint")
    return root


def _install_folder(voice: Voice, unpacked: Path, settings: Settings) -> Path:
    """Move a complete model folder into place in one rename, so a half-copied voice never looks installed."""
    target = voice.model_dir(settings)
    root = _model_root(unpacked)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    shutil.copytree(root, staging, dirs_exist_ok=True)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _unpack(archive: Path, into: Path) -> None:
    """Extract with tarfile's "data" filter (no links out, no devices, no absolute paths), and only if
    the members add up to at most MAX_UNPACKED_BYTES (a small archive must not fill the disk)."""
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            size = sum(m.size for m in members if m.isfile())
            if size > MAX_UNPACKED_BYTES or len(members) > MAX_ARCHIVE_MEMBERS:
                raise UserError(f"{archive.name} unpacks to {size:,} bytes in {len(members):,} files; a voice may be "
                                f"at most {MAX_UNPACKED_BYTES:,} bytes in {MAX_ARCHIVE_MEMBERS:,} files")
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise UserError(f"{archive.name} is not a readable .tar.gz archive ({err})") from err


def install_voice(voice: Voice, source: Path, settings: Settings) -> Path:
    """`voices install NAME --from PATH`: a .tar.gz archive or an unpacked model folder."""
    if not voice.downloadable:
        raise UserError(f"voice {voice.name} has no weights to install")
    if not source.exists():
        raise UserError(f"{source} does not exist")
    with tempfile.TemporaryDirectory(dir=_scratch(settings)) as tmp:
        if source.is_dir():
            return _install_folder(voice, source, settings)
        _unpack(source, Path(tmp))
        return _install_folder(voice, Path(tmp), settings)


def pull_voice(voice: Voice, settings: Settings, progress: ProgressFn | None = None) -> Path:
    """`voices pull NAME`: download the voice's archive and install it atomically."""
    if not voice.downloadable:
        raise UserError(f"voice {voice.name} has nothing to download")
    if settings.offline:
        raise VoiceUnavailable(f"voice {voice.name} is not installed and fetching is off (TTS_NEWS_OFFLINE)")
    url = _archive_url(voice, settings)
    with tempfile.TemporaryDirectory(dir=_scratch(settings)) as tmp:
        archive = Path(tmp) / "download.tar.gz"
        _download(url, archive, progress)
        unpacked = Path(tmp) / "unpacked"
        _unpack(archive, unpacked)
        return _install_folder(voice, unpacked, settings)


def _scratch(settings: Settings) -> Path:
    """Temporary files live on the data dir's disk, so the final rename is atomic."""
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    return settings.models_dir


def choose_voice(settings: Settings, name: str | None, progress: ProgressFn | None = None,
                 notice: Callable[[str], None] = log.warning) -> Voice:
    """The voice to speak with. Asked-for voices must be available; the *default* neural voice is
    fetched if it can be, and otherwise espeak-urdu speaks, with a plain notice saying so."""
    voice = get_voice(settings, name or settings.voice)
    if voice.is_installed(settings):
        return voice
    if voice.downloadable and not settings.offline:
        try:
            pull_voice(voice, settings, progress)
            return voice
        except UserError as err:
            reason = str(err)
    else:
        reason = f"voice {voice.name} is not installed" + (
            " and fetching is off" if settings.offline else "")
    if name is not None and name != settings.voice:
        raise VoiceUnavailable(f"{reason}; install it with: tts-news voices pull {voice.name}")
    fallback = get_voice(settings, FALLBACK_VOICE)
    notice(f"{reason}; speaking with {fallback.name} instead "
           f"(get the neural voice with: tts-news voices pull {voice.name})")
    return fallback
