#!/usr/bin/env python3
"""Scale-out suite: two pyxa replicas sharing PostgreSQL and a 3-node Qdrant cluster.

Started by run.sh, which provides the cluster, the database and the pyxa binary. Standard
library only. Each check prints one line; the process exits non-zero when one fails.

  together     both replicas start at once on an empty database: migrations, the default
               collection and start-up repair run twice without harm
  shared       an item uploaded through one replica is searchable and answerable through the
               other at once; a correction taught through one is used by the other
  repair       a third replica starting while documents are being ingested leaves them whole
  peer-down    one Qdrant peer at a time is killed and restarted under a steady load of
               uploads and searches through both replicas: reads keep answering, /health
               says `degraded` while a peer is down and `ok` after, and every acknowledged
               upload is in every replica of the cluster afterwards

Environment: PYXA_BIN, PYXA_DATABASE_URL, PYXA_QDRANT_SCRIPT, PYXA_QDRANT_STATE,
PYXA_QDRANT_BASE_PORT, PYXA_TEST_IMAGES, SCALE_DIR (scratch folder).
"""

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

BIN = os.environ["PYXA_BIN"]
DATABASE_URL = os.environ["PYXA_DATABASE_URL"]
QDRANT = os.environ["PYXA_QDRANT_SCRIPT"]
BASE_PORT = int(os.environ["PYXA_QDRANT_BASE_PORT"])
IMAGES = os.environ["PYXA_TEST_IMAGES"]
SCRATCH = os.environ["SCALE_DIR"]
PEERS = 3
GRPC = ",".join(f"http://127.0.0.1:{BASE_PORT + 10 * k + 1}" for k in range(PEERS))
REST = [f"http://127.0.0.1:{BASE_PORT + 10 * k}" for k in range(PEERS)]
# Photos are shared through one data dir (with Postgres and a Qdrant server it holds only them).
SHARED_DATA = os.path.join(SCRATCH, "shared-data")

failures = []


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + (f": {detail}" if detail else ""), flush=True)
    if not ok:
        failures.append(name)
    return ok


# --------------------------------------------------------------------------------------- http

def request(method, url, body=None, timeout=60):
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        return 0, str(e)


def photo_b64(name):
    with open(os.path.join(IMAGES, name), "rb") as f:
        return base64.b64encode(f.read()).decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------------------------ replicas

