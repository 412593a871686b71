"""Writes a tiny CLIP-shaped bundle (vision ONNX, text ONNX, tokenizer.json, manifest.json).

Same file layout and tensor names as a Hugging Face CLIP export (pixel_values -> image_embeds,
input_ids/attention_mask -> text_embeds), small enough to build in a test. The image embedding
is the mean normalised colour; the words "red", "green", "blue" point at the matching channel,
so a red photo must match "red" best.

usage: python make_tiny_clip.py OUT_DIR
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DIM = 8
SIDE = 32
VOCAB = ["[PAD]", "[UNK]", "red", "green", "blue", "a", "photo", "of", "cat", "dog"]


def vision_model() -> onnx.ModelProto:
    w = np.zeros((3, DIM), dtype=np.float32)
    w[0, 0] = w[1, 1] = w[2, 2] = 1.0
    nodes = [
        helper.make_node("ReduceMean", ["pixel_values", "axes_hw"], ["pooled"], keepdims=0),
        helper.make_node("MatMul", ["pooled", "proj"], ["image_embeds"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_clip_vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", DIM])],
        [numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "axes_hw"), numpy_helper.from_array(w, "proj")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


def text_model() -> onnx.ModelProto:
    table = np.full((len(VOCAB), DIM), 0.01, dtype=np.float32)
    for word, channel in (("red", 0), ("green", 1), ("blue", 2)):
        table[VOCAB.index(word), channel] = 1.0
    table[VOCAB.index("cat"), 5] = 1.0
    table[VOCAB.index("dog"), 6] = 1.0
    nodes = [
        helper.make_node("Gather", ["token_table", "input_ids"], ["tokens"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axis_last"], ["mask_3d"]),
        helper.make_node("Mul", ["tokens", "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis_seq"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask_3d", "axis_seq"], ["count"], keepdims=0),
        helper.make_node("Div", ["summed", "count"], ["text_embeds"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_clip_text",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", DIM])],
        [
            numpy_helper.from_array(table, "token_table"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "axis_last"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_seq"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)


def tokenizer_json() -> dict:
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {w: i for i, w in enumerate(VOCAB)}, "unk_token": "[UNK]"},
    }


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(vision_model(), str(out / "vision_model.onnx"))
    onnx.save(text_model(), str(out / "text_model.onnx"))
    (out / "tokenizer.json").write_text(json.dumps(tokenizer_json()))
    manifest = {
        "name": "tiny-clip",
        "description": "A tiny CLIP-shaped test bundle",
        "dim": DIM,
        "logit_scale": 100.0,
        "image": {
            "onnx": "vision_model.onnx",
            "input": "pixel_values",
            "output": "image_embeds",
            "preprocess": {
                "resize_short": SIDE,
                "crop": SIDE,
                "mean": [122.770938, 116.74601, 104.093736],
                "std": [68.500246, 66.632221, 70.323154],
                "interpolation": "bicubic",
            },
        },
        "text": {
            "onnx": "text_model.onnx",
            "tokenizer": "tokenizer.json",
            "max_length": 16,
            "output": "text_embeds",
            "pooling": "none",
            "batching": "padded",
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(f"tiny CLIP bundle written to {out}")


if __name__ == "__main__":
    main()
