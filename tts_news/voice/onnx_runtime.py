"""A Coqui VITS export through ONNX Runtime on the CPU: no torch in the process. The tokenizer is rebuilt
from the description the exporter wrote beside the graph (`tokenizer.json`): the same characters, ids,
cleaner, blanks and noise scales as the torch path, so both runtimes say the same text the same way."""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from pathlib import Path

import numpy as np

from tts_news.voice import decoder_rows
from tts_news.voice.engine import NO_SCALES, WARMUP_TEXT, Engine, Scales

GRAPH_FILE, TOKENIZER_FILE = "model.onnx", "tokenizer.json"
_WHITESPACE = re.compile(r"\s+")


class ExportUnavailable(Exception):
    """This voice cannot run through ONNX Runtime here; the message says why."""


def _basic_cleaners(text: str) -> str:
    """Coqui's basic_cleaners: NFC, lower case, collapsed whitespace."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text).lower()).strip()


CLEANERS = {None: lambda text: text, "basic_cleaners": _basic_cleaners}


class VitsTokenizer:
    """Coqui's TTSTokenizer for character models, from its description: text → ids."""

    def __init__(self, spec: dict) -> None:
        if spec.get("cleaner") not in CLEANERS:
            raise ExportUnavailable(f"text cleaner {spec.get('cleaner')!r} is not supported without torch")
        self._clean = CLEANERS[spec["cleaner"]]
        self.char_to_id: dict[str, int] = spec["char_to_id"]
        self.add_blank = bool(spec["add_blank"])
        self.blank_id = spec.get("blank_id")
        self.use_eos_bos = bool(spec.get("use_eos_bos"))
        self.bos_id, self.eos_id = spec.get("bos_id"), spec.get("eos_id")

    def ids(self, text: str) -> list[int]:
        ids = [self.char_to_id[ch] for ch in self._clean(text) if ch in self.char_to_id]
        if self.add_blank:
            spaced = [self.blank_id] * (2 * len(ids) + 1)
            spaced[1::2] = ids
            ids = spaced
        if self.use_eos_bos:
            ids = [self.bos_id, *ids, self.eos_id]
        return ids


def session(folder: Path):
    """An ONNX Runtime CPU session with graph optimizations on, for shapes that change every call."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_mem_pattern = False  # every sentence has its own length: no pattern to reuse
    options.inter_op_num_threads = 1
    # Idle threads sleep instead of spinning: after the last sentence the cores belong to mastering
    # and the encoder, and one sentence's call is long enough that waking costs nothing.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(folder / GRAPH_FILE), options, providers=["CPUExecutionProvider"])


def run(sess, ids: list[int], scales: np.ndarray, extra: dict | None = None) -> np.ndarray:
    """One sentence's samples; `extra` is `decoder_rows.inputs_for(sess)`, made once per session."""
    feed = {"input": np.asarray([ids], np.int64), "input_lengths": np.asarray([len(ids)], np.int64),
            "scales": scales, **(extra or {})}
    for extra in sess.get_inputs()[3:]:  # the graph kept a speaker or language id: the only one, 0
        feed[extra.name] = np.zeros(1, np.int64)
    out = sess.run(["output"], feed)[0]
    return np.asarray(out, np.float32).reshape(-1)


class OnnxEngine(Engine):
    """A Coqui VITS export through ONNX Runtime on the CPU: no torch in the process."""

    runtime = "onnx"

    def __init__(self, folder: Path, scales: Scales = NO_SCALES) -> None:
        spec = json.loads((folder / TOKENIZER_FILE).read_text(encoding="utf-8"))
        self.tokenizer = VitsTokenizer(spec)
        self._session = session(folder)
        self._extra = decoder_rows.inputs_for(self._session)
        self._scales = np.asarray([own if own is not None else model for own, model in zip(scales, spec["scales"])],
                                  np.float32)
        self._lock = threading.Lock()
        self.sample_rate = int(spec["sample_rate"])
        self.vocabulary = frozenset(c for c in self.tokenizer.char_to_id if len(c) == 1)
        self.speak(WARMUP_TEXT)

    def speak(self, text: str) -> np.ndarray:
        ids = self.tokenizer.ids(text)
        with self._lock:
            return run(self._session, ids, self._scales, self._extra)
