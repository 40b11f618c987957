"""A faster, exact layout for the HiFi-GAN decoder of a Coqui VITS export (run once, at export).

ONNX Runtime's fastest convolutions on x86 (the NCHWc kernels) only take 2-D convolutions, and they
share work between threads by output rows and by sets of 64 output channels. Coqui's graph decodes
with 1-D convolutions, so every layer runs on the slower im2col path; and once the decoder is down
to 64 channels or fewer (the last two stages of MMS, half of its work) one row and one channel set
leave a single thread busy. This rewrite changes the layout, not the network:

1. every decoder convolution becomes the same convolution over a (1, C, 1, T) tensor, with a
   1 x k kernel, so the NCHWc kernels take it;
2. where the channels first drop below 128, the signal is cut into `decoder_rows` overlapping
   pieces, stacked as rows of one tensor (1, C, rows, length) so the threads share them; each piece
   carries a halo wider than what the remaining layers can see (their receptive field, counted
   conservatively), and at the end every output sample is taken from the piece whose middle holds
   it. The pieces reach the true start and end of the sentence, where each layer pads with zeros as
   before, so the result is the same samples (up to float rounding), for any number of rows.

`decoder_rows` is an input with a default (an initializer that a caller may override): the engine
feeds twice its thread count; a sentence too short to cut runs as one row. The export checks the
rewritten graph against Coqui's on probe sentences before caching it, and keeps Coqui's graph, with
the reason, if anything differs or the graph is not the decoder this rewrite knows.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

DECODER = "/waveform_decoder/"  # the module path torch's exporter gives every decoder node
ROWS_INPUT = "decoder_rows"
SPLIT_BELOW_CHANNELS = 128  # two sets of 64 output channels: below this one thread does a layer
MIN_ROW_HALOS = 8  # a row is at least this many halos long: the overlap costs at most a quarter more work
PROBE_LENGTHS = (3, 9, 41, 201)  # token counts: shorter than one row, and long enough for several
PROBE_ROWS = (1, 2, 3, 4)
TOLERANCE = 1e-5  # float rounding of a reordered sum; a wrong halo differs by ~1e-2


class NotApplicable(Exception):
    """The graph is not one this rewrite knows; Coqui's own graph is used as it is."""


def _attribute(node, name, default=None):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _layout(graph, decoder: list) -> dict:
    """Find the decoder's input and output, the cut point, its upsampling to the end and the halo."""
    weights = {i.name: i for i in graph.initializer}
    made = {o for n in decoder for o in n.output}
    entries = {i for n in decoder for i in n.input if i and i not in made and i not in weights}
    finals = [n for n in decoder if set(n.output) & {o.name for o in graph.output}]
    if len(entries) != 1 or len(finals) != 1:
        raise NotApplicable("the decoder has not one input and one output")
    entry = entries.pop()
    producer = {o: n for n in decoder for o in n.output}
    rate = {entry: 1}  # samples per input frame, for every decoder tensor
    cut = cut_rate = None
    for node in decoder:
        rates = [rate[i] for i in node.input if i in rate]
        if not rates:
            continue  # a Constant
        r = rates[0]
        if node.op_type == "ConvTranspose":
            if cut is None and weights[node.input[1]].dims[1] < SPLIT_BELOW_CHANNELS:
                # cut before the activation that feeds this upsampler
                feeder = producer.get(node.input[0])
                cut = feeder.input[0] if feeder is not None and feeder.op_type == "LeakyRelu" else node.input[0]
                cut_rate = r
            r *= _attribute(node, "strides")[0]
        for o in node.output:
            rate[o] = r
    if cut is None:
        raise NotApplicable("every decoder stage has 128 channels or more")
    final_out = finals[0].output[0]
    # What the layers after the cut can see, in samples at the cut's rate, summed over every layer
    # (parallel branches too): more than the true receptive field, never less.
    reach, downstream = 0.0, {cut}
    for node in decoder:
        if not downstream & set(node.input):
            continue
        downstream.update(node.output)
        relative = rate[next(i for i in node.input if i in rate)] / cut_rate
        if node.op_type == "Conv":
            k, d = _attribute(node, "kernel_shape")[0], (_attribute(node, "dilations") or [1])[0]
            reach += (k - 1) * d / 2 / relative
        elif node.op_type == "ConvTranspose":
            reach += math.ceil(_attribute(node, "kernel_shape")[0] / _attribute(node, "strides")[0]) / relative
    return {"entry": entry, "final": final_out, "cut": cut, "up": rate[final_out] // cut_rate,
            "halo": math.ceil(reach) + 2}


