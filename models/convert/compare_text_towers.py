#!/usr/bin/env python3
"""Compare default bundles built with different text towers (build_default_bundle.py
--text-tower minilm|e5) on registry photos: zero-shot top-1 with English and Chinese label
sets, text->photo retrieval top-1 with English and Chinese queries, and time per text.

Each bundle is read as pyxa's Rust side reads it: DIR/manifest.json names the ONNX files, the
tokenizer, max_length and the output; texts are tokenised with truncation at max_length and
padded to the longest text with id 0 (tokenizers' default PaddingParams, as pyxa-encoders does),
one text per run where the manifest says "batching": "sequential"; token_type_ids is fed only if the text graph has that input. The manifest's text.prefix (a
proposed field, see README.md) is put in front of every text; a bundle whose manifest has one is
also scored without it (what a loader that ignores the field would do).

  python compare_text_towers.py --bundle minilm=OUT_MINILM --bundle e5=OUT_E5 \
      --photos SKIMAGE_DATA --photos SKLEARN_IMAGES --photos MPL_SAMPLE_DATA [--report R.json]

Depends on numpy, onnxruntime, tokenizers, Pillow and build_default_bundle.py (for the photo
preprocessing) next to this file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tokenizers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_default_bundle import preprocess_photo, sha256_file  # noqa: E402

# (file, where it ships, English label, Chinese label). Only read here, never redistributed.
# scikit-image's photos are CC0 / public domain (its data README); sklearn's china.jpg and
# flower.jpg are CC-BY 2.0 (sklearn/datasets/images/README.txt); matplotlib's sample_data has no
# licence note (grace_hopper.jpg is a US Navy portrait, Minduka_Present_Blue_Pack.png clip art).
PHOTOS = [
    ("chelsea.png", "scikit-image 0.26.0 skimage/data", "a cat", "一只猫"),
    ("coffee.png", "scikit-image 0.26.0 skimage/data", "a cup of coffee", "一杯咖啡"),
    ("rocket.jpg", "scikit-image 0.26.0 skimage/data", "a rocket", "一枚火箭"),
    ("motorcycle_left.png", "scikit-image 0.26.0 skimage/data", "a motorcycle", "一辆摩托车"),
    ("horse.png", "scikit-image 0.26.0 skimage/data", "a horse", "一匹马"),
    ("astronaut.png", "scikit-image 0.26.0 skimage/data", "an astronaut", "一名宇航员"),
    ("camera.png", "scikit-image 0.26.0 skimage/data", "a camera", "一台相机"),
    ("moon.png", "scikit-image 0.26.0 skimage/data", "the moon", "月亮"),
    ("coins.png", "scikit-image 0.26.0 skimage/data", "coins", "硬币"),
    ("hubble_deep_field.jpg", "scikit-image 0.26.0 skimage/data", "stars in space", "太空中的星星"),
    ("brick.png", "scikit-image 0.26.0 skimage/data", "a brick wall", "一面砖墙"),
    ("page.png", "scikit-image 0.26.0 skimage/data", "a page of text", "一页文字"),
    ("china.jpg", "scikit-learn 1.9.1 sklearn/datasets/images", "a building", "一座建筑"),
    ("flower.jpg", "scikit-learn 1.9.1 sklearn/datasets/images", "a flower", "一朵花"),
    ("grace_hopper.jpg", "matplotlib 3.11.2 mpl-data/sample_data", "a person", "一个人"),
    ("Minduka_Present_Blue_Pack.png", "matplotlib 3.11.2 mpl-data/sample_data", "a gift box", "一个礼品盒"),
]
# labels without a photo, added to both zero-shot label sets
DISTRACTORS = [("a dog", "一只狗"), ("a car", "一辆汽车"), ("a bird", "一只鸟"), ("a bicycle", "一辆自行车"),
               ("a tree", "一棵树"), ("a book", "一本书"), ("a fish", "一条鱼"), ("an airplane", "一架飞机")]
TIMING_ROUNDS = 5


def session(path: Path, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


class Bundle:
    def __init__(self, label: str, folder: Path, threads: int):
        self.label, self.folder = label, folder
        self.m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        t = self.m["text"]
        self.prefix = t.get("prefix", "")
        self.tok = tokenizers.Tokenizer.from_file(str(folder / t["tokenizer"]))
        self.tok.enable_truncation(max_length=t.get("max_length", 77))
        self.tok.enable_padding()  # pad id 0 to the longest, like pyxa-encoders
        self.text = session(folder / t["onnx"], threads)
        self.text_inputs = {i.name for i in self.text.get_inputs()}
        self.image = session(folder / self.m["image"]["onnx"], threads)
        self.ops = sorted({f"{n.domain or 'ai.onnx'}" for n in _graph_nodes(folder / t["onnx"])})

    def embed_texts(self, texts: list[str], prefix: str | None = None) -> np.ndarray:
        if self.m["text"].get("batching", "padded") == "sequential" and len(texts) > 1:
            return np.concatenate([self.embed_texts([x], prefix) for x in texts])
        p = self.prefix if prefix is None else prefix
        enc = self.tok.encode_batch([p + x for x in texts])
        feeds = {"input_ids": np.array([e.ids for e in enc], np.int64),
                 "attention_mask": np.array([e.attention_mask for e in enc], np.int64)}
        if "token_type_ids" in self.text_inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in enc], np.int64)
        (out,) = self.text.run([self.m["text"]["output"]], feeds)
        return out

    def embed_photos(self, paths: list[Path]) -> np.ndarray:
        x = np.stack([preprocess_photo(p) for p in paths])
        (out,) = self.image.run([self.m["image"]["output"]], {self.m["image"]["input"]: x})
        return out


def _graph_nodes(path: Path):
    import onnx
    return onnx.load(str(path), load_external_data=False).graph.node


def score(img: np.ndarray, en: np.ndarray, zh: np.ndarray, n: int) -> dict:
    """img [n,d] photos; en/zh [L,d] label embeddings, the first n belong to the photos in order."""
    out = {}
    for lang, t in (("en", en), ("zh", zh)):
        sims = img @ t.T                                   # [photos, labels]
        out[f"zero_shot_{lang}"] = [int(j) for j in sims.argmax(1)]
        out[f"retrieval_{lang}"] = [int(i) for i in sims[:, :n].argmax(0)]  # each photo label -> best photo
    cross = en[:n] @ zh[:n].T
    out["cos_en_zh_same"] = float(np.mean(np.diag(cross)))
    out["cos_en_zh_other"] = float((cross.sum() - np.trace(cross)) / (n * n - n))
    return out


def class_name_check(b: Bundle, prefix: str) -> dict | None:
    """ConSE's text->class step on the bundle alone: each class's short English / Chinese name,
    embedded by the bundle's text model, against the centred class matrix E - mu (an initializer
    of image.onnx); top-1 over the 1000 classes, counted on classes whose en and zh names are
    both unique (994)."""
    import onnx
    from onnx import numpy_helper
    if not b.m.get("classes"):
        return None
    inits = [t for t in onnx.load(str(b.folder / b.m["image"]["onnx"])).graph.initializer
             if t.name.startswith("class_text_embeds_centred")]
    if len(inits) != 1:
        return None
    ec = numpy_helper.to_array(inits[0])                                   # [1000, d]
    classes = json.loads((b.folder / b.m["classes"]).read_text(encoding="utf-8"))
    out = {}
    for lang in ("en", "zh"):
        names = [c[lang] for c in classes]
        unique = np.array([names.count(x) == 1 for x in names])
        q = np.concatenate([b.embed_texts(names[i:i + 64], prefix) for i in range(0, len(names), 64)])
        hit = (q @ ec.T).argmax(1) == np.arange(len(names))
        out[lang] = round(float((hit & unique).sum() / unique.sum()), 3)
    en = [c["en"] for c in classes]
    zh = [c["zh"] for c in classes]
    out["classes"] = int(sum(en.count(a) == 1 and zh.count(z) == 1 for a, z in zip(en, zh)))
    return out


def time_per_text(b: Bundle, texts: list[str]) -> float:
    """Median ms per text, one text per run (tokenizer included), after one warm-up pass."""
    for x in texts:
        b.embed_texts([x])
    times = []
    for _ in range(TIMING_ROUNDS):
        for x in texts:
            t = time.perf_counter()
            b.embed_texts([x])
            times.append(time.perf_counter() - t)
    return round(1000 * statistics.median(times), 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", action="append", required=True, help="LABEL=DIR (DIR/manifest.json)")
    ap.add_argument("--photos", action="append", type=Path, required=True, help="folder(s) holding the photos")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--report", type=Path)
    args = ap.parse_args()

    paths = []
    for f, *_ in PHOTOS:
        hits = [d / f for d in args.photos if (d / f).is_file()]
        if not hits:
            ap.error(f"{f} not found in {args.photos}")
        paths.append(hits[0])
    n = len(PHOTOS)
    en_labels = [p[2] for p in PHOTOS] + [d[0] for d in DISTRACTORS]
    zh_labels = [p[3] for p in PHOTOS] + [d[1] for d in DISTRACTORS]

    report = {"versions": {"onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__},
              "threads": args.threads,
              "photos": [{"file": f, "from": src, "en": en, "zh": zh, "sha256": sha256_file(p)}
                         for (f, src, en, zh), p in zip(PHOTOS, paths)],
              "distractors": DISTRACTORS, "results": {}}
    rows = []
    for spec in args.bundle:
        label, folder = spec.split("=", 1)
        b = Bundle(label, Path(folder), args.threads)
        img = b.embed_photos(paths)
        variants = [(label, b.prefix)] + ([(f"{label} without prefix", "")] if b.prefix else [])
        for name, prefix in variants:
            s = score(img, b.embed_texts(en_labels, prefix), b.embed_texts(zh_labels, prefix), n)
            s["text_onnx"] = b.m["text"]["onnx"]
            s["text_onnx_mb"] = round((b.folder / b.m["text"]["onnx"]).stat().st_size / 1e6, 1)
            s["op_domains"] = b.ops
            s["prefix"] = prefix
            if prefix == b.prefix:
                s["ms_per_text_en"] = time_per_text(b, en_labels)
                s["ms_per_text_zh"] = time_per_text(b, zh_labels)
            hit = {k: sum(int(j == i) for i, j in enumerate(s[k])) for k in
                   ("zero_shot_en", "zero_shot_zh", "retrieval_en", "retrieval_zh")}
            s["top1"] = hit
            s["class_names_top1"] = class_name_check(b, prefix)
            s["misses"] = {k: {PHOTOS[i][0]: (en_labels if k.endswith("en") else zh_labels)[j]
                               if k.startswith("zero") else PHOTOS[j][0]
                               for i, j in enumerate(s[k]) if i != j}
                           for k in hit}
            report["results"][name] = s
            rows.append((name, hit, s.get("ms_per_text_en"), s.get("ms_per_text_zh"),
                         s["cos_en_zh_same"], s["cos_en_zh_other"], s["class_names_top1"]))

    L = len(en_labels)
    print(f"\n{n} photos; zero-shot over {L} labels ({n} + {len(DISTRACTORS)} without a photo); "
          f"retrieval: each of the {n} photo labels -> best of the {n} photos; ORT threads {args.threads}\n")
    print("| bundle | zero-shot en | zero-shot zh | retrieval en | retrieval zh | ms/text en | ms/text zh "
          "| cos(en,zh) same label / other | class names -> class top-1 en / zh |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, h, ten, tzh, cs, co, cn in rows:
        ms = f"{ten} | {tzh}" if ten is not None else "- | -"
        cns = f"{cn['en']:.3f} / {cn['zh']:.3f} ({cn['classes']})" if cn else "-"
        print(f"| {name} | {h['zero_shot_en']}/{n} | {h['zero_shot_zh']}/{n} | {h['retrieval_en']}/{n} | "
              f"{h['retrieval_zh']}/{n} | {ms} | {cs:.3f} / {co:.3f} | {cns} |")
    for name, s in report["results"].items():
        print(f"\n{name} misses:")
        for k, v in s["misses"].items():
            print(f"  {k}: {v}")
    if args.report:
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
