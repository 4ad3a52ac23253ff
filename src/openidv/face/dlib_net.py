"""dlib's ResNet face descriptor as an ONNX graph, read from dlib's own serialised file.

``dlib_face_recognition_resnet_model_v1.dat`` (pip: ``face-recognition-models``) is a
``serialize(net)`` of dlib's ``loss_metric`` network. Its byte stream, as dlib writes it:

- integers: one control byte (low 4 bits: byte count, bit 7: negative), then the
  magnitude little-endian; strings: a length integer, then the bytes; ``float`` /
  ``double`` scalars: a mantissa integer and an exponent integer (value m * 2^e);
  booleans: the character ``'1'`` or ``'0'``; tensors (version 2): five integers
  (version, n, k, rows, cols), then n*k*rows*cols little-endian float32.
- the loss layer first (version, name, margin, distance threshold), then one version
  integer per layer from the outermost inwards: 2 for a computing layer, 1 for a tag or a
  skip (they carry nothing else), 3 for the layer right above the input; then the input
  layer (mean red/green/blue, chip size) and every computing layer from the innermost
  outwards: its parameters, three booleans and three (empty) tensors.

The layers are grouped into dlib's ResNet blocks (:class:`Block`): an identity block
``tag1, con, affine, relu, con, affine, add_prev1, relu`` and a down-sampling block
``tag1, con/2, affine, relu, con, affine, tag2, skip1, avg_pool, add_prev2, relu``.
dlib's ``add_prev`` adds tensors of different sizes by zero-padding both to the larger
channel count and size (top-left aligned); the graph does the same with ``Pad``.
Anything else in the file raises :class:`DlibFormatError`; the caller falls back to dlib.

Tensors are NCHW float32; the graph's input ``chip`` is (N, 3, 150, 150) with channels
R, G, B already normalised as dlib does ((pixel - mean) / 256, see :func:`chip_tensor`);
its output ``descriptor`` is (N, 128). Each affine (frozen batch-norm) layer is folded
into the convolution before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from openidv.errors import OpenIDVError


class DlibFormatError(OpenIDVError):
    """The .dat file is not the dlib ResNet layer list this reader understands."""

    code = "dlib_format"


class LayerKind(StrEnum):
    CONV = "con"
    AFFINE = "affine"
    RELU = "relu"
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"
    ADD_PREV = "add_prev"
    FC = "fc"
    MARKER = "marker"  # a tag or a skip: the file does not say which


@dataclass
class Layer:
    """One dlib layer: its kind, integer settings and float arrays (weights in dlib's layout)."""

    kind: LayerKind
    settings: dict[str, int] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class InputSpec:
    """dlib's ``input_rgb_image_sized``: per-channel means (R, G, B) subtracted, then / 256."""

    mean_rgb: tuple[float, float, float]
    size: int


@dataclass(frozen=True)
class DlibResNet:
    """The descriptor network as read: input, stem (con, affine, relu, max_pool), blocks, fc."""

    input: InputSpec
    stem: list[Layer]
    blocks: list[Block]
    fc: Layer


@dataclass(frozen=True)
class Block:
    """A residual block: two conv+affine (the first with a ReLU after it); ``down`` blocks
    take the shortcut through a 2x2 average pool."""

    conv1: Layer
    affine1: Layer
    conv2: Layer
    affine2: Layer
    down: Layer | None  #: the shortcut's avg_pool, None for an identity block


class _Reader:
    """Sequential reader of dlib's serialisation primitives over ``data``."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def integer(self) -> int:
        control = self._take(1)[0]
        size, negative = control & 0x0F, bool(control & 0x80)
        if size > 8:
            raise DlibFormatError(f"bad integer control byte {control:#x} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little") if size else 0
        return -value if negative else value

    def string(self) -> str:
        return self._take(self.integer()).decode("latin-1")

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        if exponent >= 32000:  # dlib's codes for inf, -inf and nan
            raise DlibFormatError(f"non-finite scalar at {self.pos}")
        return float(mantissa) * 2.0**exponent

    def boolean(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise DlibFormatError(f"bad boolean {char!r} at {self.pos - 1}")
        return char == b"1"

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise DlibFormatError(f"tensor serialisation version {version} (expected 2) at {self.pos}")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, int, int, int]:
        if self.integer() != 1:
            raise DlibFormatError(f"bad alias_tensor version at {self.pos}")
        n, k, r, c = (self.integer() for _ in range(4))
        return n, k, r, c

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DlibFormatError(f"file ends early (wanted {n} bytes at {self.pos} of {len(self.data)})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


_LAYER_VERSION = 2  # a computing layer over another layer
_MARKER_VERSION = 1  # a tag or a skip layer
_FIRST_LAYER_VERSION = 3  # the computing layer right above the input layer


def read_layers(data: bytes) -> tuple[InputSpec, list[Layer]]:
    """The input layer and every layer from the input outwards (markers included)."""
    reader = _Reader(data)
    if reader.integer() != 1 or not reader.string().startswith("loss_metric"):
        raise DlibFormatError("not a dlib loss_metric network")
    reader.real(), reader.real()  # margin and distance threshold: training settings
    versions: list[int] = []
    while (version := reader.integer()) != _FIRST_LAYER_VERSION:
        if version not in (_LAYER_VERSION, _MARKER_VERSION) or len(versions) > 10_000:
            raise DlibFormatError(f"unexpected layer version {version} at {reader.pos}")
        versions.append(version)
    spec = _read_input(reader)
    layers = [_read_layer(reader, first=True)]
    for version in reversed(versions):
        layers.append(_read_layer(reader) if version == _LAYER_VERSION else Layer(LayerKind.MARKER))
    if reader.pos != len(data):
        raise DlibFormatError(f"{len(data) - reader.pos} bytes left after the last layer")
    return spec, layers


def _read_input(reader: _Reader) -> InputSpec:
    name = reader.string()
    if name != "input_rgb_image_sized":
        raise DlibFormatError(f"input layer {name!r} (expected input_rgb_image_sized)")
    mean = (reader.real(), reader.real(), reader.real())
    rows, cols = reader.integer(), reader.integer()
    if rows != cols or rows < 32:
        raise DlibFormatError(f"input size {rows}x{cols}")
    return InputSpec(mean, rows)


def _read_layer(reader: _Reader, *, first: bool = False) -> Layer:
    name = reader.string()
    readers = {"con_4": _read_conv, "con_5": _read_conv, "affine_": _read_affine, "fc_2": _read_fc}
    if name in readers:
        layer = readers[name](reader, name)
    elif name in ("max_pool_2", "avg_pool_2"):
        kind = LayerKind.MAX_POOL if name.startswith("max") else LayerKind.AVG_POOL
        keys = ("rows", "cols", "stride_y", "stride_x", "pad_y", "pad_x")
        layer = Layer(kind, {k: reader.integer() for k in keys})
    elif name in ("relu_", "add_prev_"):
        layer = Layer(LayerKind.RELU if name == "relu_" else LayerKind.ADD_PREV)
    else:
        raise DlibFormatError(f"layer {name!r} is not one this reader knows")
    for _ in range(3):  # set-up, gradient-stale and output-disabled flags
        reader.boolean()
    for _ in range(3):  # gradient and cached-output tensors (empty in a saved net)
        reader.tensor()
    if first:
        reader.integer()  # sample expansion factor
    return layer


def _read_conv(reader: _Reader, name: str) -> Layer:
    params = reader.tensor().reshape(-1)
    keys = ("filters", "rows", "cols", "stride_y", "stride_x", "pad_y", "pad_x")
    settings = {k: reader.integer() for k in keys}
    f_n, f_k, f_r, f_c = reader.alias()
    _, b_k, _, _ = reader.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        reader.real()
    if name == "con_5" and not reader.boolean():
        b_k = 0  # use_bias false
    size = f_n * f_k * f_r * f_c
    if (f_n, f_r, f_c) != (settings["filters"], settings["rows"], settings["cols"]) or size + b_k != params.size:
        raise DlibFormatError(f"convolution parameters do not match its shape ({f_n}x{f_k}x{f_r}x{f_c})")
    weights = params[:size].reshape(f_n, f_k, f_r, f_c)
    bias = params[size : size + b_k] if b_k else np.zeros(f_n, np.float32)
    return Layer(LayerKind.CONV, settings, {"weight": weights, "bias": bias})


def _read_affine(reader: _Reader, name: str) -> Layer:
    params = reader.tensor().reshape(-1)
    gamma, beta = reader.alias(), reader.alias()
    mode = reader.integer()
    channels = gamma[1]
    if mode != 0 or gamma != beta or params.size != 2 * channels:
        raise DlibFormatError(f"affine layer in mode {mode} with {params.size} parameters")
    return Layer(LayerKind.AFFINE, {}, {"gamma": params[:channels], "beta": params[channels:]})


def _read_fc(reader: _Reader, name: str) -> Layer:
    outputs, inputs = reader.integer(), reader.integer()
    params = reader.tensor().reshape(-1)
    w_shape, b_shape = reader.alias(), reader.alias()
    bias_mode = reader.integer()
    for _ in range(4):
        reader.real()
    if bias_mode != 1 or w_shape[:2] != (inputs, outputs) or params.size != inputs * outputs or any(b_shape):
        raise DlibFormatError(f"fc layer with bias mode {bias_mode} and {params.size} parameters")
    return Layer(LayerKind.FC, {"outputs": outputs}, {"weight": params.reshape(inputs, outputs)})


_IDENTITY_BLOCK = ["T", "C", "A", "R", "C", "A", "D", "R"]
_DOWN_BLOCK = ["T", "C", "A", "R", "C", "A", "T", "T", "P", "D", "R"]
_CODES = {
    LayerKind.CONV: "C",
    LayerKind.AFFINE: "A",
    LayerKind.RELU: "R",
    LayerKind.MAX_POOL: "M",
    LayerKind.AVG_POOL: "P",
    LayerKind.ADD_PREV: "D",
    LayerKind.FC: "F",
    LayerKind.MARKER: "T",
}


def parse_resnet(data: bytes) -> DlibResNet:
    """Read ``data`` (the .dat file's bytes) into stem, residual blocks and fc layer."""
    spec, layers = read_layers(data)
    codes = [_CODES[layer.kind] for layer in layers]
    if codes[:4] != ["C", "A", "R", "M"] or codes[-2:] != ["P", "F"] or layers[-2].settings["rows"] != 0:
        raise DlibFormatError(f"network starts {' '.join(codes[:4])} and ends {' '.join(codes[-2:])}")
    blocks, i = [], 4
    while i < len(layers) - 2:
        for pattern in (_IDENTITY_BLOCK, _DOWN_BLOCK):
            if codes[i : i + len(pattern)] == pattern:
                part = layers[i : i + len(pattern)]
                down = part[8] if pattern is _DOWN_BLOCK else None
                blocks.append(Block(part[1], part[2], part[4], part[5], down))
                i += len(pattern)
                break
        else:
            raise DlibFormatError(f"layers {' '.join(codes[i : i + 11])} at {i} are not a known residual block")
    return DlibResNet(spec, layers[:4], blocks, layers[-1])


def chip_tensor(chips: np.ndarray, spec: InputSpec) -> np.ndarray:
    """(N, size, size, 3) RGB uint8 chips -> the network's (N, 3, size, size) float32 input,
    normalised as dlib's ``input_rgb_image_sized``: (value - channel mean) / 256."""
    x = chips.astype(np.float32) - np.asarray(spec.mean_rgb, np.float32)
    return np.ascontiguousarray((x / 256.0).transpose(0, 3, 1, 2))


class _GraphBuilder:
    """Accumulates ONNX nodes and initialisers, tracking each tensor's (C, H, W)."""

    def __init__(self, size: int) -> None:
        self.nodes: list[object] = []
        self.weights: list[object] = []
        self.shapes: dict[str, tuple[int, int, int]] = {"chip": (3, size, size)}
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, stem: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], shape: tuple[int, int, int], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        self.shapes[out] = shape
        return out

    def conv(self, x: str, conv: Layer, affine: Layer | None, relu: bool) -> str:
        """Convolution with the following affine layer folded in (w * gamma, b * gamma + beta)."""
        weight, bias = conv.arrays["weight"], conv.arrays["bias"]
        if affine is not None:
            gamma, beta = affine.arrays["gamma"], affine.arrays["beta"]
            weight, bias = weight * gamma[:, None, None, None], bias * gamma + beta
        _, h, w = self.shapes[x]
        shape, window = _window(conv.settings, weight.shape[0], h, w)
        inputs = [x, self.const("w", weight.astype(np.float32)), self.const("b", bias.astype(np.float32))]
        y = self.node("Conv", inputs, shape, **window)
        return self.node("Relu", [y], shape) if relu else y

    def pool(self, x: str, layer: Layer) -> str:
        shape, window = _window(layer.settings, *self.shapes[x])
        return self.node("MaxPool" if layer.kind is LayerKind.MAX_POOL else "AveragePool", [x], shape, **window)

    def add(self, a: str, b: str) -> str:
        """dlib's add_prev: both zero-padded (channels, rows, columns at the end) to the larger size."""
        shape = tuple(max(p, q) for p, q in zip(self.shapes[a], self.shapes[b], strict=True))
        padded = [self._pad_to(t, shape) for t in (a, b)]
        return self.node("Add", padded, shape)  # type: ignore[arg-type]

    def _pad_to(self, x: str, shape: tuple[int, ...]) -> str:
        missing = [want - have for want, have in zip(shape, self.shapes[x], strict=True)]
        if not any(missing):
            return x
        pads = self.const("pads", np.asarray([0, 0, 0, 0, 0, *missing], np.int64))
        return self.node("Pad", [x, pads], shape)  # type: ignore[arg-type]


def resnet_onnx(net: DlibResNet) -> bytes:
    """The serialised ONNX graph (opset 17) of ``net``: ``chip`` (N, 3, S, S) -> ``descriptor`` (N, 128)."""
    from onnx import TensorProto, checker, helper

    g = _GraphBuilder(net.input.size)
    conv, affine, _, max_pool = net.stem
    x = g.pool(g.conv("chip", conv, affine, relu=True), max_pool)
    for block in net.blocks:
        y = g.conv(g.conv(x, block.conv1, block.affine1, relu=True), block.conv2, block.affine2, relu=False)
        shortcut = g.pool(x, block.down) if block.down is not None else x
        x = g.node("Relu", [g.add(shortcut, y)], g.shapes[y] if block.down is None else _max_shape(g, shortcut, y))
    pooled = g.node("GlobalAveragePool", [x], (g.shapes[x][0], 1, 1))
    flat = g.node("Flatten", [pooled], g.shapes[pooled])
    weight = g.const("fc", net.fc.arrays["weight"].astype(np.float32))
    g.nodes.append(helper.make_node("MatMul", [flat, weight], ["descriptor"]))
    size = net.input.size
    graph = helper.make_graph(
        g.nodes,  # type: ignore[arg-type]
        "dlib_resnet_v1",
        [helper.make_tensor_value_info("chip", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", net.fc.settings["outputs"]])],
        initializer=g.weights,  # type: ignore[arg-type]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="openidv")
    model.ir_version = 8
    checker.check_model(model)
    return bytes(model.SerializeToString())


def _window(s: dict[str, int], channels: int, h: int, w: int) -> tuple[tuple[int, int, int], dict[str, Any]]:
    """Output (C, H, W) of a dlib convolution or pool with settings ``s`` over (channels, h, w)
    rows, and its ONNX attributes (dlib pads both sides alike and rounds the size down, as ONNX)."""
    shape = (
        channels,
        (h + 2 * s["pad_y"] - s["rows"]) // s["stride_y"] + 1,
        (w + 2 * s["pad_x"] - s["cols"]) // s["stride_x"] + 1,
    )
    window = {
        "kernel_shape": [s["rows"], s["cols"]],
        "strides": [s["stride_y"], s["stride_x"]],
        "pads": [s["pad_y"], s["pad_x"], s["pad_y"], s["pad_x"]],
    }
    return shape, window


def _max_shape(g: _GraphBuilder, a: str, b: str) -> tuple[int, int, int]:
    return tuple(max(p, q) for p, q in zip(g.shapes[a], g.shapes[b], strict=True))  # type: ignore[return-value]