def _two_d(graph, decoder: list) -> None:
    """Every decoder convolution over (1, C, 1, T): weights (O, I, 1, k), attributes widened."""
    from onnx import helper, numpy_helper

    weights = {i.name: i for i in graph.initializer}
    outside = {i for n in graph.node if not n.name.startswith(DECODER) for i in n.input}
    for node in decoder:
        if node.op_type not in ("Conv", "ConvTranspose"):
            continue
        weight = weights.get(node.input[1])
        if weight is None or weight.name in outside or len(weight.dims) not in (3, 4):
            raise NotApplicable(f"{node.name} has a weight this rewrite cannot reshape")
        if len(weight.dims) == 3:
            weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight)[:, :, None, :], weight.name))
        widened = {}
        for a in node.attribute:
            value = helper.get_attribute_value(a)
            if a.name in ("kernel_shape", "dilations", "strides", "output_padding"):
                value = [1, *value]
            elif a.name == "pads":
                value = [0, value[0], 0, value[1]]
            elif a.name == "auto_pad" and value not in (b"NOTSET", "NOTSET"):
                raise NotApplicable(f"{node.name} pads automatically")
            widened[a.name] = value
        del node.attribute[:]
        node.attribute.extend(helper.make_attribute(k, v) for k, v in widened.items())


def rewrite(model, default_rows: int = 4) -> dict:
    """Rewrite a Coqui VITS ONNX model in place (see the module's note); returns what it did."""
    from onnx import TensorProto, helper, numpy_helper

    if next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0) < 13:
        raise NotApplicable("the graph's opset is older than 13")
    graph = model.graph
    decoder = [n for n in graph.node if n.name.startswith(DECODER)]
    if not decoder:
        raise NotApplicable("no waveform decoder in the graph")
    plan = _layout(graph, decoder)
    _two_d(graph, decoder)
    entry, cut, final = plan["entry"], plan["cut"], plan["final"]

    def const(name: str, value) -> str:
        graph.initializer.append(numpy_helper.from_array(np.asarray(value, np.int64), "rows/" + name))
        return "rows/" + name

    # the decoder now reads entry/4d and writes final/rows; the cut is made between cut/4d and cut/rows
    renamed_in = {entry: entry + "/4d", cut: cut + "/rows"}
    for node in decoder:
        node.input[:] = [renamed_in.get(i, i) for i in node.input]
        node.output[:] = [cut + "/4d" if o == cut else final + "/rows" if o == final else o for o in node.output]

    cut_nodes: list = []  # after the cut: the signal gathered into rows
    tail: list = []  # after the decoder: each sample taken from its row

    def node_in(nodes: list, kind: str, inputs: list[str], name: str) -> str:
        nodes.append(helper.make_node(kind, inputs, ["rows/" + name], name="rows/" + name))
        return "rows/" + name

    def op(kind: str, inputs: list[str], name: str) -> str:
        return node_in(cut_nodes, kind, inputs, name)

    def tail_op(kind: str, inputs: list[str], name: str) -> str:
        return node_in(tail, kind, inputs, name)

    graph.initializer.append(numpy_helper.from_array(np.asarray(default_rows, np.int64), ROWS_INPUT))
    graph.input.append(helper.make_tensor_value_info(ROWS_INPUT, TensorProto.INT64, []))
    one, zero, halo, up = const("one", 1), const("zero", 0), const("halo", plan["halo"]), const("up", plan["up"])
    axis2 = const("axis2", [2])
    signal = op("Squeeze", [cut + "/4d", axis2], "signal")                            # (1, C, L)
    length = op("Gather", [op("Shape", [signal], "shape"), const("two", 2)], "length")
    fit = op("Max", [op("Div", [length, const("min_row", MIN_ROW_HALOS * plan["halo"])], "fit"), one], "fit1")
    rows = op("Min", [fit, ROWS_INPUT], "rows")
    share = op("Div", [op("Sub", [op("Add", [length, rows], "l_r"), one], "l_r_1"), rows], "share")  # ceil(L/rows)
    span = op("Min", [length, op("Add", [share, const("two_halos", 2 * plan["halo"])], "s_2h")], "span")
    starts = op("Max", [zero, op("Min", [op("Sub", [op("Mul", [op("Range", [zero, rows, one], "ks"), share], "ks_s"),
                                                    halo], "ks_s_h"),
                                         op("Sub", [length, span], "last")], "start_min")], "starts")   # (rows,)
    where = op("Add", [op("Unsqueeze", [starts, const("axis1", [1])], "starts_col"),
                       op("Unsqueeze", [op("Range", [zero, span, one], "offsets"), const("axis0", [0])], "row")],
               "where")                                                                # (rows, span)
    cut_nodes.append(helper.make_node("Gather", [signal, where], [cut + "/rows"], name="rows/pieces", axis=2))

    sample = tail_op("Range", [zero, tail_op("Mul", [length, up], "samples"), one], "sample")
    piece = tail_op("Div", [sample, tail_op("Mul", [share, up], "share_up")], "piece")
    flat = tail_op("Sub", [tail_op("Add", [tail_op("Mul", [piece, tail_op("Mul", [span, up], "span_up")], "row_at"),
                                           sample], "at"),
                           tail_op("Mul", [tail_op("Gather", [starts, piece], "piece_start"), up], "start_up")], "flat")
    stacked = tail_op("Reshape", [final + "/rows", const("flat_shape", [-1])], "stacked")
    picked = tail_op("Gather", [stacked, flat], "picked")
    tail.append(helper.make_node("Reshape", [picked, const("out_shape", [1, 1, -1])], [final], name="rows/out"))

    ordered = []
    for node in graph.node:
        if node is decoder[0]:
            ordered.append(helper.make_node("Unsqueeze", [entry, axis2], [entry + "/4d"], name="rows/in"))
        ordered.append(node)
        if cut + "/4d" in node.output:
            ordered.extend(cut_nodes)
    ordered.extend(tail)
    del graph.node[:]
    graph.node.extend(ordered)
    del graph.value_info[:]  # shapes inside the decoder changed; the runtime infers them again
    return {"halo": plan["halo"], "upsampling_after_cut": plan["up"]}


