#!/usr/bin/env python3
"""Check models/qa/qa.json: structure, references and counts. Standard library only.

    python3 models/qa/check_qa.py [path/to/qa.json]

Exits non-zero on the first list of problems; prints counts otherwise.
"""
import collections
import html
import json
import os
import re
import sys

MODES = {"query", "chat"}
LANGS = {"en", "zh"}
KEYS = ["id", "collection", "lang", "mode", "question", "accept", "source", "answerable", "follow_up_of"]


def norm(s):
    return re.sub(r"\s+", "", s).lower()


def doc_text(path):
    """Plain text of a document, good enough to look for answer spans."""
    if path.endswith(".pdf"):
        data = open(path, "rb").read().decode("latin-1")
        parts = re.findall(r"\(((?:\\.|[^\\)])*)\)\s*Tj", data)
        return " ".join(re.sub(r"\\(.)", r"\1", p) for p in parts)
    text = open(path, encoding="utf-8").read()
    if path.endswith(".html"):
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return text


def is_zh(text):
    return len(re.findall(r"[\u4e00-\u9fff]", text)) > len(re.findall(r"[A-Za-z]+", text))


def main(path):
    base = os.path.dirname(os.path.abspath(path))
    data = json.load(open(path, encoding="utf-8"))
    errors = []
    colls = {}
    texts = {}
    for c in data["collections"]:
        if c["name"] in colls:
            errors.append(f"duplicate collection {c['name']}")
        if c["mode"] not in MODES:
            errors.append(f"collection {c['name']}: bad mode {c['mode']}")
        colls[c["name"]] = c
        for d in c["documents"]:
            p = os.path.join(base, d)
            if not os.path.isfile(p):
                errors.append(f"collection {c['name']}: missing document {d}")
            else:
                texts[(c["name"], d)] = doc_text(p)
        for i, n in enumerate(c["notes"]):
            texts[(c["name"], f"note:{i}")] = n

    seen = {}
    prev = None
    per_source = collections.Counter()
    for q in data["questions"]:
        qid = q.get("id")
        if list(q.keys()) != KEYS:
            errors.append(f"{qid}: keys {list(q.keys())} != {KEYS}")
        if qid in seen:
            errors.append(f"{qid}: duplicate id")
        c = colls.get(q["collection"])
        if c is None:
            errors.append(f"{qid}: unknown collection {q['collection']}")
            continue
        if q["lang"] not in LANGS or q["mode"] not in MODES:
            errors.append(f"{qid}: bad lang/mode")
        if is_zh(q["question"]) != (q["lang"] == "zh"):
            errors.append(f"{qid}: question text does not look like lang {q['lang']}")
        src = q["source"]
        if q["answerable"]:
            if not q["accept"] or not all(isinstance(a, str) and norm(a) for a in q["accept"]):
                errors.append(f"{qid}: answerable needs non-empty accept strings")
            if src is None:
                if q["mode"] != "chat":
                    errors.append(f"{qid}: source null is only for chat general knowledge")
            elif (q["collection"], src) not in texts:
                errors.append(f"{qid}: source {src} not in collection {q['collection']}")
            else:
                per_source[(q["collection"], src)] += 1
                t = norm(texts[(q["collection"], src)])
                if not any(norm(a) in t for a in q["accept"]):
                    errors.append(f"{qid}: no accept string occurs in {src}")
        else:
            if q["accept"] or src is not None or q["mode"] != "query":
                errors.append(f"{qid}: unanswerable needs accept [], source null, mode query")
        f = q["follow_up_of"]
        if f is not None:
            if f not in seen:
                errors.append(f"{qid}: follow_up_of {f} is not an earlier question")
            else:
                parent = seen[f]
                if parent["collection"] != q["collection"] or parent["mode"] != q["mode"]:
                    errors.append(f"{qid}: follow-up must share collection and mode with {f}")
                if prev is None or (prev["id"] != f and prev.get("follow_up_of") != f):
                    errors.append(f"{qid}: should come right after {f}")
        seen[qid] = q
        prev = q

    for c in data["collections"]:
        for d in c["documents"]:
            if per_source[(c["name"], d)] < 2:
                errors.append(f"{d}: fewer than 2 questions")

    if errors:
        print("\n".join(errors))
        sys.exit(1)

    qs = data["questions"]
    count = collections.Counter
    print(f"questions: {len(qs)}")
    print("by lang:", dict(count(q["lang"] for q in qs)))
    print("by mode:", dict(count(q["mode"] for q in qs)))
    print("by collection:", dict(count(q["collection"] for q in qs)))
    print("answerable:", dict(count(("answerable" if q["answerable"] else "unanswerable") for q in qs)))
    print("unanswerable by lang:", dict(count(q["lang"] for q in qs if not q["answerable"])))
    print("chat, general knowledge (source null):", sum(q["mode"] == "chat" and q["source"] is None for q in qs))
    print("chat, answered by the KB:", sum(q["mode"] == "chat" and q["source"] is not None for q in qs))
    print("follow-ups by lang:", dict(count(q["lang"] for q in qs if q["follow_up_of"])))
    cross = count()
    for q in qs:
        if q["source"]:
            src_zh = is_zh(texts[(q["collection"], q["source"])])
            if src_zh != (q["lang"] == "zh"):
                cross[f"{q['lang']} question, {'zh' if src_zh else 'en'} source"] += 1
    print("cross-lingual:", dict(cross))
    print("from notes:", sum(1 for q in qs if (q["source"] or "").startswith("note:")))
    print("per document:", {d: n for (_, d), n in per_source.items() if not d.startswith("note:")})
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "qa.json"))
