"""A joined episode → broadcast-level 44.1 kHz samples, block by block, in bounded memory.

Two passes over the episode at the voice's own rate, never holding more than a block of the output:
1. measure: speech high-pass (removes DC and the rumble that the K-weighting ignores but that eats
   the true-peak headroom), then integrated loudness (ITU-R BS.1770-4, gated) with a streaming meter;
2. deliver: the same high-pass, resampling to 44.1 kHz (libsoxr), the gain to the target and a
   look-ahead true-peak limiter (4x oversampled peaks), measured again as it leaves.

If the limiter took more loudness than the tolerance, the caller runs pass 2 again with the gain
corrected (`Master.correct`): a long episode converges the same way as a short one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import numpy as np
import soxr
from pyloudnorm.iirfilter import IIRfilter
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, ellip, sosfilt

OUTPUT_RATE = 44100
HIGHPASS_HZ = 75.0  # below the lowest voice fundamental; TTS models leave DC and rumble there
HIGHPASS_ORDER = 4
BLOCK_S = 2.5  # pass granularity: memory per pass is a few blocks; short, so the encoder starts sooner
TRUE_PEAK_OVERSAMPLE = 4  # BS.1770 estimates true peak at 4x oversampling
LIMITER_LOOKAHEAD_S = 0.003  # the gain is already down when a peak arrives: no overshoot, no click
LIMITER_RELEASE_S = 0.050
# Context each side of a limiter block: more than the limiter's reach (look-ahead, release and
# smoothing, ~1,300 samples) and the resampler's filter, so block edges are never heard.
LIMITER_MARGIN = 8192
GATE_BLOCK_S, GATE_STEP_S = 0.4, 0.1  # BS.1770 gating blocks: 400 ms, 75 % overlap
ABSOLUTE_GATE_LUFS, RELATIVE_GATE_LU = -70.0, -10.0


BAND_EDGE = 0.9  # of the voice's Nyquist frequency: inside the resampler's passband (libsoxr HQ: 0.913)


def speech_band(sample_rate: int):
    """Second-order sections of the speech band at the voice's rate: the high-pass, and — when the
    episode will be resampled — a steep low-pass just inside the resampler's passband. A model's
    energy near its Nyquist frequency (random and poorly trained decoders make plenty) would
    otherwise be measured here and then removed by the resampler, and the gain would be wrong."""
    sos = [butter(HIGHPASS_ORDER, HIGHPASS_HZ, btype="highpass", fs=sample_rate, output="sos")]
    if sample_rate != OUTPUT_RATE:
        sos.append(ellip(8, 0.05, 80, BAND_EDGE * sample_rate / 2, fs=sample_rate, output="sos"))
    return np.vstack(sos).astype(np.float32)


class SpeechBand:
    """The speech band filter over a signal fed in pieces: its state carries across them, so the pieces
    come out as the whole signal would. The first stage of every chain here."""

    def __init__(self, sample_rate: int) -> None:
        self._sos = speech_band(sample_rate)
        self._state = np.zeros((self._sos.shape[0], 2), np.float32)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        out, self._state = sosfilt(self._sos, np.asarray(samples, np.float32), zi=self._state)
        return out


def resampler(sample_rate: int) -> soxr.ResampleStream:
    """The voice's rate → 44.1 kHz, piece by piece (libsoxr, within its passband: see BAND_EDGE)."""
    return soxr.ResampleStream(sample_rate, OUTPUT_RATE, 1, dtype="float32", quality="HQ")


