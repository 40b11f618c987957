"""The decoder laid out in rows (tts_news.decoder_rows): the same samples as Coqui's own export for
any number of rows and any sentence length, a wrong halo caught before anything is cached, and a
graph the rewrite does not know kept as it is."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tts_news.testing.random_voices import build_tiny_vits
from tts_news.voice import decoder_rows, onnx_runtime
from tts_news.voice import onnx_export as vits_onnx
from tts_news.voice.coqui import load_coqui_model, model_files


@pytest.fixture(scope="module")
def wide_vits(tmp_path_factory):
    """A small VITS whose decoder starts at 256 channels, so the cut falls after two stages, as in MMS."""
    return build_tiny_vits(tmp_path_factory.mktemp("models") / "wide-vits", upsample_initial_channel_decoder=256,
                           upsample_rates_decoder=[4, 4, 2, 2], upsample_kernel_sizes_decoder=[8, 8, 4, 4],
                           resblock_kernel_sizes_decoder=[3, 7], resblock_dilation_sizes_decoder=[[1, 3, 5]] * 2)


def coqui_export(model_dir, path):
    load_coqui_model(model_dir).export_onnx(str(path), verbose=False)
    return path


def session(path):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def samples(sess, ids, rows=None):
    feed = {"input": np.asarray([ids], np.int64), "input_lengths": np.asarray([len(ids)], np.int64),
            "scales": np.asarray([0, 1, 0], np.float32)}
    if rows is not None:
        feed[decoder_rows.ROWS_INPUT] = np.asarray(rows, np.int64)
    return sess.run(["output"], feed)[0].reshape(-1)


@pytest.mark.parametrize("voice", ["tiny_vits", "wide_vits"])
def test_rows_give_coqui_s_samples_for_every_length_and_row_count(voice, request, tmp_path):
    folder = request.getfixturevalue(voice)
    plain = coqui_export(folder, tmp_path / "coqui.onnx")
    model = onnx.load(str(plain))
    done = decoder_rows.rewrite(model)
    onnx.save(model, str(tmp_path / "rows.onnx"))
    coqui, rows = session(plain), session(tmp_path / "rows.onnx")
    assert decoder_rows.ROWS_INPUT in {i.name for i in rows.get_overridable_initializers()}
    cut_at = 2 * decoder_rows.MIN_ROW_HALOS * done["halo"] * done["upsampling_after_cut"]  # samples
    assert done["upsampling_after_cut"] == (64 if voice == "tiny_vits" else 16)
    rng = np.random.default_rng(1)
    longest = 0
    for length in (3, 5, 17, 60, 250, 700):
        ids = rng.integers(1, 40, size=length).tolist()
        expected = samples(coqui, ids)
        longest = max(longest, len(expected))
        for count in (None, 1, 2, 3, 4, 7):
            got = samples(rows, ids, count)
            assert len(got) == len(expected)
            assert np.abs(got - expected).max() < 1e-5 < np.abs(expected).max()
    assert longest > 2 * cut_at, (longest, cut_at)  # the longest probe really was cut into several rows


def test_a_halo_too_narrow_is_caught_and_coqui_s_graph_kept(tiny_vits, tmp_path, monkeypatch):
    plain = coqui_export(tiny_vits, tmp_path / "coqui.onnx")
    real_layout = decoder_rows._layout
    monkeypatch.setattr(decoder_rows, "_layout", lambda graph, decoder: {**real_layout(graph, decoder), "halo": 1})
    monkeypatch.setattr(decoder_rows, "MIN_ROW_HALOS", 1)
    note = decoder_rows.optimize(plain, tmp_path / "model.onnx", list(range(1, 40)))
    assert note.startswith("decoder kept as exported: the row layout changed the audio")
    assert (tmp_path / "model.onnx").read_bytes() == plain.read_bytes()


def test_a_graph_without_coqui_s_decoder_is_kept_as_it_is(tiny_vits, tmp_path):
    plain = coqui_export(tiny_vits, tmp_path / "coqui.onnx")
    model = onnx.load(str(plain))
    for node in model.graph.node:
        node.name = node.name.replace("/waveform_decoder/", "/vocoder/")
    onnx.save(model, str(tmp_path / "other.onnx"))
    note = decoder_rows.optimize(tmp_path / "other.onnx", tmp_path / "model.onnx", list(range(1, 40)))
    assert note == "decoder kept as exported: no waveform decoder in the graph"
    assert (tmp_path / "model.onnx").read_bytes() == (tmp_path / "other.onnx").read_bytes()


def test_the_cached_export_is_in_rows_and_says_so(settings, tiny_vits):
    files, _ = model_files(tiny_vits)
    folder = vits_onnx.ensure_export(tiny_vits, files, settings.exports_dir)
    spec = json.loads((folder / onnx_runtime.TOKENIZER_FILE).read_text(encoding="utf-8"))
    assert spec["decoder"].startswith("decoder in rows")
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx", "tokenizer.json"]
    sess = onnx_runtime.session(folder)
    assert decoder_rows.inputs_for(sess) == {decoder_rows.ROWS_INPUT: decoder_rows.threads_rows()}


def test_a_rewritten_graph_the_runtime_refuses_is_not_used(tiny_vits, tmp_path, monkeypatch):
    plain = coqui_export(tiny_vits, tmp_path / "coqui.onnx")
    real_rewrite = decoder_rows.rewrite

    def off_by_an_axis(model, **options):
        done = real_rewrite(model, **options)
        pieces = next(n for n in model.graph.node if n.name == "rows/pieces")
        pieces.attribute[0].i = 5  # the signal has three axes: the runtime refuses this
        return done

    monkeypatch.setattr(decoder_rows, "rewrite", off_by_an_axis)
    note = decoder_rows.optimize(plain, tmp_path / "model.onnx", list(range(1, 40)))
    assert note.startswith("decoder kept as exported: the row layout changed the audio (")
    assert (tmp_path / "model.onnx").read_bytes() == plain.read_bytes()
