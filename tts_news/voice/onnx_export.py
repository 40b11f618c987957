"""A Coqui VITS voice exported for ONNX Runtime, once per checkpoint (the runtime: `onnx_runtime`).

The export is Coqui's own (`Vits.export_onnx`), made in a child process so the worker never holds
torch's memory, and cached in the data dir under a key of the checkpoint's bytes and the exporter's
and runtime's versions; it appears by one rename, so a half-written export is never loaded. Beside
the graph lies the tokenizer's description (`tokenizer.json`): the same characters, ids, cleaner,
blanks and noise scales as the torch path, so both runtimes say the same text the same way.

Run as `python -m tts_news.vits_onnx MODEL_DIR OUT_DIR` it makes one export (that is the child).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from tts_news.core.files import staged_dir
from tts_news.voice import decoder_rows
from tts_news.voice.coqui import load_coqui_model
from tts_news.voice.onnx_runtime import GRAPH_FILE, TOKENIZER_FILE, ExportUnavailable, VitsTokenizer

log = logging.getLogger(__name__)

EXPORT_FORMAT = 2  # bump when the files written here change (2: the decoder in rows)
EXPORT_TIMEOUT_S = 900
COQUI_GRAPH = "coqui.onnx"  # Coqui's own graph, before its decoder is laid out in rows
HASH_CHUNK = 1 << 20


def tokenizer_spec(model) -> dict:
    """Describe a loaded Coqui VITS model's tokenizer and inference settings (the export child)."""
    tok = model.tokenizer
    if tok.use_phonemes:
        raise ExportUnavailable("the voice reads phonemes; its phonemizer needs the torch path")
    # Coqui's exporter adds speaker and language id inputs; one speaker and one language take id 0.
    languages = model.language_manager.num_languages if model.embedded_language_dim > 0 else 0
    if getattr(model, "num_speakers", 0) > 1 or languages > 1:
        raise ExportUnavailable("multi-speaker and multi-language models need the torch path")

    cleaner = getattr(tok.text_cleaner, "__name__", None) if tok.text_cleaner else None
    chars = tok.characters
    return {
        "format": EXPORT_FORMAT,
        "cleaner": cleaner,
        "char_to_id": {c: chars.char_to_id(c) for c in chars.vocab if isinstance(c, str)},
        "add_blank": bool(tok.add_blank),
        "blank_id": tok.blank_id,
        "use_eos_bos": bool(tok.use_eos_bos),
        "bos_id": chars.bos_id if tok.use_eos_bos else None,
        "eos_id": chars.eos_id if tok.use_eos_bos else None,
        "scales": [float(model.inference_noise_scale), float(model.length_scale),
                   float(model.inference_noise_scale_dp)],
        "sample_rate": int(model.config.audio["sample_rate"]),
    }


# -- the export cache -----------------------------------------------------------------------------
def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def export_key(files: list[Path]) -> str:
    """The checkpoint's bytes (and its config and vocabulary), the exporter's and the runtime's versions."""
    digest = hashlib.sha256(json.dumps([EXPORT_FORMAT, _version("coqui-tts"), _version("torch"),
                                        _version("onnxruntime")]).encode())
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            while chunk := f.read(HASH_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()[:32]


def ensure_export(model_dir: Path, files: list[Path], exports_dir: Path) -> Path:
    """The folder holding this checkpoint's ONNX graph and tokenizer, exporting it first if needed."""
    target = exports_dir / export_key(files)
    if (target / GRAPH_FILE).is_file() and (target / TOKENIZER_FILE).is_file():
        return target
    try:
        with staged_dir(target) as staging:  # another worker's export that gets there first wins
            log.info("exporting %s to ONNX (once per checkpoint)", model_dir)
            done = subprocess.run([sys.executable, "-m", "tts_news.voice.onnx_export", str(model_dir), str(staging)],
                                  capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S)
            if done.returncode != 0:
                lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
                raise ExportUnavailable(lines[-1] if lines else f"the exporter exited with {done.returncode}")
            for line in done.stdout.splitlines():
                log.info("ONNX export: %s", line)
    except subprocess.TimeoutExpired as err:
        raise ExportUnavailable(f"the export took longer than {EXPORT_TIMEOUT_S} s") from err
    return target


def _export(model_dir: Path, out: Path) -> None:
    """The child: load the checkpoint with torch, export the graph, lay its decoder out in rows
    (checked to say the same samples) and describe the tokenizer. Prints what it did with the decoder."""
    model = load_coqui_model(model_dir)
    spec = tokenizer_spec(model)
    VitsTokenizer(spec)  # refuses what the runtime could not tokenize, before anything is cached
    model.export_onnx(str(out / COQUI_GRAPH), verbose=False)
    del model
    spec["decoder"] = decoder_rows.optimize(out / COQUI_GRAPH, out / GRAPH_FILE, sorted(set(spec["char_to_id"].values())))
    (out / COQUI_GRAPH).unlink()
    print(spec["decoder"])
    (out / TOKENIZER_FILE).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    for path in out.iterdir():
        os.chmod(path, 0o644)


def main(argv: list[str]) -> int:
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    try:
        _export(Path(argv[0]), Path(argv[1]))
    except ExportUnavailable as err:
        print(err, file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - the parent logs this one line and speaks with torch
        print(f"ONNX export failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
