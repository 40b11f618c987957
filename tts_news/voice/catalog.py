"""Voices: `voices/*.toml` → Voice, and where a neural voice's weights live (getting them: `install`).

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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tts_news.core.config import Settings
from tts_news.core.errors import UnknownVoice, UserError
from tts_news.text.script import DEFAULT_MAX_CHARS

log = logging.getLogger(__name__)

ENGINES = ("coqui", "espeak")
RUNTIMES = ("auto", "onnx", "torch")  # a Coqui voice: ONNX Runtime on CPU, torch, or the best one here
# VITS inference settings a voice file may set: sampling noise (0: the same audio every time) and
# length_scale (above 1: slower reading).
SCALES = ("noise_scale", "length_scale", "noise_scale_dp")
FALLBACK_VOICE = "espeak-urdu"
# The slowest shipped voice's pace at speed 1, spaces included: what bounds the audio a text can make
# (an episode's length at submission, a speech request's). Measured: espeak-urdu says 11.7–12.2 spoken
# characters a second on the seed and corpus articles; MMS reads faster.
SLOWEST_PACE_CHARS_PER_S = 11.0
REQUIRED = {"name": str, "label": str, "engine": str, "language": str, "license": str, "sample_rate": int}
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