class Replica:
    def __init__(self, name):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(SCRATCH, f"pyxa-{name}.log"), "w")
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": DATABASE_URL,
            "PYXA_QDRANT_URL": GRPC,
            "PYXA_QDRANT_SHARDS": "3",
            "PYXA_QDRANT_REPLICATION": "3",
            "PYXA_DATA_DIR": SHARED_DATA,
        })
        self.proc = subprocess.Popen(
            [BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--generator", "none"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, seconds=180):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            status, _ = request("GET", self.url + "/health", timeout=5)
            if status == 200:
                return True
            time.sleep(0.3)
        return False

    def call(self, method, path, body=None, timeout=60):
        return request(method, self.url + path, body, timeout)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def qdrant(*args):
    subprocess.run([QDRANT, *args], check=True, stdout=subprocess.DEVNULL)


def vector_health(replica):
    status, body = replica.call("GET", "/health", timeout=10)
    if status != 200:
        return None, [f"/health answered {status}"]
    vectors = body["stores"]["vectors"]
    return vectors.get("status"), vectors.get("problems", [])


# -------------------------------------------------------------------------------------- checks

def together():
    a, b = Replica("a"), Replica("b")
    ready = [None, None]

    def wait(i, r):
        ready[i] = r.wait_ready()

    threads = [threading.Thread(target=wait, args=(i, r)) for i, r in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("together: both replicas started at once on an empty database", all(ready),
          f"a={ready[0]} b={ready[1]}")
    status, body = a.call("GET", "/v1/collections")
    names = [c["name"] for c in body["collections"]] if status == 200 else []
    check("together: one default collection", names.count("default") == 1, f"{status} {names}")
    return a, b


def shared(a, b):
    status, body = a.call("POST", "/v1/collections", {"name": "animals", "description": "scale-out"})
    check("shared: collection created through a", status == 201, f"{status} {body}")
    status, body = b.call("GET", "/v1/collections/animals")
    check("shared: collection visible through b", status == 200, f"{status}")

    labels = {"chelsea.png": "cat", "coffee.png": "coffee", "rocket.jpg": "rocket", "astronaut.png": "astronaut"}
    ids = {}
    for name, label in labels.items():
        status, body = a.call("POST", "/v1/collections/animals/items",
                              {"image_base64": photo_b64(name), "label": label})
        ids[label] = body.get("id") if isinstance(body, dict) else None
        check(f"shared: {name} uploaded through a as {label}", status == 201, f"{status}")
    status, body = b.call("POST", "/v1/search", {"collection": "animals", "text": "a cat", "top_k": 3})
    top = body["hits"][0]["item_id"] if status == 200 and body.get("hits") else None
    check("shared: b finds a's cat by text at once", top == ids["cat"], f"{status} top={top}")
    status, body = b.call("POST", "/v1/ask", {"collection": "animals", "image_base64": photo_b64("chelsea.png"),
                                              "prompt": "What is this?"})
    cands = [c["label"] for c in body.get("candidates", [])] if status == 200 else []
    check("shared: b answers about a photo a uploaded (top candidate cat)", cands[:1] == ["cat"],
          f"{status} {cands[:3]} {body.get('answer') if isinstance(body, dict) else body}")

    status, body = b.call("POST", "/v1/collections/animals/items",
                          {"text": "The office cat is called Mochi. She sleeps on the printer HERON."})
    note = body.get("id") if isinstance(body, dict) else None
    check("shared: a note uploaded through b", status == 201, f"{status}")
    status, body = a.call("POST", "/v1/search", {"collection": "animals", "text": "Mochi", "top_k": 3})
    top = body["hits"][0]["item_id"] if status == 200 and body.get("hits") else None
    check("shared: a finds b's note by keyword at once", top == note, f"{status} top={top}")

    # Teach through b what a answered: a must use the correction at once.
    status, body = a.call("POST", "/v1/ask", {"collection": "animals", "image_base64": photo_b64("horse.png")})
    answer_id = body.get("answer_id") if isinstance(body, dict) else None
    first = [c["label"] for c in body.get("candidates", [])][:1] if status == 200 else []
    check("shared: a answers about an unknown horse", status == 200 and first != ["scale-pony"], f"{status} {first}")
    status, body = b.call("POST", f"/v1/answers/{answer_id}/feedback", {"label": "scale-pony"})
    check("shared: b learns a correction of a's answer (the photo a stored)", status in (200, 201), f"{status} {body}")
    status, body = a.call("POST", "/v1/ask", {"collection": "animals", "image_base64": photo_b64("horse.png")})
    cands = [c["label"] for c in body.get("candidates", [])] if status == 200 else []
    check("shared: a uses the correction taught through b", cands[:1] == ["scale-pony"], f"{status} {cands[:3]}")


def repair(a):
    """A third replica starts (running start-up repair) while a ingests documents."""
    a.call("POST", "/v1/collections", {"name": "docs"})
    acknowledged, errors = [], []
    stop = threading.Event()

    def ingest():
        n = 0
        while not stop.is_set() or n < 2:
            n += 1
            token = f"zq{uuid.uuid4().hex[:10]}"
            text = "\n\n".join(f"Section {i} of the handbook mentions {token} and rule {i}." for i in range(60))
            status, resp = upload_document(a, "docs", f"handbook-{n}.txt", text)
            if status == 201:
                acknowledged.append((resp["id"], resp["passages"], token))
            else:
                errors.append((status, resp))

    worker = threading.Thread(target=ingest)
    worker.start()
    c = Replica("c")
    started = c.wait_ready()
    stop.set()
    worker.join()
    check("repair: a third replica started during document ingestion", started)
    c.stop()
    check("repair: every document upload through a succeeded", not errors, f"{errors[:2]}")
    status, body = a.call("GET", "/v1/collections/docs/documents")
    listed = {d["id"]: d for d in body.get("documents", [])} if status == 200 else {}
    whole = [d for d, passages, _ in acknowledged
             if d in listed and listed[d]["state"] == "indexed" and listed[d]["passages"] == passages]
    check("repair: every acknowledged document is whole after the start-up repair",
          len(whole) == len(acknowledged) and acknowledged, f"{len(whole)} of {len(acknowledged)}")
    for d, _, token in acknowledged[-2:]:
        status, body = a.call("POST", "/v1/search", {"collection": "docs", "text": token, "top_k": 1})
        hit = body["hits"][0] if status == 200 and body.get("hits") else {}
        check(f"repair: document {d[:8]} is found by its word", (hit.get("document") or {}).get("id") == d,
              f"{status} {hit.get('document')}")


def upload_document(replica, collection, file_name, text):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + text.encode() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{replica.url}/v1/collections/{collection}/documents", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def peer_down(a, b, peers):
    a.call("POST", "/v1/collections", {"name": "steady"})
    acknowledged = []  # (item id, its text)
    outcomes = {"write_ok": 0, "write_failed": 0, "read_ok": 0, "read_failed": 0}
    read_failures = []
    write_failures = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(replica):
        while not stop.is_set():
            token = f"qx{uuid.uuid4().hex[:12]}"
            status, body = replica.call("POST", "/v1/collections/steady/items",
                                        {"text": f"Steady note {token} written through {replica.name}."}, timeout=60)
            with lock:
                if status == 201:
                    outcomes["write_ok"] += 1
                    acknowledged.append((body["id"], body["text"]))
                else:
                    outcomes["write_failed"] += 1
                    write_failures.append((time.time(), replica.name, status, str(body)[:160]))

    def reader(replica):
        while not stop.is_set():
            status, body = replica.call("POST", "/v1/search", {"collection": "steady", "text": "steady note", "top_k": 5},
                                        timeout=60)
            with lock:
                if status == 200:
                    outcomes["read_ok"] += 1
                else:
                    outcomes["read_failed"] += 1
                    read_failures.append((time.time(), replica.name, status, str(body)[:160]))
            time.sleep(0.05)

    threads = [threading.Thread(target=f, args=(r,)) for f in (writer, reader) for r in (a, b)]
    for t in threads:
        t.start()
    time.sleep(5)
    for k in peers:
        before = dict(outcomes)
        qdrant("kill", str(k))
        killed_at = time.time()
        degraded = None
        while time.time() - killed_at < 30:
            status, problems = vector_health(a)
            if status == "degraded":
                degraded = problems
                break
            time.sleep(0.5)
        check(f"peer-down: /health says degraded with peer {k} down", degraded is not None,
              f"{degraded[:2] if degraded else vector_health(a)}")
        time.sleep(10)
        during = {key: outcomes[key] - before[key] for key in outcomes}
        check(f"peer-down: reads and writes kept being served with peer {k} down",
              during["read_ok"] > 20 and during["write_ok"] > 5, f"{during}")
        qdrant("restart", str(k))
        restarted_at = time.time()
        healthy = False
        while time.time() - restarted_at < 120:
            if vector_health(a)[0] == "ok" and vector_health(b)[0] == "ok":
                healthy = True
                break
            time.sleep(1)
        check(f"peer-down: /health back to ok after peer {k} restarted", healthy,
              f"after {time.time() - restarted_at:.0f} s: {vector_health(a)}")
        time.sleep(5)
    stop.set()
    for t in threads:
        t.join()
    print(f"     load: {outcomes}", flush=True)
    for f in (read_failures + write_failures)[:8]:
        print(f"     failed: {f}", flush=True)
    total = outcomes["read_ok"] + outcomes["read_failed"]
    check("peer-down: at most 1% of reads failed", outcomes["read_failed"] <= total / 100,
          f"{outcomes['read_failed']} of {total}")

    # Every acknowledged upload is on every peer (asked of each peer's local replicas alone).
    ids = [i for i, _ in acknowledged]
    missing = {}
    for k, rest in enumerate(REST, start=1):
        found = set()
        for start in range(0, len(ids), 500):
            status, body = request("POST", f"{rest}/collections/pyxa_steady/points?consistency=all",
                                   {"ids": ids[start:start + 500], "with_payload": False, "with_vector": False})
            if status == 200:
                found.update(p["id"] for p in body["result"])
        missing[k] = len(set(ids) - found)
    check("peer-down: every acknowledged upload is stored on every peer",
          ids and all(m == 0 for m in missing.values()), f"{len(ids)} acknowledged, missing per peer {missing}")
    # Its own text finds it first, by meaning and by its unique word.
    status, body = b.call("POST", "/v1/search", {"collection": "steady", "text": acknowledged[-1][1], "top_k": 1})
    top = body["hits"][0]["item_id"] if status == 200 and body.get("hits") else None
    check("peer-down: the last acknowledged upload is found through b", top == acknowledged[-1][0], f"{status} {top}")


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    os.makedirs(SHARED_DATA, exist_ok=True)
    a, b = together()
    try:
        if not failures:
            if not only or only in "shared":
                shared(a, b)
            if not only or only in "repair":
                repair(a)
            if not only or only in "peer-down":
                peer_down(a, b, peers=[1, 3])
    finally:
        a.stop()
        b.stop()
    if failures:
        print(f"{len(failures)} check(s) failed: {failures}")
        print(f"logs in {SCRATCH}")
        return 1
    print("all scale-out checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
