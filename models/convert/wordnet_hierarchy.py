"""WordNet hypernym chains and basic-level roll-ups for the ImageNet classes.

ImageNet-1k classes are WordNet 3.0 noun synsets (wnid = "n" + 8-digit offset). This module reads
Debian `wordnet-base`'s `data.noun` and, for each class, adds to its classes.json entry:

  hypernyms  the hypernym chain, nearest first: [{"wnid", "names"}] (first hypernym each step)
  rollup     {"wnid", "en", "zh"} of the nearest ancestor in basic_levels.json (the level people
             name: cat, dog, butterfly, ...), absent when there is none

Standalone use: python3 wordnet_hierarchy.py classes.json [--data-noun PATH]  (rewrites the file)
"""
from __future__ import annotations

import argparse
import json
from collections import deque
from pathlib import Path

DATA_NOUN = Path("/usr/share/wordnet/data.noun")
BASIC_LEVELS = Path(__file__).with_name("basic_levels.json")
HYPERNYM_POINTERS = ("@", "@i")  # hypernym, instance hypernym


def read_data_noun(path: Path = DATA_NOUN) -> dict[str, tuple[list[str], list[str]]]:
    """offset -> (lemma names, hypernym offsets)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: install Debian's wordnet-base (apt-get install wordnet-base)")
    synsets: dict[str, tuple[list[str], list[str]]] = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "):  # licence header
                continue
            fields = line.split(" ")
            offset, w_cnt = fields[0], int(fields[3], 16)
            words = [fields[4 + 2 * i].replace("_", " ") for i in range(w_cnt)]
            p = 4 + 2 * w_cnt
            hypernyms = []
            for i in range(int(fields[p])):
                symbol, target, pos = fields[p + 1 + 4 * i: p + 4 + 4 * i]
                if symbol in HYPERNYM_POINTERS and pos == "n":
                    hypernyms.append(target)
            synsets[offset] = (words, hypernyms)
    return synsets


def hypernym_chain(synsets, offset: str) -> list[dict]:
    """Following the first hypernym up to the root (nearest first)."""
    chain, seen = [], {offset}
    while synsets[offset][1]:
        offset = synsets[offset][1][0]
        if offset in seen:
            break
        seen.add(offset)
        chain.append({"wnid": "n" + offset, "names": synsets[offset][0]})
    return chain


def nearest_basic_level(synsets, offset: str, basic: dict[str, dict]) -> dict | None:
    """The closest ancestor (breadth-first over all hypernyms) that is a basic-level node."""
    queue, seen = deque([offset]), {offset}
    while queue:
        o = queue.popleft()
        for h in synsets[o][1]:
            if h in seen:
                continue
            if h in basic:
                return basic[h]
            seen.add(h)
            queue.append(h)
    return None


def load_basic_levels(path: Path = BASIC_LEVELS) -> dict[str, dict]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {r["wnid"].lstrip("n"): {"wnid": r["wnid"], "en": r["en"], "zh": r["zh"]} for r in rows}


def add_hierarchy(classes: list[dict], data_noun: Path = DATA_NOUN, basic_levels: Path = BASIC_LEVELS) -> dict:
    """Adds `hypernyms` and `rollup` to every class (needs its `synset` wnid); returns stats."""
    synsets = read_data_noun(data_noun)
    basic = load_basic_levels(basic_levels)
    missing = [b for b in basic if b not in synsets]
    if missing:
        raise ValueError(f"basic_levels.json: offsets not in data.noun: {missing}")
    rolled = 0
    for c in classes:
        offset = c["synset"].lstrip("n")
        if offset not in synsets:
            raise ValueError(f"class {c['index']} ({c['synset']}) is not in data.noun")
        c["hypernyms"] = hypernym_chain(synsets, offset)
        r = nearest_basic_level(synsets, offset, basic)
        if r is not None:
            c["rollup"] = dict(r)
            rolled += 1
    return {"classes": len(classes), "rolled_up": rolled, "basic_levels": len(basic)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("classes", type=Path)
    ap.add_argument("--data-noun", type=Path, default=DATA_NOUN)
    args = ap.parse_args()
    classes = json.loads(args.classes.read_text(encoding="utf-8"))
    stats = add_hierarchy(classes, args.data_noun)
    with open(args.classes, "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in classes) + "\n]\n")
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
