"""Getting a neural voice's weights: downloaded (`voices pull`), installed from a local archive or folder
(`voices install --from`), each landing by one rename; and the choice of the voice that will really speak
(the default neural voice fetched when it can be, espeak-urdu when it cannot, said so)."""

from __future__ import annotations

import logging
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from tts_news.core import http
from tts_news.core.config import Settings
from tts_news.core.errors import UserError, VoiceUnavailable
from tts_news.core.files import staged_dir
from tts_news.core.http import DownloadProgress
from tts_news.voice.catalog import FALLBACK_VOICE, Voice, get_voice

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 2 * 2**30  # a voice archive (MMS Urdu is ~110 MB; large multi-speaker models ~1 GB)
MAX_UNPACKED_BYTES = 4 * 2**30
MAX_ARCHIVE_MEMBERS = 10_000


def _archive_url(voice: Voice, settings: Settings) -> str:
    archive = voice.settings.get("archive")
    if not archive:
        raise UserError(f"voice {voice.name} names no archive to download")
    return f"{settings.download_base_url.rstrip('/')}/{archive}"


def _download(url: str, dest: Path, settings: Settings, progress: DownloadProgress | None) -> None:
    """The archive at `url` into `dest`, through the guarded client every fetch uses (an address on
    loopback or a private network only with TTS_NEWS_FETCH_ALLOW_PRIVATE)."""
    try:
        http.download(url, dest, settings, max_bytes=MAX_DOWNLOAD_BYTES, progress=progress)
    except http.FetchTooLarge as err:
        raise VoiceUnavailable(str(err)) from err
    except http.FetchInterrupted as err:
        raise VoiceUnavailable(f"download of {url} stopped after {err.done} of {err.total} bytes; "
                               "run it again") from err
    except (http.FetchError, OSError) as err:
        raise VoiceUnavailable(f"download of {url} failed: {err}") from err


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
    """Put a complete model folder in place by one rename (replacing an older install), so a
    half-copied voice never looks installed."""
    target = voice.model_dir(settings)
    root = _model_root(unpacked)
    with staged_dir(target, replace=True) as staging:
        shutil.copytree(root, staging, dirs_exist_ok=True)
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


def pull_voice(voice: Voice, settings: Settings, progress: DownloadProgress | None = None) -> Path:
    """`voices pull NAME`: download the voice's archive and install it atomically."""
    if not voice.downloadable:
        raise UserError(f"voice {voice.name} has nothing to download")
    if settings.offline:
        raise VoiceUnavailable(f"voice {voice.name} is not installed and fetching is off (TTS_NEWS_OFFLINE)")
    url = _archive_url(voice, settings)
    with tempfile.TemporaryDirectory(dir=_scratch(settings)) as tmp:
        archive = Path(tmp) / "download.tar.gz"
        _download(url, archive, settings, progress)
        unpacked = Path(tmp) / "unpacked"
        _unpack(archive, unpacked)
        return _install_folder(voice, unpacked, settings)


def _scratch(settings: Settings) -> Path:
    """Temporary files live on the data dir's disk, so the final rename is atomic."""
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    return settings.models_dir


def choose_voice(settings: Settings, name: str | None, progress: DownloadProgress | None = None,
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
