"""Voices: `voices/*.toml` → Voice, and where a neural voice's weights live (getting them: `install`).

A voice file names its engine and that engine's settings. Files are validated on load (pydantic
models: `VoiceFile`, then the engine's own table), and a bad file is reported by name with what is wrong. Coqui voices either name a model that is fetched into
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
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

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
MIN_MAX_CHARS = 20  # a voice must take at least a short clause in one call
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


def _model_name(model: str) -> str:
    if not MODEL_NAME_RE.fullmatch(model) or ".." in model.split("/"):
        raise ValueError("not a Coqui model name")
    return model


Scale = Annotated[float, Field(ge=0)]
_STRICT = ConfigDict(strict=True, extra="allow")  # TOML's own types, no coercion (true is not 1); other keys kept


class VoiceFile(BaseModel):
    """The keys every voice file has (its engine's table is checked by that engine's model)."""

    model_config = _STRICT

    name: str
    label: str
    engine: Literal[ENGINES]
    language: str
    license: str
    sample_rate: Annotated[int, Field(gt=0)]
    version: Any = "1"
    max_chars: Annotated[int, Field(ge=MIN_MAX_CHARS)] = DEFAULT_MAX_CHARS


class CoquiTable(BaseModel):
    """[coqui]: a Coqui model name (fetched into the data dir) or a local model directory, and how to run it."""

    model_config = _STRICT

    model: Annotated[str, AfterValidator(_model_name)] | None = None
    path: str | None = None
    runtime: Literal[RUNTIMES] = "auto"
    noise_scale: Scale | None = None
    length_scale: Annotated[float, Field(gt=0)] | None = None  # a length of 0 would say nothing at all
    noise_scale_dp: Scale | None = None

    @model_validator(mode="before")
    @classmethod
    def _model_or_path(cls, table: Any) -> Any:
        if isinstance(table, dict) and not ({"model", "path"} & set(table)):
            raise PydanticCustomError("model_or_path", MESSAGES["coqui", None])
        return table


class EspeakTable(BaseModel):
    """[espeak]: espeak-ng's voice name (its rate and pitch the engine reads as numbers)."""

    model_config = _STRICT

    voice: str = "ur"


ENGINE_TABLES: dict[str, type[BaseModel]] = {"coqui": CoquiTable, "espeak": EspeakTable}
# What is wrong, by where pydantic found it: (table, key) → the line a newsroom reads.
MESSAGES = {
    (None, "engine"): f"engine must be one of {', '.join(ENGINES)}, not {{input!r}}",
    (None, "sample_rate"): "'sample_rate' must be positive",
    (None, "max_chars"): f"'max_chars' must be a whole number of at least {MIN_MAX_CHARS}",
    ("coqui", None): "[coqui] needs 'model' (a Coqui model name) or 'path' (a local model directory)",
    ("coqui", "model"): "[coqui] model must be a Coqui model name like tts_models/urd-script_arabic/fairseq/vits",
    ("coqui", "path"): "[coqui] path must be a string (a local model directory)",
    ("coqui", "runtime"): f"[coqui] runtime must be one of {', '.join(RUNTIMES)}",
    ("coqui", "noise_scale"): "[coqui] noise_scale must be a number of at least 0",
    ("coqui", "length_scale"): "[coqui] length_scale must be a number above 0",
    ("coqui", "noise_scale_dp"): "[coqui] noise_scale_dp must be a number of at least 0",
    ("espeak", "voice"): "[espeak] voice must be a string",
}
TYPE_ERRORS = ("string_type", "int_type", "float_type", "bool_type")


def _problem(err: ValidationError, table: str | None) -> str:
    """The first thing pydantic found wrong, in the words of MESSAGES."""
    problem = err.errors()[0]
    key = str(problem["loc"][0]) if problem["loc"] else None
    if problem["type"] == "missing":
        return f"missing '{key}'"
    if table is None and problem["type"] in TYPE_ERRORS and key != "max_chars":
        kind = VoiceFile.model_fields[key].annotation
        return f"'{key}' must be a {getattr(kind, '__name__', kind)}, not {type(problem['input']).__name__}"
    message = MESSAGES.get((table, key))
    return message.format(input=problem["input"]) if message else f"{key}: {problem['msg']}"


def _check(data: dict, path: Path) -> Voice:
    try:
        head = VoiceFile.model_validate(data)
    except ValidationError as err:
        raise UserError(f"voice file {path}: {_problem(err, None)}") from None
    engine_settings = data.get(head.engine, {})
    if not isinstance(engine_settings, dict):
        raise UserError(f"voice file {path}: [{head.engine}] must be a table")
    try:
        ENGINE_TABLES[head.engine].model_validate(engine_settings)
    except ValidationError as err:
        raise UserError(f"voice file {path}: {_problem(err, head.engine)}") from None
    return Voice(
        name=head.name,
        label=head.label,
        engine=head.engine,
        language=head.language,
        license=head.license,
        sample_rate=head.sample_rate,
        source=path,
        version=str(head.version),
        max_chars=head.max_chars,
        settings=engine_settings,  # the table as written: engines read their own keys ("path" in it, or not)
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
