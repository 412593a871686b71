"""Python baseline for `pyxa bench encoders`: onnxruntime + PIL running the same ONNX files on
the same photos, the way a typical Python service would. Prints one JSON object.

usage: python baseline.py BUNDLE_DIR PHOTO... --seconds S --threads N
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image
from tokenizers import Tokenizer


def normalise(img: Image.Image, spec: dict) -> np.ndarray:
    x = np.asarray(img, dtype=np.float32)
    x = (x - np.array(spec["mean"], dtype=np.float32)) / np.array(spec["std"], dtype=np.float32)
    return x.transpose(2, 0, 1)


def centre_crop(img: Image.Image, spec: dict) -> np.ndarray:
    w, h = img.size
    short = spec["resize_short"]
    if w <= h:
        nw, nh = short, int(h * short / w)
    else:
        nw, nh = int(w * short / h), short
    img = img.resize((nw, nh), Image.BICUBIC)
    crop = spec["crop"]
    left = int(round((nw - crop) / 2.0))
    top = int(round((nh - crop) / 2.0))
    return normalise(img.crop((left, top, left + crop, top + crop)), spec)


def letterbox(img: Image.Image, spec: dict) -> np.ndarray:
    w, h = img.size
    side = spec["crop"]
    long = max(w, h)
    nw, nh = max(1, round(w * side / long)), max(1, round(h * side / long))
    canvas = Image.new("RGB", (side, side), tuple(int(m) for m in spec["mean"]))
    canvas.paste(img.resize((nw, nh), Image.BICUBIC), ((side - nw) // 2, (side - nh) // 2))
    return normalise(canvas, spec)


def preprocess(path: Path, spec: dict) -> np.ndarray:
    """Every view the manifest asks for (pyxa averages them), stacked: [views, 3, crop, crop]."""
    img = Image.open(path).convert("RGB")
    views = spec.get("views") or ["centre_crop"]
    return np.stack([{"centre_crop": centre_crop, "letterbox": letterbox}[v](img, spec) for v in views])


def rate(fn, seconds: float, per_call: int) -> dict:
    lat = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or not lat:
        t = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t)
    total = sum(lat)
    lat.sort()
    return {
        "per_s": per_call * len(lat) / total,
        "p50_ms": lat[len(lat) // 2] * 1e3,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle", type=Path)
    ap.add_argument("photos", type=Path, nargs="+")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--image-onnx", help="the image graph pyxa runs (default: the manifest's image.onnx)")
    a = ap.parse_args()
    manifest = json.loads((a.bundle / "manifest.json").read_text())
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    opts.inter_op_num_threads = 1
    img_sess = ort.InferenceSession(str(a.bundle / (a.image_onnx or manifest["image"]["onnx"])), opts, providers=["CPUExecutionProvider"])
    txt_sess = ort.InferenceSession(str(a.bundle / manifest["text"]["onnx"]), opts, providers=["CPUExecutionProvider"])
    spec = manifest["image"]["preprocess"]
    out_name = manifest["image"]["output"]
    i = [0]

    def prep_one():
        preprocess(a.photos[i[0] % len(a.photos)], spec)
        i[0] += 1

    tensors = [preprocess(p, spec) for p in a.photos]
    batch1 = list(tensors)
    batch8 = np.concatenate([tensors[k % len(tensors)] for k in range(8)])
    inp = manifest["image"]["input"]

    def infer1():
        img_sess.run([out_name], {inp: batch1[i[0] % len(batch1)]})
        i[0] += 1

    def infer8():
        img_sess.run([out_name], {inp: batch8})

    def end_to_end():
        x = preprocess(a.photos[i[0] % len(a.photos)], spec)
        img_sess.run([out_name], {inp: x})
        i[0] += 1

    tok = Tokenizer.from_file(str(a.bundle / manifest["text"]["tokenizer"]))
    tok.enable_truncation(manifest["text"].get("max_length", 77))
    tok.enable_padding()
    prefix = manifest["text"].get("prefix", "")  # pyxa puts it before every text too
    texts = [f"{prefix}a photo of a thing number {k}, seen from the side" for k in range(64)]
    names = {x.name for x in txt_sess.get_inputs()}
    txt_out = manifest["text"]["output"]

    def run_text(batch):
        enc = tok.encode_batch(batch)
        feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
        if "token_type_ids" in names:
            feed["token_type_ids"] = np.array([e.type_ids for e in enc], dtype=np.int64)
        txt_sess.run([txt_out], feed)

    def text1():
        run_text([texts[i[0] % len(texts)]])
        i[0] += 1

    def text8():
        run_text(texts[:8])

    s = a.seconds
    print(json.dumps({
        "preprocess": rate(prep_one, s / 2, 1),
        "image_batch1": rate(infer1, s, 1),
        "image_batch8": rate(infer8, s, 8),
        "image_end_to_end": rate(end_to_end, s, 1),
        "text_batch1": rate(text1, s, 1),
        "text_batch8": rate(text8, s, 8),
        "onnxruntime": ort.__version__,
    }))


if __name__ == "__main__":
    main()
