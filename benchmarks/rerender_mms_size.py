"""Re-render speed-up with a voice of the real MMS size and architecture.

The MMS weights cannot be downloaded on every machine, so this builds a random-weight checkpoint in
the MMS (fairseq) layout — the same network, the same compute per sentence — and runs `tts-news
bench` with it. Usage: .venv/bin/python benchmarks/rerender_mms_size.py
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tiny_models import build_fairseq_mms  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        model = build_fairseq_mms(Path(tmp) / "tts_models--urd-script_arabic--fairseq--vits")
        (data / "voices").mkdir(parents=True)
        (data / "voices" / "mms-size.toml").write_text(
            'name = "mms-size"\nlabel = "ایم ایم ایس"\nengine = "coqui"\nlanguage = "ur"\nlicense = "test"\n'
            f'sample_rate = 16000\nmax_chars = 250\n[coqui]\npath = "{model}"\n', encoding="utf-8")
        env = {**os.environ, "TTS_NEWS_DATA_DIR": str(data), "TTS_NEWS_OFFLINE": "1"}
        return subprocess.call([sys.executable, "-m", "tts_news.cli", "bench", "--voice", "mms-size"], env=env)


if __name__ == "__main__":
    sys.exit(main())