def _probe_feeds(ids: list[int], session) -> list[dict]:
    rng = np.random.default_rng(0)
    feeds = []
    for length in PROBE_LENGTHS:
        feed = {"input": rng.choice(ids, size=(1, length)).astype(np.int64),
                "input_lengths": np.asarray([length], np.int64), "scales": np.asarray([0, 1, 0], np.float32)}
        for extra in session.get_inputs()[3:]:
            feed[extra.name] = np.zeros(1, np.int64)
        feeds.append(feed)
    return feeds


def differs(plain: Path, rewritten: Path, ids: list[int]) -> str | None:
    """Why the rewritten graph is not the plain one on probe sentences (noise off), or None."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    sessions = [ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"]) for p in (plain, rewritten)]
    for feed in _probe_feeds(ids, sessions[0]):
        expected = sessions[0].run(["output"], feed)[0]
        for rows in PROBE_ROWS:
            got = sessions[1].run(["output"], {**feed, ROWS_INPUT: np.asarray(rows, np.int64)})[0]
            if got.shape != expected.shape:
                return f"{feed['input'].shape[1]} tokens in {rows} rows: shape {got.shape}, not {expected.shape}"
            gap = float(np.abs(got - expected).max(initial=0))
            if gap > TOLERANCE:
                return f"{feed['input'].shape[1]} tokens in {rows} rows: samples differ by {gap:.2g}"
    return None


def optimize(plain: Path, out: Path, ids: list[int]) -> str:
    """Write the rewritten graph of `plain` to `out` if it says the same samples; else copy `plain`.
    Returns one line saying which, and why."""
    import shutil

    import onnx

    model = onnx.load(str(plain))
    try:
        done = rewrite(model)
        onnx.checker.check_model(model)
        onnx.save(model, str(out))
    except (NotApplicable, onnx.checker.ValidationError) as err:
        shutil.copyfile(plain, out)
        return f"decoder kept as exported: {err}"
    except Exception as err:  # noqa: BLE001 - a graph this does not know: Coqui's own is kept
        shutil.copyfile(plain, out)
        return f"decoder kept as exported: the rewrite failed ({type(err).__name__}: {err})"
    try:
        reason = differs(plain, out, ids)
    except Exception as err:  # noqa: BLE001 - the runtime refused the rewritten graph
        reason = f"{type(err).__name__}: {str(err)[:200]}"
    if reason:
        shutil.copyfile(plain, out)
        return f"decoder kept as exported: the row layout changed the audio ({reason})"
    return f"decoder in rows (halo {done['halo']} samples at the cut)"


def threads_rows() -> int:
    """Rows to feed: twice the cores this process may use (two rows per thread balance best: measured
    on 2 cores, 4 rows beat 2 and 3), at most 16."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2 * cores, 16))


def inputs_for(session) -> dict:
    """The extra feed for a rewritten graph (empty for Coqui's own)."""
    names = {i.name for i in session.get_overridable_initializers()}
    return {ROWS_INPUT: np.asarray(threads_rows(), np.int64)} if ROWS_INPUT in names else {}