class LoudnessMeter:
    """Integrated loudness (ITU-R BS.1770-4, mono) fed block by block: the K-weighting filters carry
    their state across blocks, and only one energy per 100 ms is kept, so hours cost kilobytes.
    The filter coefficients are pyloudnorm's, so a whole signal measures as pyloudnorm measures it."""

    def __init__(self, sample_rate: int) -> None:
        self.rate = sample_rate
        stages = [IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
                  IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass")]
        # One float32 cascade: five times faster than float64 and within 1e-7 of it in energy.
        self._sos = np.vstack([np.concatenate([st.b * st.passband_gain, st.a]) for st in stages]).astype(np.float32)
        self._state = np.zeros((len(stages), 2), np.float32)
        self.peak = 0.0  # largest true peak seen, linear (kept by `limited`)
        self._step = int(round(GATE_STEP_S * sample_rate))
        self._partial = 0.0  # energy of the step being filled
        self._partial_n = 0
        self._steps: list[float] = []
        self.samples = 0

    def add(self, block: np.ndarray) -> None:
        y, self._state = sosfilt(self._sos, np.asarray(block, np.float32), zi=self._state)
        self.samples += len(y)
        energy = np.square(y, dtype=np.float64)
        pos = 0
        if self._partial_n:
            take = min(self._step - self._partial_n, len(energy))
            self._partial += float(energy[:take].sum())
            self._partial_n += take
            pos = take
            if self._partial_n == self._step:
                self._steps.append(self._partial)
                self._partial, self._partial_n = 0.0, 0
        whole = (len(energy) - pos) // self._step
        if whole:
            self._steps.extend(energy[pos:pos + whole * self._step].reshape(whole, self._step).sum(axis=1).tolist())
            pos += whole * self._step
        if pos < len(energy):
            self._partial += float(energy[pos:].sum())
            self._partial_n += len(energy) - pos

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS; -inf for silence. A clip shorter than one gating block
        is measured as if silence followed it."""
        steps = np.array(self._steps + ([self._partial] if self._partial_n else []), np.float64)
        per_block = round(GATE_BLOCK_S / GATE_STEP_S)
        if len(steps) < per_block:
            steps = np.pad(steps, (0, per_block - len(steps)))
        window = np.convolve(steps, np.ones(per_block), mode="valid")  # 400 ms blocks, 100 ms apart
        z = window / (per_block * self._step)
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10 * np.log10(z)
        above = z[block_lufs >= ABSOLUTE_GATE_LUFS]
        if not above.size:
            return float("-inf")
        relative = -0.691 + 10 * np.log10(above.mean()) + RELATIVE_GATE_LU
        gated = z[(block_lufs >= ABSOLUTE_GATE_LUFS) & (block_lufs > relative)]
        return float(-0.691 + 10 * np.log10(gated.mean())) if gated.size else float("-inf")


def true_peak_envelope(audio: np.ndarray) -> np.ndarray:
    """Per-sample true peak: the largest magnitude of the 4x oversampled signal around each sample.
    (Oversampling is relative, so this works at any rate; max and min of the phases are taken
    separately, which touches the 4x signal once instead of making absolute copies of it.)"""
    n = len(audio)
    if n == 0:
        return np.zeros(0, np.float32)
    k = TRUE_PEAK_OVERSAMPLE
    over = soxr.resample(np.asarray(audio, np.float32), 1, k, quality="HQ")
    if len(over) < n * k:
        over = np.concatenate([over, np.zeros(n * k - len(over), np.float32)])
    hi = over[0: n * k: k].copy()
    lo = hi.copy()
    for phase in range(1, k):
        np.maximum(hi, over[phase: n * k: k], out=hi)
        np.minimum(lo, over[phase: n * k: k], out=lo)
    np.negative(lo, out=lo)
    np.maximum(hi, lo, out=hi)
    return np.maximum(hi, np.abs(audio), out=hi)


def limiter_gain(peaks: np.ndarray, ceiling_db: float, sample_rate: int = OUTPUT_RATE) -> np.ndarray:
    """A look-ahead limiter's gain curve for a signal with these true peaks: the gain is already
    down when a peak arrives and recovers smoothly, never above what keeps peaks under the ceiling."""
    need = np.minimum(1.0, 10 ** (ceiling_db / 20) / np.maximum(peaks, 1e-12)).astype(np.float32)
    if need.size == 0 or need.min() >= 1.0:
        return need
    look = max(1, int(LIMITER_LOOKAHEAD_S * sample_rate))
    held = minimum_filter1d(need, size=2 * look + 1)
    held = minimum_filter1d(held, size=max(1, int(LIMITER_RELEASE_S * sample_rate)))
    return np.minimum(uniform_filter1d(held, size=look + 1), need)


def limit_true_peak(audio: np.ndarray, ceiling_db: float) -> np.ndarray:
    """The limiter on a whole (short) signal at 44.1 kHz."""
    audio = np.asarray(audio, np.float32)
    return (audio * limiter_gain(true_peak_envelope(audio), ceiling_db)).astype(np.float32)


def limited(blocks: Iterator[np.ndarray], sample_rate: int, gain: float, ceiling_db: float,
            meter: LoudnessMeter) -> Iterator[np.ndarray]:
    """Gain, then the look-ahead limiter, block by block: each block is limited with enough of the
    signal around it that the result equals limiting the whole signal at once. Every delivered
    sample passes through `meter`; `meter.peak` is the delivered true peak (linear)."""
    margin = int(LIMITER_MARGIN * sample_rate / OUTPUT_RATE)
    least = int(BLOCK_S * sample_rate) // 2
    gain = np.float32(gain)
    buf = np.zeros(0, np.float32)
    start = done = 0  # global index of buf[0]; samples delivered
    meter.peak = 0.0
    while True:
        block = next(blocks, None)
        final = block is None
        if not final:
            buf = np.concatenate([buf, block * gain])
        ready = start + len(buf) - (0 if final else margin)
        if ready - done >= (1 if final else least):
            peaks = true_peak_envelope(buf)
            curve = limiter_gain(peaks, ceiling_db, sample_rate)
            lo, hi = done - start, ready - start
            out = buf[lo:hi] * curve[lo:hi]
            meter.peak = max(meter.peak, float((peaks[lo:hi] * curve[lo:hi]).max()))
            meter.add(out)
            done = ready
            drop = max(0, done - margin - start)
            buf, start = buf[drop:], start + drop
            yield out
        if final:
            return


PREDICTION_TOLERANCE = 0.2  # LU
PREDICTION_ROUNDS = 6
MAX_GAIN_STEP_DB = 6.0  # one secant step at most: a bad slope estimate cannot throw the gain far
SATURATED_SLOPE = 0.05  # LU of loudness per dB of gain below which the limiter takes all that is added


class SourceMeter:
    """Pass 1 of the mastering — the speech band, then loudness and true peak — fed piece by piece
    as the episode is joined (`listen(gap, piece)`), on a thread of its own: it runs while the voice
    speaks the next sentence, and is done when the last one is. Filter and meter carry their state
    across pieces, so the figures are those of the joined episode. `result()` waits for it."""

    def __init__(self, sample_rate: int) -> None:
        self.rate = sample_rate
        self._band = SpeechBand(sample_rate)
        self.meter = LoudnessMeter(sample_rate)
        self.peak = 0.0  # largest true peak of the filtered source, linear
        self._pending: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None

    def add(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        out = self._band(samples)
        self.meter.add(out)
        self.peak = max(self.peak, float(true_peak_envelope(out).max(initial=0.0)))

    def listen(self, gap: int, piece: np.ndarray) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="source-meter", daemon=True)
            self._thread.start()
        self._pending.put((gap, piece))

    def _work(self) -> None:
        while (item := self._pending.get()) is not None:
            if self._failed is None:
                try:
                    self.add(np.zeros(item[0], np.float32))
                    self.add(item[1])
                except Exception as err:  # noqa: BLE001 - raised where the result is asked for
                    self._failed = err

    def close(self) -> None:
        """Stop taking pieces and wait for the ones taken (also after a failed join: no thread is left)."""
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join()
            self._thread = None

    def result(self) -> SourceMeter | None:
        """This meter once every piece is measured; None when it heard nothing."""
        self.close()
        if self._failed is not None:
            raise self._failed
        return self if self.meter.samples else None


class Master:
    """One episode's mastering. `Master(source_blocks, rate, lufs=, true_peak=)` finds the gain:
    it measures the high-passed source, then predicts — at the voice's own rate, where a pass is
    cheap — how much loudness the limiter will take and corrects for it (secant steps). True peaks
    and the limiter's time constants do not depend on the sample rate, so the prediction holds at
    44.1 kHz. `blocks()` then yields the finished 44.1 kHz float32 samples, after which `loudness`
    and `true_peak` describe exactly what was delivered."""

    def __init__(self, source_blocks, sample_rate: int, *, lufs: float, true_peak: float,
                 measured: SourceMeter | None = None) -> None:
        self._source = source_blocks  # () -> iterator of float32 blocks at sample_rate
        self.rate = sample_rate
        self.target = lufs
        self.ceiling = true_peak
        self._measured = measured  # pass 1, made while the episode was joined
        self.source_lufs: float | None = None  # measured on first use, so an encoder can start meanwhile
        self.gain_db = 0.0
        self.loudness = float("-inf")
        self.true_peak = float("-inf")
        self.samples = 0

    def measure(self) -> None:
        """Pass 1: the source's loudness and true peak; the limiter's share is predicted only when
        the gain would take a peak over the ceiling."""
        source = self._measured.result() if self._measured is not None else None
        if source is None or source.rate != self.rate:
            source = SourceMeter(self.rate)
            for block in self._source():
                source.add(block)
        self.source_lufs, peak = source.meter.integrated(), source.peak
        if not np.isfinite(self.source_lufs):
            return  # silence: nothing to normalize
        self.gain_db = self.target - self.source_lufs
        if peak > 0 and 20 * np.log10(peak) + self.gain_db > self.ceiling - PREDICTION_TOLERANCE:
            self._predict()

    @property
    def gain(self) -> float:
        return float(10 ** (self.gain_db / 20))

    def _predict(self) -> None:
        tried: list[tuple[float, float]] = []
        for _ in range(PREDICTION_ROUNDS):
            meter = LoudnessMeter(self.rate)
            for _block in limited(self._filtered(), self.rate, self.gain, self.ceiling, meter):
                pass
            measured = meter.integrated()
            off = self.target - measured
            if not np.isfinite(off) or abs(off) <= PREDICTION_TOLERANCE:
                return
            tried.append((self.gain_db, measured))
            slope = 1.0
            if len(tried) > 1:
                (g0, l0), (g1, l1) = tried[-2:]
                slope = (l1 - l0) / (g1 - g0) if g1 != g0 else 1.0
                if slope < SATURATED_SLOPE:
                    # More gain only squashes: the limiter holds every syllable at the ceiling. Keep
                    # the gentler of the two; the episode stays below the target rather than distorted.
                    self.gain_db = min(g0, g1)
                    return
            self.gain_db += float(np.clip(off / max(slope, SATURATED_SLOPE), -MAX_GAIN_STEP_DB, MAX_GAIN_STEP_DB))

    def _filtered(self) -> Iterator[np.ndarray]:
        band = SpeechBand(self.rate)
        for block in self._source():
            yield band(block)

    def _resampled(self) -> Iterator[np.ndarray]:
        if self.rate == OUTPUT_RATE:
            yield from self._filtered()
            return
        stream = resampler(self.rate)
        for block in self._filtered():
            out = stream.resample_chunk(block)
            if len(out):
                yield out
        tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
        if len(tail):
            yield tail

    def correct(self) -> float:
        """After a delivery pass: change the gain by what the delivered loudness missed the target."""
        off = self.target - self.loudness
        if np.isfinite(off):
            self.gain_db += off
        return off

    def blocks(self) -> Iterator[np.ndarray]:
        if self.source_lufs is None:
            self.measure()
        meter = LoudnessMeter(OUTPUT_RATE)
        self.samples = 0
        for out in limited(self._resampled(), OUTPUT_RATE, self.gain, self.ceiling, meter):
            self.samples += len(out)
            yield out
        self.loudness = meter.integrated()
        self.true_peak = 20 * float(np.log10(meter.peak)) if meter.peak > 0 else float("-inf")


MAX_ADAPTIVE_GAIN_DB = 40.0  # a nearly silent first sentence must not be blown up without bound


class Leveller:
    """The same chain for audio that cannot wait for the whole episode (a live stream, streamed speech),
    one piece at a time: speech band → loudness → gain → 44.1 kHz → true-peak limiter. The gain is
    fixed when one is known (what the voice's last finished episode needed), else what the pieces so
    far need. `add(gap, piece)` takes what `timeline.assemble` joins and returns 44.1 kHz samples."""

    def __init__(self, sample_rate: int, *, lufs: float, true_peak: float, gain_db: float | None = None) -> None:
        self.rate = sample_rate
        self.target = lufs
        self.ceiling = true_peak
        self.fixed_gain = gain_db
        self._band = SpeechBand(sample_rate)
        self._meter = LoudnessMeter(sample_rate)
        self._resampler = resampler(sample_rate)

    def gain_db(self) -> float:
        if self.fixed_gain is not None:
            return self.fixed_gain
        measured = self._meter.integrated()
        return float(np.clip(self.target - measured, -MAX_ADAPTIVE_GAIN_DB, MAX_ADAPTIVE_GAIN_DB)) \
            if np.isfinite(measured) else 0.0

    def add(self, gap: int, piece: np.ndarray) -> np.ndarray:
        x = self._band(np.concatenate([np.zeros(gap, np.float32), np.asarray(piece, np.float32)]))
        self._meter.add(x[gap:])
        x = self._resampler.resample_chunk(x * np.float32(10 ** (self.gain_db() / 20)))
        return limit_true_peak(x, self.ceiling)

    def flush(self) -> np.ndarray:
        """The resampler's last samples."""
        return limit_true_peak(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True), self.ceiling)
