"""What every engine is: spoken sentences in, float32 audio out, with the characters it can say.

Engines: espeak-ng (`espeak`), a Coqui VITS model through torch (`coqui`) or through ONNX Runtime
(`onnx_runtime`); `loader.load_engine` picks and keeps one per voice per process. Neither neural
runtime is called from two threads at once. The pipeline reports what an engine cannot say.
"""

from __future__ import annotations

import numpy as np

WARMUP_TEXT = "سلام"  # first inference pays one-off costs; engines pay them at load, not on a job
Scales = tuple[float | None, float | None, float | None]  # noise, length, duration noise; None: the model's
NO_SCALES: Scales = (None, None, None)


class Engine:
    sample_rate: int
    vocabulary: frozenset[str] | None = None  # None: the engine says any character it is given
    batch_size: int = 1  # sentences per call the engine is fastest with
    runtime: str = ""

    def speak(self, text: str) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def speak_batch(self, texts: list[str]) -> list[np.ndarray]:
        return [self.speak(text) for text in texts]
