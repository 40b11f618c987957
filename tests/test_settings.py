"""Settings from TTS_NEWS_* variables: every field read and typed, empty means unset, bad values one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tts_news.core.config import MMS_DOWNLOAD_BASE, PROJECT_ROOT, Settings
from tts_news.core.errors import UserError

# A value of each field's type as the environment spells it, and what it must read as.
SPELLED = {str: ("a-value", "a-value"), int: ("7", 7), float: ("2.5", 2.5), bool: ("yes", True),
           Path: ("/srv/news", Path("/srv/news"))}


def test_every_setting_is_read_from_its_tts_news_variable():
    env = {f"TTS_NEWS_{name.upper()}": SPELLED[field.annotation][0] for name, field in Settings.model_fields.items()}
    settings = Settings.from_env(env)
    for name, field in Settings.model_fields.items():
        assert getattr(settings, name) == SPELLED[field.annotation][1], name


def test_the_defaults_work_on_a_fresh_machine():
    settings = Settings.from_env({})
    assert settings.voice == "mms-urdu" and settings.download_base_url == MMS_DOWNLOAD_BASE
    assert settings.voices_dir == PROJECT_ROOT / "voices" and settings.cover.is_file()
    assert (settings.cache_mb, settings.bitrate, settings.job_lease_s, settings.offline) == (512, "96k", 60.0, False)
    assert settings.models_dir == settings.data_dir / "models" and settings.credentials_configured is False


def test_an_empty_variable_means_unset():
    settings = Settings.from_env({"TTS_NEWS_CACHE_MB": "", "TTS_NEWS_VOICE": "", "TTS_NEWS_OFFLINE": ""})
    assert (settings.cache_mb, settings.voice, settings.offline) == (512, "mms-urdu", False)


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("true", True), ("yes", True), ("on", True), ("TRUE", True),
                                            (" yes ", True), ("0", False), ("false", False), ("no", False),
                                            ("off", False)])
def test_offline_reads_the_usual_spellings_of_yes_and_no(raw, value):
    assert Settings.from_env({"TTS_NEWS_OFFLINE": raw}).offline is value


def test_a_given_environment_replaces_the_process_one_and_overrides_win(monkeypatch):
    monkeypatch.setenv("TTS_NEWS_VOICE", "from-the-process")
    assert Settings.from_env().voice == "from-the-process"
    assert Settings.from_env({}).voice == "mms-urdu"
    chosen = Settings.from_env({"TTS_NEWS_VOICE": "from-the-mapping", "TTS_NEWS_BITRATE": "128k"}, voice="given")
    assert (chosen.voice, chosen.bitrate) == ("given", "128k")


def test_a_home_folder_is_expanded():
    assert Settings.from_env({"TTS_NEWS_DATA_DIR": "~/news"}).data_dir == Path("~/news").expanduser()


@pytest.mark.parametrize(("env", "message"), [
    ({"TTS_NEWS_CACHE_MB": "lots"}, "TTS_NEWS_CACHE_MB='lots' is not a valid int"),
    ({"TTS_NEWS_JOB_LEASE_S": "soon"}, "TTS_NEWS_JOB_LEASE_S='soon' is not a valid float"),
    ({"TTS_NEWS_OFFLINE": "maybe"}, "TTS_NEWS_OFFLINE='maybe' is not a valid bool"),
])
def test_a_bad_value_names_its_variable(env, message):
    with pytest.raises(UserError) as err:
        Settings.from_env(env)
    assert str(err.value) == message


def test_a_bad_value_is_one_line_from_the_cli(tmp_path):
    env = {**os.environ, "TTS_NEWS_DATA_DIR": str(tmp_path), "TTS_NEWS_CACHE_MB": "lots"}
    done = subprocess.run([sys.executable, "-m", "tts_news.cli", "voices"], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert done.stderr == "tts-news: TTS_NEWS_CACHE_MB='lots' is not a valid int\n" and done.stdout == ""


def test_replace_makes_a_validated_copy():
    settings = Settings.from_env({"TTS_NEWS_BITRATE": "128k"})
    copy = settings.replace(cache_mb=64)
    assert (copy.cache_mb, copy.bitrate, settings.cache_mb) == (64, "128k", 512)  # the original is unchanged
    with pytest.raises(UserError, match="^cache_mb='lots' is not a valid int$"):
        settings.replace(cache_mb="lots")
    with pytest.raises(UserError, match="'cach_mb' is not a setting"):
        settings.replace(cach_mb=64)


def test_a_copy_is_not_a_new_reading_of_the_environment(monkeypatch):
    settings = Settings.from_env({})
    monkeypatch.setenv("TTS_NEWS_VOICE", "changed-meanwhile")
    assert settings.replace(cache_mb=1).voice == "mms-urdu"


def test_tests_may_set_a_knob_and_it_is_still_typed(tmp_path):
    settings = Settings.from_env({})
    settings.offline = True
    settings.data_dir = str(tmp_path)
    assert settings.offline is True and settings.data_dir == tmp_path and settings.models_dir == tmp_path / "models"
