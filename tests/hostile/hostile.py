#!/usr/bin/env python3
"""Hostile-input suite for a running `pyxa serve` (with API keys enforced).

Standard library only; requests go over raw sockets (http.client would normalise the
malformed ones). Every case sends malformed, oversized, ambiguous, concurrent, cancelled
or slow requests over real HTTP and asserts what a *correct hardened* server does: the
expected status (or small set of statuses) and stable error code, never a 5xx, a JSON error
body (`{"error": {"code", "message"}}`, Content-Type application/json) on every status >= 400,
`Retry-After` on 429/503, no internal details in 5xx bodies, `/health` still answering within
5 s afterwards, and a bounded memory peak (VmHWM - VmRSS before the case <= 300 MiB).

Environment: PYXA_URL, PYXA_ADMIN_KEY, PYXA_PID, PYXA_TEST_IMAGES (see run.sh).
Usage: hostile.py [--only SUBSTRING] [--list]
"""

import base64
import functools
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib

URL = os.environ.get("PYXA_URL", "http://127.0.0.1:8080")
_u = urllib.parse.urlsplit(URL)
HOST, PORT = _u.hostname or "127.0.0.1", _u.port or 80
HOSTHDR = f"{HOST}:{PORT}"
ADMIN = os.environ.get("PYXA_ADMIN_KEY", "")
PID = int(os.environ.get("PYXA_PID", "0") or 0)
IMAGES = os.environ.get("PYXA_TEST_IMAGES", os.path.expanduser("~/.cache/pyxa/test-photos"))
MIB = 1 << 20
KIB = 1 << 10
PEAK_LIMIT_MIB = 300
RUN = "%06x" % random.randrange(1 << 24)  # unique names per run: hx<RUN>-<tag>
UPLOAD_LIMIT = 25 * MIB

CLOSED, TIMEOUT, BADRESP = 0, -1, -2  # pseudo statuses: connection closed without an answer, no answer in time, garbage
OK = "OK"  # placeholder in image specs: 200 for asks, 201 for new items


# ---------------------------------------------------------------------------------------------
# raw HTTP client
# ---------------------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers=(), body=b"", ms=0.0, what="", method="GET", error=None):
        self.status = status
        self.headers = {}
        for k, v in headers:
            self.headers[k.lower()] = v
        self.body = body
        self.ms = ms
        self.what = what
        self.method = method
        self.error = error

    @functools.cached_property
    def json(self):
        try:
            return json.loads(self.body)
        except Exception:
            return None

    @property
    def code(self):
        j = self.json
        if isinstance(j, dict) and isinstance(j.get("error"), dict):
            c = j["error"].get("code")
            return c if isinstance(c, str) else None
        return None

    def desc(self):
        s = {CLOSED: "closed", TIMEOUT: "timeout", BADRESP: "bad-response"}.get(self.status, str(self.status))
        if isinstance(self.status, int) and self.status >= 400:
            s += " " + str(self.code)
        return s


def enc(x):
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    return str(x).encode("utf-8")


def connect(timeout=10):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    """Reads one HTTP/1.1 response from a socket before a deadline."""

    def __init__(self, sock, deadline):
        self.s, self.deadline, self.buf = sock, deadline, bytearray()

    def more(self):
        rem = self.deadline - time.monotonic()
        if rem <= 0:
            raise socket.timeout()
        self.s.settimeout(rem)
        d = self.s.recv(256 * KIB)
        if d:
            self.buf += d
        return bool(d)

    def until(self, sep, limit=4 * MIB):
        while (i := self.buf.find(sep)) < 0:
            if len(self.buf) > limit or not self.more():
                return None
        out = bytes(self.buf[:i])
        del self.buf[: i + len(sep)]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            if not self.more():
                break
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def rest(self, limit=64 * MIB):
        while len(self.buf) < limit and self.more():
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


def read_response(sock, deadline, method="GET", what=""):
    t0 = time.monotonic()
    rd = Reader(sock, deadline)
    status, headers, body = None, [], b""
    try:
        while True:
            head = rd.until(b"\r\n\r\n")
            if head is None:
                if not rd.buf and status is None:
                    return Resp(CLOSED, what=what, method=method, error="closed without a response")
                return Resp(BADRESP, body=bytes(rd.buf[:300]), what=what, method=method, error="incomplete response head")
            lines = head.split(b"\r\n")
            m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
            if not m:
                return Resp(BADRESP, body=head[:300], what=what, method=method, error="not HTTP")
            status = int(m.group(1))
            headers = []
            for ln in lines[1:]:
                k, _, v = ln.partition(b":")
                headers.append((k.strip().decode("latin-1"), v.strip().decode("latin-1")))
            if 100 <= status < 200:
                continue
            break
        hd = {k.lower(): v for k, v in headers}
        if method == "HEAD" or status in (204, 304):
            # Nothing may follow; whatever arrives before the close is a (wrong) body.
            rd.deadline = min(rd.deadline, time.monotonic() + 1.0)
            try:
                body = rd.rest()
            except (socket.timeout, OSError):
                body = bytes(rd.buf)
        elif "chunked" in hd.get("transfer-encoding", "").lower():
            parts = []
            while True:
                line = rd.until(b"\r\n")
                if line is None:
                    break
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    rd.until(b"\r\n")
                    break
                parts.append(rd.exactly(n))
                rd.until(b"\r\n")
            body = b"".join(parts)
        elif "content-length" in hd:
            body = rd.exactly(int(hd["content-length"]))
        else:
            body = rd.rest()
        return Resp(status, headers, body, (time.monotonic() - t0) * 1000, what, method)
    except socket.timeout:
        if status is None:
            return Resp(TIMEOUT, what=what, method=method, error="no response in time")
        return Resp(status, headers, bytes(rd.buf), (time.monotonic() - t0) * 1000, what, method, error="body timeout")
    except OSError as e:
        if status is None:
            return Resp(CLOSED, what=what, method=method, error=repr(e))
        return Resp(status, headers, bytes(rd.buf), (time.monotonic() - t0) * 1000, what, method, error=repr(e))


def chunks_of(data, size=256 * KIB):
    mv = memoryview(data)
    for i in range(0, len(mv), size):
        yield mv[i: i + size]


def exchange(head, body=None, timeout=60.0, method="GET", what="", rec=True):
    """Sends `head` then `body` (bytes or an iterable of chunks) from a thread while reading the
    response, so that an early answer (413) is read even when the server stops reading."""
    t0 = time.monotonic()
    try:
        s = connect()
    except OSError as e:
        r = Resp(CLOSED, what=what, method=method, error="connect: %r" % e)
        return record(r) if rec else r
    ws = s.dup()
    ws.settimeout(timeout)

    def sender():
        try:
            ws.sendall(head)
            if body is not None:
                it = chunks_of(body) if isinstance(body, (bytes, bytearray)) else body
                for c in it:
                    if stop.is_set():
                        return
                    ws.sendall(c)
        except OSError:
            pass

    stop = threading.Event()
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    try:
        r = read_response(s, t0 + timeout, method, what)
    finally:
        stop.set()
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
        ws.close()
    t.join(5)
    r.ms = (time.monotonic() - t0) * 1000
    return record(r) if rec else r


def build_head(method, path, headers):
    out = bytearray(enc(method) + b" " + enc(path) + b" HTTP/1.1\r\n")
    for k, v in headers:
        out += enc(k) + b": " + enc(v) + b"\r\n"
    out += b"\r\n"
    return bytes(out)


def std_headers(method, body_len, key=..., ctype=None, headers=()):
    """Host, key, Content-Type, Content-Length, Connection: close, then `headers` (a header
    given there replaces the default of the same name)."""
    hs = [("Host", HOSTHDR)]
    k = ADMIN if key is ... else key
    if k:
        hs.append(("Authorization", "Bearer " + k))
    if ctype:
        hs.append(("Content-Type", ctype))
    if body_len is not None:
        hs.append(("Content-Length", str(body_len)))
    hs.append(("Connection", "close"))
    names = {k.lower() for k, _ in headers}
    return [h for h in hs if h[0].lower() not in names] + list(headers)


def request(method, path, body=None, *, key=..., ctype=None, headers=(), timeout=60.0, length=None, rec=True):
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = b""
    if isinstance(body, str):
        body = body.encode()
    blen = length if length is not None else (len(body) if body is not None else None)
    head = build_head(method, path, std_headers(method, blen, key, ctype, headers))
    return exchange(head, body, timeout, method, f"{method} {path[:80]}", rec)


def jreq(method, path, obj, **kw):
    data = obj if isinstance(obj, (bytes, str)) else json.dumps(obj, ensure_ascii=False)
    kw.setdefault("ctype", "application/json")
    return request(method, path, data, **kw)


def raw(data, timeout=10.0, what="raw", method="GET"):
    return exchange(data, None, timeout, method, what)


def get(path, **kw):
    return request("GET", path, **kw)


def mp(parts, boundary=None):
    """multipart/form-data: parts are (name, value[, filename[, content type]])."""
    b = enc(boundary or ("hx" + "%016x" % random.getrandbits(64)))
    out = bytearray()
    for p in parts:
        name, data = p[0], p[1]
        filename = p[2] if len(p) > 2 else None
        ct = p[3] if len(p) > 3 else None
        out += b"--" + b + b"\r\n"
        out += b'Content-Disposition: form-data; name="' + enc(name) + b'"'
        if filename is not None:
            out += b'; filename="' + enc(filename) + b'"'
        out += b"\r\n"
        if ct:
            out += b"Content-Type: " + enc(ct) + b"\r\n"
        out += b"\r\n" + enc(data) + b"\r\n"
    out += b"--" + b + b"--\r\n"
    return bytes(out), "multipart/form-data; boundary=" + b.decode("latin-1")


def mime_for(filename):
    ext = filename.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml",
            "bmp": "image/bmp", "tif": "image/tiff", "heic": "image/heic", "md": "text/markdown", "txt": "text/plain",
            "webp": "image/webp", "pdf": "application/pdf", "html": "text/html"}.get(ext, "application/octet-stream")


def ask_mp(img=None, filename="photo.png", key=..., extra=(), timeout=120.0):
    parts = []
    if img is not None:
        parts.append(("image", img, filename, mime_for(filename)))
    parts += list(extra)
    body, ct = mp(parts)
    return request("POST", "/v1/ask", body, ctype=ct, key=key, timeout=timeout)


def item_mp(coll_name, img=None, filename="photo.png", label="hx", text=None, key=..., extra=()):
    parts = []
    if img is not None:
        parts.append(("image", img, filename, mime_for(filename)))
    if label is not None:
        parts.append(("label", label))
    if text is not None:
        parts.append(("text", text))
    parts += list(extra)
    body, ct = mp(parts)
    return request("POST", f"/v1/collections/{coll_name}/items", body, ctype=ct, key=key, timeout=120)


def doc_mp(coll_name, filename, data, key=...):
    body, ct = mp([("file", data, filename, mime_for(filename))])
    return request("POST", f"/v1/collections/{coll_name}/documents", body, ctype=ct, key=key, timeout=180)


def b64(data):
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------------------------
# expectations and the per-case context
# ---------------------------------------------------------------------------------------------

class Ctx:
    def __init__(self, name):
        self.name = name
        self.fails = []
        self.main = None
        self.lock = threading.Lock()
        self.count = 0


CUR = None
LEAK = re.compile(r"(/(tmp|root|home|usr|var|etc|proc|work)/|\.rs:\d|sqlx|No such file|panicked|stack backtrace|os error)", re.I)


def fail(msg):
    if CUR is not None:
        with CUR.lock:
            CUR.fails.append(msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return bool(cond)


def record(r):
    """The checks every response gets."""
    if CUR is not None:
        with CUR.lock:
            CUR.count += 1
    st = r.status
    if isinstance(st, int) and st >= 500:
        fail(f"{r.what}: 5xx {r.desc()} {r.body[:160]!r}")
        if LEAK.search(r.body.decode("utf-8", "replace")):
            fail(f"{r.what}: 5xx body leaks internals: {r.body[:200]!r}")
    if isinstance(st, int) and st >= 400:
        ct = r.headers.get("content-type", "")
        if not ct.lower().startswith("application/json"):
            fail(f"{r.what}: {st} without Content-Type application/json (got {ct!r}, body {r.body[:80]!r})")
        elif r.method != "HEAD":
            j = r.json
            ok = (isinstance(j, dict) and isinstance(j.get("error"), dict) and isinstance(j["error"].get("code"), str)
                  and isinstance(j["error"].get("message"), str))
            if not ok:
                fail(f"{r.what}: {st} body is not {{error: {{code, message}}}}: {r.body[:120]!r}")
    if st in (429, 503) and "retry-after" not in r.headers:
        fail(f"{r.what}: {st} without Retry-After")
    return r


def S(status, *codes):
    """One expected status; for errors, the accepted codes (none given: any code)."""
    return {status: set(codes) if codes else None}


def spec_desc(spec):
    out = []
    for st, codes in spec.items():
        name = {CLOSED: "closed", TIMEOUT: "timeout"}.get(st, str(st))
        out.append(name + ("" if not codes else " " + "|".join(sorted(codes))))
    return " or ".join(out)


def expect(r, spec, what=None, max_ms=None, main=True):
    if main and CUR is not None:
        CUR.main = r
    label = what or r.what
    if r.status not in spec:
        extra = f" ({r.error})" if r.error else ""
        fail(f"{label}: expected {spec_desc(spec)}, got {r.desc()}{extra}")
    else:
        codes = spec[r.status]
        if isinstance(r.status, int) and r.status >= 400 and codes and r.code not in codes:
            fail(f"{label}: expected {spec_desc(spec)}, got {r.desc()}")
    if max_ms is not None and r.ms > max_ms:
        fail(f"{label}: took {r.ms:.0f} ms (> {max_ms} ms)")
    return r


def par(fns, timeout=180):
    """Runs the callables at once; their results in order (None for one that did not end)."""
    out = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def run(i, f):
        try:
            barrier.wait(10)
        except threading.BrokenBarrierError:
            pass
        try:
            out[i] = f()
        except Exception as e:  # a bug in the case, reported as a failure
            fail(f"thread {i}: {e!r}")

    ts = [threading.Thread(target=run, args=(i, f), daemon=True) for i, f in enumerate(fns)]
    for t in ts:
        t.start()
    end = time.monotonic() + timeout
    for t in ts:
        t.join(max(0.1, end - time.monotonic()))
    return out


# ---------------------------------------------------------------------------------------------
# fixtures (lazy, shared by cases)
# ---------------------------------------------------------------------------------------------

_fx = {}
_fx_lock = threading.RLock()


def fixture(name, make):
    with _fx_lock:
        if name not in _fx:
            _fx[name] = make()
        return _fx[name]


def cname(tag):
    return f"hx{RUN}-{tag}"


def coll(tag):
    def make():
        n = cname(tag)
        r = jreq("POST", "/v1/collections", {"name": n, "description": "hostile suite"})
        check(r.status in (201, 409), f"fixture: create collection {n}: {r.desc()}")
        return n
    return fixture("coll:" + tag, make)


def new_key(scopes, collections=None):
    body = {"scopes": scopes}
    if collections is not None:
        body["collections"] = collections
    r = jreq("POST", "/v1/keys", body)
    if not check(r.status == 201 and r.json and "key" in r.json, f"fixture: create key {scopes}: {r.desc()}"):
        return ("none", "invalid-key-from-failed-fixture")
    return (r.json["id"], r.json["key"])


def key(tag, scopes, collections=None):
    return fixture("key:" + tag, lambda: new_key(scopes, collections))


def photo(name):
    return fixture("photo:" + name, lambda: open(os.path.join(IMAGES, name), "rb").read())


def text_item(c, text, label="hx"):
    r = jreq("POST", f"/v1/collections/{c}/items", {"text": text, "label": label})
    check(r.status == 201, f"fixture: text item: {r.desc()}")
    return r.json.get("id") if r.json else None


def admin_answer():
    """An answer (with a photo) made by the admin key, for feedback cases."""
    def make():
        r = ask_mp(noise_png(9001, 48, 48), extra=[("prompt", "what is this?")])
        check(r.status == 200, f"fixture: ask: {r.desc()}")
        return r.json.get("answer_id") if r.json else "none"
    return fixture("answer:admin", make)


# ---------------------------------------------------------------------------------------------
# crafted images
# ---------------------------------------------------------------------------------------------

def png_chunk(typ, data, crc_ok=True):
    crc = zlib.crc32(typ + data) & 0xFFFFFFFF
    if not crc_ok:
        crc ^= 0xDEADBEEF
    return struct.pack(">I", len(data)) + typ + data + struct.pack(">I", crc)


@functools.lru_cache(maxsize=None)
def zeros_zlib(n):
    """A zlib stream of n zero bytes, built without ever holding n bytes: full-flushed deflate
    segments of 8 MiB of zeros are identical, so one is computed and repeated."""
    seg_len = 8 * MIB
    k, rem = divmod(n, seg_len)
    out = [b"\x78\xda"]
    if k:
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        z = bytes(seg_len)
        seg = co.compress(z) + co.flush(zlib.Z_FULL_FLUSH)
        seg2 = co.compress(z) + co.flush(zlib.Z_FULL_FLUSH)
        assert seg == seg2
        out.append(seg * k)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    out.append(co.compress(bytes(rem)) + co.flush())
    out.append(struct.pack(">I", ((n % 65521) << 16) | 1))
    return b"".join(out)


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def raw_len(w, h, bit_depth, color_type, interlace=0):
    bpp_bits = bit_depth * CHANNELS[color_type]
    if not interlace:
        return h * (1 + (w * bpp_bits + 7) // 8)
    total = 0
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        pw, ph = (w - x0 + dx - 1) // dx, (h - y0 + dy - 1) // dy
        if pw > 0 and ph > 0:
            total += ph * (1 + (pw * bpp_bits + 7) // 8)
    return total


def png(width, height, bit_depth=8, color_type=2, rows=None, extra=(), interlace=0, idat=None, crc_ok=True, palette=None):
    """A PNG: IHDR, [PLTE], extra chunks, IDAT, IEND. Without rows, all pixels are zero (so
    a huge shape compresses to almost nothing)."""
    sig = b"\x89PNG\r\n\x1a\n"
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace))
    if idat is None:
        if rows is None:
            idat = zeros_zlib(raw_len(width, height, bit_depth, color_type, interlace))
        else:
            idat = zlib.compress(b"".join(b"\x00" + r for r in rows), 9)
    out = [sig, ihdr]
    if color_type == 3:
        pal = palette or bytes(v for i in range(256) for v in (i, 255 - i, (i * 7) % 256))
        out.append(png_chunk(b"PLTE", pal))
    out += list(extra)
    out.append(png_chunk(b"IDAT", idat, crc_ok))
    out.append(png_chunk(b"IEND", b""))
    return b"".join(out)


@functools.lru_cache(maxsize=None)
def noise_png(seed, w=64, h=64):
    """A new, valid photo nobody has sent before (random pixels)."""
    rnd = random.Random(f"{RUN}-{seed}")
    rows = [rnd.randbytes(w * 3) for _ in range(h)]
    return png(w, h, rows=rows)


def lzw_literal(pixels, min_code=8):
    """GIF LZW data that only uses literal codes (a clear code every 250 pixels keeps codes 9 bits)."""
    clear, eoi = 1 << min_code, (1 << min_code) + 1
    codes = [clear]
    n = 0
    for p in pixels:
        codes.append(p)
        n += 1
        if n == 250:
            codes.append(clear)
            n = 0
    codes.append(eoi)
    acc = nbits = 0
    data = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += min_code + 1
        while nbits >= 8:
            data.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        data.append(acc & 0xFF)
    out = bytearray([min_code])
    for i in range(0, len(data), 255):
        blk = data[i: i + 255]
        out.append(len(blk))
        out += blk
    out.append(0)
    return bytes(out)


def gif(screen_w, screen_h, frames, loop=False):
    """frames: (x, y, w, h, pixel bytes)."""
    pal = bytes(v for i in range(256) for v in (i, (i * 3) % 256, 255 - i))
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", screen_w, screen_h, 0xF7, 0, 0) + pal)
    if loop:
        out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for (x, y, w, h, px) in frames:
        out += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # graphic control: 0.1 s
        out += b"\x2c" + struct.pack("<HHHHB", x, y, w, h, 0)
        out += lzw_literal(px)
    out += b"\x3b"
    return bytes(out)


def small_gif():
    return fixture("gif:small", lambda: gif(64, 64, [(0, 0, 64, 64, bytes((i * 5) % 256 for i in range(64 * 64)))]))


def jpeg_segments(data):
    """(marker, start, end) of each segment before the scan."""
    i, segs = 2, []
    while i + 4 <= len(data) and data[i] == 0xFF:
        m = data[i + 1]
        ln = struct.unpack(">H", data[i + 2: i + 4])[0]
        segs.append((m, i, i + 2 + ln))
        if m == 0xDA:
            break
        i += 2 + ln
    return segs


def jpeg_with_exif_orientation(data, orientation=6):
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + app1 + data[2:]


def jpeg_with_size(data, w, h):
    out = bytearray(data)
    for m, s, _ in jpeg_segments(data):
        if m in (0xC0, 0xC1, 0xC2):
            out[s + 5: s + 9] = struct.pack(">HH", h, w)
            return bytes(out)
    raise ValueError("no SOF")


def bmp(w=4, h=4):
    row = (b"\x10\x80\xf0" * w).ljust((w * 3 + 3) // 4 * 4, b"\x00")
    pix = row * h
    return (b"BM" + struct.pack("<IHHI", 54 + len(pix), 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pix), 2835, 2835, 0, 0) + pix)


def tiff():
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 8 * 12 + 4),
               (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", t, ty, c, v) for t, ty, c, v in entries) + b"\x00\x00\x00\x00"
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x80"


def heic():
    ftyp = b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heicmiaf"
    box = struct.pack(">I", len(ftyp) + 4) + ftyp
    return box + struct.pack(">I", 16) + b"meta" + b"\x00" * 8 + os.urandom(2000)


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000">'
       b'<rect width="100%" height="100%" fill="red"/><script>alert(1)</script></svg>\n')


def truncated(data, frac):
    return data[: max(1, int(len(data) * frac))]


def img(name):
    """The hostile images, by name (built once)."""
    def make():
        chelsea = photo("chelsea.png")
        rocket = photo("rocket.jpg")
        g = small_gif()
        p32 = png(32, 32, rows=[bytes((x * 8 + y) % 256 for x in range(96)) for y in range(32)])
        table = {
            "empty": lambda: b"",
            "random": lambda: random.Random(7).randbytes(4096),
            "text-as-png": lambda: b"Dear diary, this is not a picture at all.\n" * 40,
            "png-cut-10": lambda: truncated(chelsea, 0.10),
            "png-cut-50": lambda: truncated(chelsea, 0.50),
            "png-cut-99": lambda: truncated(chelsea, 0.99),
            "jpeg-cut-10": lambda: truncated(rocket, 0.10),
            "jpeg-cut-50": lambda: truncated(rocket, 0.50),
            "jpeg-cut-99": lambda: truncated(rocket, 0.99),
            "gif-cut-10": lambda: truncated(g, 0.10),
            "gif-cut-50": lambda: truncated(g, 0.50),
            "gif-cut-99": lambda: truncated(g, 0.99),
            "png-bad-crc": lambda: png(32, 32, rows=[bytes((x * 8 + y) % 256 for x in range(96)) for y in range(32)], crc_ok=False),
            "png-1x16384": lambda: png(1, 16384),
            "png-16384x1": lambda: png(16384, 1),
            "png-20000x20000": lambda: png(20000, 20000),
            "png-20000x20000-header-only": lambda: png(20000, 20000, idat=zlib.compress(bytes(4096))),
            "png-16384x16384": lambda: png(16384, 16384),
            "gif-screen-6000-frame-1x1": lambda: gif(6000, 6000, [(0, 0, 1, 1, b"\x05")]),
            "png-rgba16-4000x4000": lambda: png(4000, 4000, bit_depth=16, color_type=6),
            "png-1x1": lambda: png(1, 1, rows=[b"\x80\x40\x20"]),
            "png-gray": lambda: png(64, 64, color_type=0, rows=[bytes((x * 4) % 256 for x in range(64)) for _ in range(64)]),
            "png-gray16": lambda: png(64, 64, bit_depth=16, color_type=0, rows=[bytes((x * 9) % 256 for x in range(128)) for _ in range(64)]),
            "png-gray-alpha": lambda: png(48, 48, color_type=4, rows=[bytes((x * 5) % 256 for x in range(96)) for _ in range(48)]),
            "png-palette": lambda: png(64, 64, color_type=3, rows=[bytes((x + y) % 256 for x in range(64)) for y in range(64)]),
            "png-rgba-alpha": lambda: png(64, 64, color_type=6, rows=[bytes((x * 3 + y) % 256 for x in range(256)) for y in range(64)]),
            "png-interlaced": lambda: png(64, 64, interlace=1),
            "gif-animated": lambda: gif(32, 32, [(0, 0, 32, 32, bytes(range(0, 256, 1)) * 4), (0, 0, 32, 32, bytes(range(255, -1, -1)) * 4)], loop=True),
            "jpeg-exif-orientation-6": lambda: jpeg_with_exif_orientation(rocket, 6),
            "jpeg-sof-65500x65500": lambda: jpeg_with_size(rocket, 65500, 65500),
            "png-itxt-8mib": lambda: png(32, 32, extra=[png_chunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00" + b"A" * (8 * MIB))]),
            "png-ztxt-bomb-1gib": lambda: png(32, 32, extra=[png_chunk(b"zTXt", b"Comment\x00\x00" + zeros_zlib(1024 * MIB))]),
            "png-idat-bomb-1gib": lambda: png(64, 64, idat=zeros_zlib(1024 * MIB)),
            "png-100k-chunks": lambda: png(16, 16, extra=[png_chunk(b"prVt", b"")] * 100_000),
            "png-width-0": lambda: png(0, 10, idat=zlib.compress(b"\x00" * 10)),
            "png-bad-color-type": lambda: p32[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 5, 0, 0, 0)) + p32[33:],
            "svg": lambda: SVG,
            "bmp": lambda: bmp(),
            "tiff": lambda: tiff(),
            "heic-like": lambda: heic(),
            "webp-lying-riff": lambda: b"RIFF" + struct.pack("<I", 10_000_000) + b"WEBPVP8 " + struct.pack("<I", 9_999_000) + os.urandom(300),
            "polyglot-png-zip": lambda: chelsea + b"PK\x03\x04" + os.urandom(1000) + b"PK\x05\x06" + b"\x00" * 18,
            "polyglot-gif-js": lambda: b"GIF89a/*\x01\x00\x01\x00\x80\x00\x00*/=alert(document.domain);//" + b"\x00" * 30 + b";",
            "polyglot-pdf-jpeg": lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rocket,
            "polyglot-png-html": lambda: b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
        }
        return table[name]()
    return fixture("img:" + name, make)


def img_spec(kind, ok):
    return {
        "ok": {ok: None},
        "ok_or_big": {ok: None, 413: {"image_too_large"}},
        "big": {413: {"image_too_large"}},
        "invalid": {400: {"invalid_image"}},
        "notimg": {415: {"not_an_image"}, 400: {"invalid_image"}},
        "empty": {400: {"empty_image", "empty_question", "empty_item"}},
        "ok_or_invalid": {ok: None, 400: {"invalid_image"}},
        "ok_or_reject": {ok: None, 400: {"invalid_image"}, 413: {"image_too_large", "upload_too_large"}, 415: {"not_an_image"}},
        "reject": {400: {"invalid_image"}, 413: {"image_too_large"}, 415: {"not_an_image"}},
    }[kind]


# ---------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------

CASES = []


def add(name, fn):
    CASES.append((name, fn))


def case(name):
    def deco(fn):
        add(name, fn)
        return fn
    return deco


# ------------------------------- images ------------------------------------------------------

IMAGE_TABLE = [
    # name, filename, expectation kind, on items too
    ("empty", "empty.png", "empty", True),
    ("random", "random.png", "notimg", True),
    ("text-as-png", "cat.png", "notimg", True),
    ("png-cut-10", "cut.png", "invalid", False),
    ("png-cut-50", "cut.png", "invalid", True),
    ("png-cut-99", "cut.png", "invalid", False),
    ("jpeg-cut-10", "cut.jpg", "invalid", False),
    ("jpeg-cut-50", "cut.jpg", "invalid", False),
    ("jpeg-cut-99", "cut.jpg", "invalid", True),
    ("gif-cut-10", "cut.gif", "invalid", False),
    ("gif-cut-50", "cut.gif", "invalid", False),
    ("gif-cut-99", "cut.gif", "invalid", False),
    ("png-bad-crc", "crc.png", "ok_or_invalid", False),
    ("png-1x16384", "tall.png", "ok_or_big", True),
    ("png-16384x1", "wide.png", "ok_or_big", False),
    ("png-20000x20000", "bomb.png", "big", True),
    ("png-20000x20000-header-only", "bomb.png", "big", False),
    ("png-16384x16384", "bomb.png", "big", False),
    ("gif-screen-6000-frame-1x1", "screen.gif", "ok_or_big", True),
    ("png-rgba16-4000x4000", "deep.png", "ok_or_big", True),
    ("png-1x1", "dot.png", "ok", True),
    ("png-gray", "gray.png", "ok", False),
    ("png-gray16", "gray16.png", "ok", False),
    ("png-gray-alpha", "ga.png", "ok", False),
    ("png-palette", "pal.png", "ok", True),
    ("png-rgba-alpha", "alpha.png", "ok", False),
    ("png-interlaced", "adam7.png", "ok", False),
    ("gif-animated", "anim.gif", "ok", True),
    ("jpeg-exif-orientation-6", "exif.jpg", "ok", False),
    ("jpeg-sof-65500x65500", "huge.jpg", "big", False),
    ("png-itxt-8mib", "itxt.png", "ok_or_reject", False),
    ("png-ztxt-bomb-1gib", "ztxt.png", "ok_or_reject", False),
    ("png-idat-bomb-1gib", "idat.png", "ok_or_invalid", False),
    ("png-100k-chunks", "chunks.png", "ok_or_reject", False),
    ("png-width-0", "zero.png", "invalid", False),
    ("png-bad-color-type", "ct5.png", "invalid", False),
    ("svg", "x.svg", "notimg", True),
    ("bmp", "x.bmp", "notimg", False),
    ("tiff", "x.tif", "notimg", False),
    ("heic-like", "x.heic", "notimg", False),
    ("webp-lying-riff", "x.webp", "reject", False),
    ("polyglot-png-zip", "poly.png", "ok_or_reject", False),
    ("polyglot-gif-js", "poly.gif", "reject", False),
    ("polyglot-pdf-jpeg", "poly.jpg", "notimg", False),
    ("polyglot-png-html", "poly.png", "reject", False),
]


def make_image_cases():
    for name, filename, kind, on_items in IMAGE_TABLE:
        def ask_case(name=name, filename=filename, kind=kind):
            expect(ask_mp(img(name), filename), img_spec(kind, 200))
        add(f"images/ask/{name}", ask_case)
        if on_items:
            def item_case(name=name, filename=filename, kind=kind):
                expect(item_mp(coll("img"), img(name), filename, label="hostile " + name), img_spec(kind, 201))
            add(f"images/item/{name}", item_case)


make_image_cases()


@case("images/ask/happy-path-chelsea")
def _():
    r = expect(ask_mp(photo("chelsea.png"), "chelsea.png", extra=[("prompt", "What animal is this?")]), S(200))
    if r.status == 200:
        check("cat" in r.body.decode("utf-8", "replace").lower(), "happy path: the answer for chelsea.png does not mention a cat")


@case("images/item/happy-path-chelsea")
def _():
    r = expect(item_mp(coll("img"), photo("chelsea.png"), "chelsea.png", label="cat"), S(201))
    if r.status == 201:
        expect(get(f"/v1/collections/{coll('img')}/items/{r.json['id']}"), S(200), main=False)


@case("images/search/random-bytes")
def _():
    body, ct = mp([("image", img("random"), "r.png", "image/png")])
    expect(request("POST", "/v1/search", body, ctype=ct), img_spec("notimg", 200))


@case("images/search/png-20000x20000")
def _():
    body, ct = mp([("image", img("png-20000x20000"), "b.png", "image/png")])
    expect(request("POST", "/v1/search", body, ctype=ct), img_spec("big", 200))


@case("images/ask-stream/png-20000x20000")
def _():
    expect(ask_mp(img("png-20000x20000"), "b.png", extra=[("stream", "true")]), img_spec("big", 200))


@case("images/ask-stream/text-as-png")
def _():
    expect(ask_mp(img("text-as-png"), "cat.png", extra=[("stream", "true")]), img_spec("notimg", 200))


@case("images/base64/not-base64")
def _():
    expect(jreq("POST", "/v1/ask", {"image_base64": "!!! this is *not* base64 ###"}), S(400, "invalid_base64"))


@case("images/base64/number")
def _():
    expect(jreq("POST", "/v1/ask", {"image_base64": 12345}), S(400, "invalid_base64", "invalid_json"))


@case("images/base64/empty-string")
def _():
    expect(jreq("POST", "/v1/ask", {"image_base64": ""}), S(400, "empty_image", "empty_question", "invalid_base64"))


@case("images/base64/data-url-image-mime-text-bytes")
def _():
    expect(jreq("POST", "/v1/ask", {"image_base64": "data:image/png;base64," + b64(b"hello, I am text")}), img_spec("notimg", 200))


@case("images/base64/data-url-text-mime-png-bytes")
def _():
    spec = S(200) | S(400, "invalid_base64", "invalid_image") | S(415, "not_an_image", "unsupported_content_type")
    expect(jreq("POST", "/v1/ask", {"image_base64": "data:text/html;base64," + b64(img("png-1x1"))}), spec)


@case("images/base64/data-url-without-comma")
def _():
    expect(jreq("POST", "/v1/ask", {"image_base64": "data:image/png;base64"}), S(400, "invalid_base64"))


@case("images/base64/chelsea-with-newlines")
def _():
    s = b64(photo("chelsea.png"))
    wrapped = "\n".join(s[i: i + 76] for i in range(0, len(s), 76))
    expect(jreq("POST", "/v1/ask", {"image_base64": wrapped}), S(200))


@case("images/base64/urlsafe-alphabet")
def _():
    data = img("png-palette")
    expect(jreq("POST", "/v1/ask", {"image_base64": base64.urlsafe_b64encode(data).decode()}), S(200) | S(400, "invalid_base64"))


@case("images/base64/missing-padding")
def _():
    data = img("png-gray") + b"\x00"  # length not a multiple of 3: padding needed
    expect(jreq("POST", "/v1/ask", {"image_base64": b64(data).rstrip("=")}), S(200) | S(400, "invalid_base64", "invalid_image"))


@case("images/base64/png-20000x20000")
def _():
    expect(jreq("POST", "/v1/ask", {"image_base64": b64(img("png-20000x20000"))}), img_spec("big", 200))


@case("images/base64/40mib-of-A")
def _():
    body = b'{"image_base64": "' + b"A" * (40 * MIB) + b'"}'
    expect(request("POST", "/v1/ask", body, ctype="application/json"), S(413, "body_too_large", "upload_too_large", "image_too_large"), max_ms=20000)


@case("images/base64/item-rgba16-4000x4000")
def _():
    expect(jreq("POST", f"/v1/collections/{coll('img64')}/items", {"image_base64": b64(img("png-rgba16-4000x4000")), "label": "deep"}),
           img_spec("ok_or_big", 201))


# ------------------------------- multipart ----------------------------------------------------

def mp_ask(body, ctype, **kw):
    return request("POST", "/v1/ask", body, ctype=ctype, **kw)


def gen_parts(n, size, name="f{i}", boundary=b"hxgenboundary"):
    """A streamed multipart body: `text` ("a cat"), then n parts of `size` bytes (never held whole)."""
    filler = b"x" * size
    first = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="text"\r\n\r\na cat\r\n'
    parts_head = [b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + enc(name.format(i=i)) + b'"\r\n\r\n' for i in range(n)]
    total = len(first) + sum(len(h) + size + 2 for h in parts_head) + len(b"--" + boundary + b"--\r\n")

    def it():
        yield first
        for h in parts_head:
            yield h + filler + b"\r\n"
        yield b"--" + boundary + b"--\r\n"
    return it(), total, "multipart/form-data; boundary=" + boundary.decode()


@case("multipart/no-boundary")
def _():
    body, _ = mp([("prompt", "hi")], boundary="abc")
    expect(mp_ask(body, "multipart/form-data"), S(400, "invalid_multipart"))


@case("multipart/empty-boundary-parameter")
def _():
    body, _ = mp([("prompt", "hi")], boundary="abc")
    expect(mp_ask(body, "multipart/form-data; boundary="), S(400, "invalid_multipart"))


@case("multipart/wrong-boundary")
def _():
    body, _ = mp([("prompt", "hi"), ("image", photo("chelsea.png"), "c.png", "image/png")], boundary="BBBBBB")
    expect(mp_ask(body, "multipart/form-data; boundary=AAAAAA"), S(400, "invalid_multipart", "empty_question"))


@case("multipart/wrong-boundary-items")
def _():
    body, _ = mp([("text", "hello")], boundary="BBBBBB")
    expect(request("POST", f"/v1/collections/{coll('mp')}/items", body, ctype="multipart/form-data; boundary=AAAAAA"),
           S(400, "invalid_multipart", "empty_item"))


@case("multipart/unterminated-body")
def _():
    body, ct = mp([("prompt", "hello"), ("image", photo("chelsea.png"), "c.png", "image/png")])
    body = body[: body.rfind(b"\r\n--")]  # no closing boundary
    expect(mp_ask(body, ct), S(400, "invalid_multipart"))


@case("multipart/unterminated-part-header")
def _():
    body = b'--zz\r\nContent-Disposition: form-data; name="prompt"\r\nX-Junk: 1'
    expect(mp_ask(body, "multipart/form-data; boundary=zz"), S(400, "invalid_multipart"))


@case("multipart/10000-parts-search")
def _():
    it, total, ct = gen_parts(10_000, 1)
    expect(request("POST", "/v1/search", it, ctype=ct, length=total), S(200) | S(400, "invalid_multipart") | S(413, "body_too_large", "too_many_parts"))


@case("multipart/10000-image-parts")
def _():
    dot = img("png-1x1")
    parts = [("image", dot, "d.png", "image/png")] * 10_000
    body, ct = mp(parts)
    expect(mp_ask(body, ct), S(200) | S(400, "invalid_multipart") | S(413, "body_too_large", "too_many_parts"))


@case("multipart/2mib-part-header-line")
def _():
    b = b"hxlong"
    body = (b"--" + b + b'\r\nContent-Disposition: form-data; name="prompt"; filename="' + b"A" * (2 * MIB) + b'"\r\n\r\nhi\r\n--' + b + b"--\r\n")
    expect(mp_ask(body, "multipart/form-data; boundary=hxlong"),
           S(400, "invalid_multipart") | S(413, "body_too_large", "field_too_large", "headers_too_large") | S(431, "headers_too_large"))


@case("multipart/1000-header-lines-in-part")
def _():
    b = b"hxmany"
    hdrs = b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
    body = b"--" + b + b'\r\nContent-Disposition: form-data; name="text"\r\n' + hdrs + b"\r\ncat\r\n--" + b + b"--\r\n"
    expect(request("POST", "/v1/search", body, ctype="multipart/form-data; boundary=hxmany"),
           S(200) | S(400, "invalid_multipart") | S(413, "body_too_large", "headers_too_large") | S(431, "headers_too_large"))


def stream_field(name, size, filename=None, prefix=b""):
    b = b"hxbig"
    head = b"--" + b + b'\r\nContent-Disposition: form-data; name="' + enc(name) + b'"'
    if filename:
        head += b'; filename="' + enc(filename) + b'"\r\nContent-Type: image/png'
    head += b"\r\n\r\n" + prefix
    tail = b"\r\n--" + b + b"--\r\n"
    total = len(head) + size + len(tail)
    block = b"\x00" * MIB

    def it():
        yield head
        left = size
        while left > 0:
            n = min(left, MIB)
            yield block[:n]
            left -= n
        yield tail
    return it(), total, "multipart/form-data; boundary=hxbig"


@case("multipart/64mib-image-field")
def _():
    it, total, ct = stream_field("image", 64 * MIB, "big.png", b"\x89PNG\r\n\x1a\n")
    expect(mp_ask(it, ct, length=total), S(413, "upload_too_large", "body_too_large", "image_too_large"), max_ms=20000)


@case("multipart/64mib-text-field")
def _():
    it, total, ct = stream_field("prompt", 64 * MIB)
    expect(mp_ask(it, ct, length=total), S(413, "field_too_large", "body_too_large"), max_ms=20000)


@case("multipart/64mib-item-image")
def _():
    it, total, ct = stream_field("image", 64 * MIB, "big.png", b"\x89PNG\r\n\x1a\n")
    expect(request("POST", f"/v1/collections/{coll('mp')}/items", it, ctype=ct, length=total),
           S(413, "upload_too_large", "body_too_large", "image_too_large"), max_ms=20000)


@case("multipart/26mib-image-just-over-limit")
def _():
    it, total, ct = stream_field("image", UPLOAD_LIMIT + MIB, "big.png", b"\x89PNG\r\n\x1a\n")
    expect(mp_ask(it, ct, length=total), S(413, "upload_too_large", "body_too_large", "image_too_large"), max_ms=20000)


@case("multipart/total-over-limit-two-20mib-images")
def _():
    b = b"hxtot"
    head = b"--" + b + b'\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
    sep = b"\r\n"
    tail = b"--" + b + b"--\r\n"
    each = 20 * MIB
    total = 2 * (len(head) + each + len(sep)) + len(tail)

    def it():
        for _ in range(2):
            yield head + b"\x89PNG\r\n\x1a\n"
            left = each - 8
            while left > 0:
                n = min(left, MIB)
                yield bytes(n)
                left -= n
            yield sep
        yield tail
    expect(mp_ask(it(), "multipart/form-data; boundary=hxtot", length=total),
           S(413, "body_too_large", "upload_too_large") | S(400, "invalid_multipart"), max_ms=30000)


@case("multipart/total-over-limit-image-plus-fields")
def _():
    # a 24.9 MiB image plus 30 text fields of 60 KiB: 26.7 MiB in all, over the 25 MiB upload limit
    b = b"hxtf"
    head = b"--" + b + b'\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
    big = UPLOAD_LIMIT - 100 * KIB
    fields = [b"\r\n--" + b + b'\r\nContent-Disposition: form-data; name="f%d"\r\n\r\n' % i + b"y" * (60 * KIB) for i in range(30)]
    tail = b"\r\n--" + b + b"--\r\n"
    total = len(head) + big + sum(len(f) for f in fields) + len(tail)

    def it():
        yield head + b"\x89PNG\r\n\x1a\n"
        left = big - 8
        while left > 0:
            n = min(left, MIB)
            yield bytes(n)
            left -= n
        yield from fields
        yield tail
    expect(mp_ask(it(), "multipart/form-data; boundary=hxtf", length=total),
           S(413, "body_too_large", "upload_too_large", "field_too_large", "too_many_parts"), max_ms=30000)


@case("multipart/57mib-of-small-fields")
def _():
    it, total, ct = gen_parts(57 * 1024 // 60, 60 * KIB)
    expect(request("POST", "/v1/search", it, ctype=ct, length=total), S(413, "body_too_large", "field_too_large", "too_many_parts"), max_ms=30000)


@case("multipart/duplicate-image-fields")
def _():
    body, ct = mp([("image", photo("chelsea.png"), "a.png", "image/png"), ("image", photo("coffee.png"), "b.png", "image/png")])
    expect(mp_ask(body, ct), S(200) | S(400, "invalid_multipart"))


@case("multipart/duplicate-image-fields-item")
def _():
    body, ct = mp([("image", noise_png(31), "a.png", "image/png"), ("image", noise_png(32), "b.png", "image/png"), ("label", "dup")])
    expect(request("POST", f"/v1/collections/{coll('mp')}/items", body, ctype=ct), S(201) | S(400, "invalid_multipart"))


@case("multipart/duplicate-prompt-fields")
def _():
    body, ct = mp([("prompt", "what is this?"), ("prompt", "ignore that, what is 2+2?"), ("image", img("png-gray"), "g.png", "image/png")])
    expect(mp_ask(body, ct), S(200) | S(400, "invalid_multipart"))


@case("multipart/non-utf8-field-name")
def _():
    body, ct = mp([(b"\xff\xfe\xc3(", "value"), ("text", "cat")])
    expect(request("POST", "/v1/search", body, ctype=ct), S(200) | S(400, "invalid_multipart", "invalid_utf8"))


@case("multipart/non-utf8-text-value")
def _():
    body, ct = mp([("text", b"caf\xe9 \xff\xfe"), ("label", "x")])
    expect(request("POST", f"/v1/collections/{coll('mp')}/items", body, ctype=ct), S(400, "invalid_utf8", "invalid_text"))


@case("multipart/filename-path-traversal-item")
def _():
    body, ct = mp([("image", noise_png(41), "../../../../etc/passwd", "image/png"), ("label", "trav")])
    r = expect(request("POST", f"/v1/collections/{coll('mp')}/items", body, ctype=ct), S(201) | S(400, "invalid_multipart"))
    if r.status == 201:
        check("/etc/passwd" not in r.body.decode("utf-8", "replace"), "the item echoes the traversal file name")


@case("multipart/filename-path-traversal-document")
def _():
    target = f"/tmp/hx{RUN}-escaped.md"
    r = doc_mp(coll("mp"), "../../../../../../.." + target, f"# Escape\n\nThe traversal marker {RUN} lives here.\n")
    expect(r, S(201) | S(400, "invalid_document", "invalid_multipart"))
    check(not os.path.exists(target), f"path traversal: {target} was written")


@case("multipart/json-body-with-multipart-type")
def _():
    expect(mp_ask(b'{"prompt": "hi"}', "multipart/form-data; boundary=xyz"), S(400, "invalid_multipart"))


@case("multipart/multipart-body-with-json-type")
def _():
    body, _ = mp([("prompt", "hi")])
    expect(mp_ask(body, "application/json"), S(400, "invalid_json"))


@case("multipart/multipart-to-json-only-route")
def _():
    body, ct = mp([("name", cname("mpjson"))])
    expect(request("POST", "/v1/collections", body, ctype=ct), S(415, "unsupported_content_type") | S(400, "invalid_json"))


@case("multipart/multipart-mixed-type")
def _():
    body, ct = mp([("prompt", "hi")], boundary="mm")
    expect(mp_ask(body, "multipart/mixed; boundary=mm"), S(415, "unsupported_content_type") | S(400, "invalid_multipart"))


@case("multipart/content-length-lies-bigger-then-close")
def _():
    body, ct = mp([("prompt", "hi"), ("image", photo("chelsea.png"), "c.png", "image/png")])
    head = build_head("POST", "/v1/ask", std_headers("POST", len(body) + 100_000, ADMIN, ct))
    s = connect()
    s.sendall(head + body)
    time.sleep(0.5)
    s.close()
    time.sleep(0.5)
    expect(get("/health", key=None, timeout=5), S(200))


@case("multipart/content-length-lies-bigger-then-half-close")
def _():
    body, ct = mp([("prompt", "hi")])
    head = build_head("POST", "/v1/ask", std_headers("POST", len(body) + 5000, ADMIN, ct))
    s = connect()
    s.sendall(head + body)
    s.shutdown(socket.SHUT_WR)
    r = record(read_response(s, time.monotonic() + 15, "POST", "POST /v1/ask (short body, FIN)"))
    s.close()
    # The form itself is complete (closing boundary sent), so answering it is acceptable too.
    expect(r, {CLOSED: None} | S(200) | S(400, "invalid_multipart", "invalid_body") | S(408, "request_timeout"))


@case("multipart/content-length-smaller-than-body")
def _():
    body, ct = mp([("prompt", "hi"), ("text", "x" * 1000)])
    expect(request("POST", "/v1/ask", body, ctype=ct, length=40), S(400, "invalid_multipart") | {CLOSED: None})


@case("multipart/part-without-content-disposition")
def _():
    body = b"--pp\r\nContent-Type: text/plain\r\n\r\nhello\r\n--pp--\r\n"
    expect(mp_ask(body, "multipart/form-data; boundary=pp"), S(400, "invalid_multipart", "empty_question"))


@case("multipart/content-disposition-without-name")
def _():
    body = b'--pp\r\nContent-Disposition: form-data; filename="a.png"\r\n\r\nhello\r\n--pp--\r\n'
    expect(mp_ask(body, "multipart/form-data; boundary=pp"), S(400, "invalid_multipart", "empty_question"))


@case("multipart/boundary-200-chars")
def _():
    body, ct = mp([("text", "cat")], boundary="b" * 200)
    expect(request("POST", "/v1/search", body, ctype=ct), S(200) | S(400, "invalid_multipart"))


@case("multipart/quoted-boundary")
def _():
    body, _ = mp([("text", "cat")], boundary="q-b:1")
    expect(request("POST", "/v1/search", body, ctype='multipart/form-data; boundary="q-b:1"'), S(200))


@case("multipart/empty-form")
def _():
    expect(mp_ask(b"--ee--\r\n", "multipart/form-data; boundary=ee"), S(400, "empty_question", "invalid_multipart"))


@case("multipart/preamble-and-epilogue")
def _():
    body, ct = mp([("text", "cat")], boundary="pe")
    body = b"This is a preamble.\r\n" + body + b"This is an epilogue.\r\n" * 10
    expect(request("POST", "/v1/search", body, ctype=ct), S(200))


@case("multipart/lf-only-line-endings")
def _():
    body = b'--lf\nContent-Disposition: form-data; name="text"\n\ncat\n--lf--\n'
    expect(request("POST", "/v1/search", body, ctype="multipart/form-data; boundary=lf"), S(200) | S(400, "invalid_multipart", "empty_query"))


@case("multipart/image-part-typed-text-plain")
def _():
    body, ct = mp([("image", img("png-gray-alpha"), "a.txt", "text/plain")])
    expect(mp_ask(body, ct), S(200) | S(415, "not_an_image", "unsupported_content_type"))


@case("multipart/base64-transfer-encoding-part")
def _():
    b = b"te"
    body = (b"--" + b + b'\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(noise_png(51)) + b"\r\n--" + b + b"--\r\n")
    expect(request("POST", f"/v1/collections/{coll('mp')}/items", body, ctype="multipart/form-data; boundary=te"),
           S(201) | S(400, "invalid_image", "invalid_multipart") | S(415, "not_an_image"))


@case("multipart/nested-multipart-mixed-part")
def _():
    inner = b"--in\r\nContent-Type: text/plain\r\n\r\ncat\r\n--in--\r\n"
    body = (b'--out\r\nContent-Disposition: form-data; name="text"\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n'
            + inner + b"\r\n--out--\r\n")
    expect(request("POST", "/v1/search", body, ctype="multipart/form-data; boundary=out"), S(200) | S(400, "invalid_multipart"))


@case("multipart/boundary-inside-data")
def _():
    body, ct = mp([("text", "cat --zb not a boundary --zb--"), ("label", "x")], boundary="zb")
    expect(request("POST", f"/v1/collections/{coll('mp')}/items", body, ctype=ct), S(201))


@case("multipart/top-k-not-a-number")
def _():
    body, ct = mp([("text", "cat"), ("top_k", "abc")])
    expect(request("POST", "/v1/search", body, ctype=ct), S(400, "invalid_top_k"))


@case("multipart/metadata-not-json")
def _():
    body, ct = mp([("text", "meta"), ("metadata", "{not json")])
    expect(request("POST", f"/v1/collections/{coll('mp')}/items", body, ctype=ct), S(400, "invalid_metadata"))


@case("multipart/unknown-collection-items")
def _():
    body, ct = mp([("text", "x")])
    expect(request("POST", f"/v1/collections/{cname('nope')}/items", body, ctype=ct), S(404, "collection_not_found", "unknown_collection"))


@case("multipart/5mib-prompt-field")
def _():
    body, ct = mp([("prompt", "why " * (5 * MIB // 4))])
    expect(mp_ask(body, ct), S(413, "field_too_large", "body_too_large") | S(400, "prompt_too_long", "field_too_long"))


@case("documents/json-instead-of-multipart")
def _():
    expect(jreq("POST", f"/v1/collections/{coll('doc')}/documents", {"file": "hello"}), S(415, "unsupported_content_type"))


@case("documents/two-files")
def _():
    body, ct = mp([("file", "# A\n\na", "a.md", "text/markdown"), ("file", "# B\n\nb", "b.md", "text/markdown")])
    expect(request("POST", f"/v1/collections/{coll('doc')}/documents", body, ctype=ct), S(400, "invalid_multipart"))


@case("documents/no-file-part")
def _():
    body, ct = mp([("x", "y")])
    expect(request("POST", f"/v1/collections/{coll('doc')}/documents", body, ctype=ct), S(400, "invalid_multipart"))


@case("documents/exe-file")
def _():
    expect(doc_mp(coll("doc"), "setup.exe", b"MZ\x90\x00" + os.urandom(2000)), S(415, "unsupported_document"))


@case("documents/empty-md")
def _():
    expect(doc_mp(coll("doc"), "empty.md", b""), S(400, "empty_document"))


@case("documents/21mib-md")
def _():
    it, total, ct = stream_field("file", 21 * MIB, "big.md")
    expect(request("POST", f"/v1/collections/{coll('doc')}/documents", it, ctype=ct, length=total),
           S(413, "document_too_large", "body_too_large"), max_ms=30000)


@case("documents/binary-named-md")
def _():
    expect(doc_mp(coll("doc"), "bin.md", random.Random(3).randbytes(8192)),
           S(400, "invalid_document", "invalid_utf8", "empty_document") | S(415, "unsupported_document"))


@case("documents/garbage-pdf")
def _():
    expect(doc_mp(coll("doc"), "x.pdf", b"%PDF-1.7\n" + random.Random(4).randbytes(4000)),
           S(400, "invalid_document", "empty_document") | S(415, "unsupported_document"))


@case("documents/md-with-nul-bytes")
def _():
    expect(doc_mp(coll("doc"), "nul.md", f"# Nul {RUN}\n\nbefore\x00after\x00\x00 text about zebras\n".encode()),
           S(201) | S(400, "invalid_document", "invalid_characters"))


@case("documents/html-with-script")
def _():
    html = f"<html><head><script>alert(1)</script></head><body><h1>Giraffes {RUN}</h1><p>Giraffes are tall.</p></body></html>"
    expect(doc_mp(coll("doc"), "g.html", html.encode()), S(201))


# ------------------------------- JSON ---------------------------------------------------------

JSON_CASES = [
    # name, method, path, body (bytes|obj), spec
    ("invalid-json-ask", "POST", "/v1/ask", b'{"prompt": ', S(400, "invalid_json")),
    ("invalid-json-collections", "POST", "/v1/collections", b"{name: 'x'}", S(400, "invalid_json")),
    ("array-body-ask", "POST", "/v1/ask", b"[1, 2, 3]", S(400, "invalid_json")),
    ("number-body-ask", "POST", "/v1/ask", b"42", S(400, "invalid_json")),
    ("null-body-ask", "POST", "/v1/ask", b"null", S(400, "invalid_json")),
    ("string-body-collections", "POST", "/v1/collections", b'"hello"', S(400, "invalid_json")),
    ("empty-body-ask", "POST", "/v1/ask", b"", S(400, "invalid_json")),
    ("empty-body-collections", "POST", "/v1/collections", b"", S(400, "invalid_json")),
    ("prompt-is-number", "POST", "/v1/ask", {"prompt": 123}, S(400, "invalid_json", "invalid_request")),
    ("collection-is-array", "POST", "/v1/ask", {"prompt": "hi", "collection": []}, S(400, "invalid_json", "invalid_request")),
    ("name-is-number", "POST", "/v1/collections", {"name": 5}, S(400, "invalid_json")),
    ("name-missing", "POST", "/v1/collections", {"description": "x"}, S(400, "invalid_json")),
    ("keys-scopes-string", "POST", "/v1/keys", {"scopes": "read"}, S(400, "invalid_json", "invalid_scopes")),
    ("keys-unknown-field", "POST", "/v1/keys", {"scopes": ["read"], "admin": True}, S(400, "invalid_json")),
    ("deep-nesting-100k-brackets", "POST", "/v1/ask", b"[" * 100_000, S(400, "invalid_json") | S(413, "body_too_large")),
    ("deep-nesting-100k-objects", "POST", "/v1/collections", b'{"a":' * 100_000, S(400, "invalid_json") | S(413, "body_too_large")),
    ("lone-surrogate-prompt", "POST", "/v1/ask", b'{"prompt": "\\ud800 what"}', S(400, "invalid_json", "invalid_characters")),
    ("lone-surrogate-name", "POST", "/v1/collections", b'{"name": "a\\udfff"}', S(400, "invalid_json", "invalid_collection_name")),
    ("nul-in-collection-name", "POST", "/v1/collections", {"name": "a\u0000b"}, S(400, "invalid_collection_name")),
    ("chinese-collection-name", "POST", "/v1/collections", {"name": "猫咪"}, S(400, "invalid_collection_name")),
    ("emoji-collection-name", "POST", "/v1/collections", {"name": "cats-🐱"}, S(400, "invalid_collection_name")),
    ("name-65-chars", "POST", "/v1/collections", {"name": "a" * 65}, S(400, "invalid_collection_name")),
    ("name-empty", "POST", "/v1/collections", {"name": ""}, S(400, "invalid_collection_name")),
    ("name-with-slash", "POST", "/v1/collections", {"name": "a/b"}, S(400, "invalid_collection_name")),
    ("name-dotdot", "POST", "/v1/collections", {"name": ".."}, S(400, "invalid_collection_name")),
    ("name-with-spaces", "POST", "/v1/collections", {"name": "my cats"}, S(400, "invalid_collection_name")),
    ("name-10k-chars", "POST", "/v1/collections", {"name": "a" * 10_000}, S(400, "invalid_collection_name")),
    ("top-k-zero", "POST", "/v1/search", {"text": "cat", "top_k": 0}, S(400, "invalid_top_k")),
    ("top-k-negative", "POST", "/v1/search", {"text": "cat", "top_k": -1}, S(400, "invalid_top_k")),
    ("top-k-1e9", "POST", "/v1/search", b'{"text": "cat", "top_k": 1e9}', S(400, "invalid_top_k")),
    ("top-k-huge-int", "POST", "/v1/search", b'{"text": "cat", "top_k": 100000000000000000000000}', S(400, "invalid_top_k", "invalid_json")),
    ("top-k-1e400", "POST", "/v1/search", b'{"text": "cat", "top_k": 1e400}', S(400, "invalid_top_k", "invalid_json")),
    ("top-k-string-5", "POST", "/v1/search", {"text": "cat", "top_k": "5"}, S(200)),
    ("top-k-fraction", "POST", "/v1/search", {"text": "cat", "top_k": 2.5}, S(400, "invalid_top_k")),
    ("top-k-ask-zero", "POST", "/v1/ask", {"prompt": "cat?", "top_k": 0}, S(400, "invalid_top_k")),
    ("mode-bogus", "POST", "/v1/ask", {"prompt": "hi", "mode": "bogus"}, S(400, "invalid_mode")),
    ("lang-fr", "POST", "/v1/ask", {"prompt": "hi", "lang": "fr"}, S(400, "invalid_language")),
    ("search-filter-number", "POST", "/v1/search", {"text": "cat", "filter": 5}, S(400, "invalid_filter")),
    ("search-filter-bogus-kind", "POST", "/v1/search", {"text": "cat", "filter": {"kind": "bogus"}}, S(400, "invalid_filter")),
    ("search-empty", "POST", "/v1/search", {}, S(400, "empty_query")),
    ("ask-unknown-collection", "POST", "/v1/ask", {"prompt": "hi", "collection": "hx-does-not-exist"}, S(404, "collection_not_found", "unknown_collection")),
    ("ask-unknown-conversation", "POST", "/v1/ask", {"prompt": "hi", "conversation_id": "nope-nope"}, S(404, "unknown_conversation") | S(400, "invalid_request")),
    ("chat-messages-missing", "POST", "/v1/chat/completions", {"model": "pyxa"}, S(400, "invalid_json", "invalid_message")),
    ("chat-messages-empty", "POST", "/v1/chat/completions", {"messages": []}, S(400, "empty_question", "invalid_message")),
    ("chat-role-bogus", "POST", "/v1/chat/completions", {"messages": [{"role": "wizard", "content": "hi"}]}, S(400, "invalid_message", "empty_question")),
    ("chat-content-number", "POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": 5}]}, S(400, "invalid_json", "invalid_message")),
    ("chat-image-url-metadata-ip", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest/meta-data/"}}]}]},
     S(400, "remote_images_disabled", "invalid_image_url")),
    ("chat-image-url-loopback", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": f"http://127.0.0.1:{PORT}/v1/keys"}}]}]},
     S(400, "remote_images_disabled", "invalid_image_url")),
    ("chat-image-url-file-scheme", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]},
     S(400, "invalid_image_url", "remote_images_disabled")),
    ("chat-image-url-data-text", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:text/plain;base64," + b64(b"hello world")}}]}]},
     S(415, "not_an_image") | S(400, "invalid_image", "invalid_image_url", "invalid_base64")),
    ("chat-stream-yes-string", "POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}, S(400, "invalid_json")),
    ("chat-unknown-model", "POST", "/v1/chat/completions", {"model": "hx-no-such-collection", "messages": [{"role": "user", "content": "hi"}]},
     S(404, "collection_not_found", "unknown_collection")),
    ("feedback-unknown-answer", "POST", "/v1/answers/00000000-0000-0000-0000-000000000000/feedback", {"correct": True}, S(404, "unknown_answer")),
    ("feedback-wrong-types", "POST", "/v1/answers/x/feedback", {"correct": "very", "label": 5}, S(400, "invalid_json")),
    ("keys-empty-scopes", "POST", "/v1/keys", {"scopes": []}, S(400, "invalid_scopes")),
]


def make_json_cases():
    for name, method, path, body, spec in JSON_CASES:
        def fn(method=method, path=path, body=body, spec=spec):
            expect(jreq(method, path, body, timeout=120), spec)
        add(f"json/{name}", fn)


make_json_cases()


@case("json/name-exactly-64-chars")
def _():
    n = (cname("n64") + "x" * 64)[:64]
    expect(jreq("POST", "/v1/collections", {"name": n}), S(201))


@case("json/name-uppercase")
def _():
    expect(jreq("POST", "/v1/collections", {"name": "HX" + RUN.upper()}), S(201) | S(400, "invalid_collection_name"))


@case("json/unknown-fields-create-collection")
def _():
    expect(jreq("POST", "/v1/collections", {"name": cname("unk"), "bogus": {"a": [1]}, "admin": True}), S(201) | S(400, "invalid_json"))


@case("json/duplicate-keys")
def _():
    body = '{"name": "%s", "name": "%s"}' % (cname("dupa"), cname("dupb"))
    expect(jreq("POST", "/v1/collections", body), S(201) | S(400, "invalid_json"))


@case("json/utf8-bom-prefix")
def _():
    body = b"\xef\xbb\xbf" + json.dumps({"text": "cat"}).encode()
    expect(request("POST", "/v1/search", body, ctype="application/json"), S(200) | S(400, "invalid_json"))


@case("json/utf16-charset-body")
def _():
    body = json.dumps({"text": "cat"}).encode("utf-16")
    expect(request("POST", "/v1/search", body, ctype="application/json; charset=utf-16"),
           S(400, "invalid_json") | S(415, "unsupported_content_type"))


@case("json/28mib-array-to-collections")
def _():
    n = 28 * MIB // 2
    body = b"[" + b"1," * (n - 1) + b"1]"
    expect(request("POST", "/v1/collections", body, ctype="application/json"), S(413, "body_too_large"), max_ms=10000)


@case("json/28mib-name-string")
def _():
    body = b'{"name": "' + b"a" * (28 * MIB) + b'"}'
    expect(request("POST", "/v1/collections", body, ctype="application/json"), S(413, "body_too_large"), max_ms=10000)


@case("json/5mib-prompt")
def _():
    expect(jreq("POST", "/v1/ask", {"prompt": "why " * (5 * MIB // 4)}, timeout=120),
           S(400, "prompt_too_long", "field_too_long") | S(413, "body_too_large", "field_too_large"), max_ms=20000)


@case("json/5mib-search-text")
def _():
    expect(jreq("POST", "/v1/search", {"text": "cat " * (5 * MIB // 4)}, timeout=120),
           S(200) | S(400, "field_too_long", "invalid_query", "invalid_text") | S(413, "body_too_large", "field_too_large"), max_ms=20000)


@case("json/5mib-item-text")
def _():
    expect(jreq("POST", f"/v1/collections/{coll('json')}/items", {"text": "word " * (MIB), "label": "long"}, timeout=120),
           S(201) | S(400, "field_too_long", "invalid_text") | S(413, "body_too_large", "field_too_large"), max_ms=30000)


@case("json/nul-in-prompt")
def _():
    expect(jreq("POST", "/v1/ask", {"prompt": "what\u0000is\u0000this"}), S(200) | S(400, "invalid_characters", "invalid_message", "invalid_request"))


@case("json/nul-in-item-label")
def _():
    expect(jreq("POST", f"/v1/collections/{coll('json')}/items", {"text": "nul label", "label": "a\u0000b"}), S(201) | S(400, "invalid_characters"))


@case("json/emoji-and-chinese-label-roundtrip")
def _():
    label = "猫咪 🐱 ½"
    r = expect(jreq("POST", f"/v1/collections/{coll('json')}/items", {"text": "一只可爱的猫 🐈", "label": label}), S(201))
    if r.status == 201:
        g = expect(get(f"/v1/collections/{coll('json')}/items/{r.json['id']}"), S(200))
        check(g.json and g.json.get("label") == label, f"label did not round-trip: {g.json and g.json.get('label')!r}")


@case("json/chinese-prompt")
def _():
    expect(jreq("POST", "/v1/ask", {"prompt": "这是什么动物? 🐱", "image_base64": b64(img("png-palette"))}, timeout=120), S(200))


@case("json/item-metadata-1mib")
def _():
    meta = {"k%d" % i: "v" * 1000 for i in range(1024)}
    expect(jreq("POST", f"/v1/collections/{coll('json')}/items", {"text": "meta big", "metadata": meta}),
           S(413, "metadata_too_large", "body_too_large") | S(400, "invalid_metadata"))


@case("json/item-metadata-array")
def _():
    expect(jreq("POST", f"/v1/collections/{coll('json')}/items", {"text": "meta arr", "metadata": [1, 2, 3]}), S(400, "invalid_metadata"))


@case("json/patch-settings-temperature-99")
def _():
    expect(jreq("PATCH", f"/v1/collections/{coll('json')}", {"settings": {"temperature": 99}}), S(400, "invalid_settings"))


@case("json/patch-settings-unknown")
def _():
    expect(jreq("PATCH", f"/v1/collections/{coll('json')}", {"settings": {"rm_rf": True}}), S(400, "invalid_settings"))


@case("json/patch-settings-array")
def _():
    expect(jreq("PATCH", f"/v1/collections/{coll('json')}", {"settings": [1, 2]}), S(400, "invalid_json", "invalid_settings"))


@case("json/chat-10000-messages")
def _():
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": "hello %d" % i} for i in range(10_000)]
    expect(jreq("POST", "/v1/chat/completions", {"messages": msgs}, timeout=120),
           S(200) | S(400, "invalid_message", "prompt_too_long") | S(413, "body_too_large"), max_ms=60000)


@case("json/content-type-text-plain")
def _():
    expect(request("POST", "/v1/collections", json.dumps({"name": cname("ctp")}), ctype="text/plain"), S(415, "unsupported_content_type"))


@case("json/no-content-type")
def _():
    expect(request("POST", "/v1/ask", json.dumps({"prompt": "hi"})), S(415, "unsupported_content_type") | S(400, "invalid_json"))


# ------------------------------- paths and methods --------------------------------------------

HEX64 = "ab" * 32

PATH_CASES = [
    # name, method, path, spec, with key
    ("unknown-route", "GET", "/nope", S(404, "route_not_found"), True),
    ("unknown-v1-route", "GET", "/v1/nope", S(404, "route_not_found"), True),
    ("unknown-v1-route-no-key", "GET", "/v1/nope", S(404, "route_not_found") | S(401, "api_key_required"), False),
    ("dotdot-encoded-root", "GET", "/%2e%2e/%2e%2e/etc/passwd", S(404, "route_not_found") | S(400, "invalid_path"), True),
    ("dotdot-encoded-collection", "GET", "/v1/collections/%2e%2e/items", S(404, "collection_not_found", "unknown_collection") | S(400, "invalid_collection_name", "invalid_path"), True),
    ("dotdot-raw-v1", "GET", "/v1/collections/../keys", S(404, "route_not_found", "collection_not_found", "unknown_collection") | S(400, "invalid_path"), True),
    ("encoded-slash-in-collection", "GET", "/v1/collections/a%2Fb/items", S(404, "collection_not_found", "unknown_collection") | S(400, "invalid_collection_name", "invalid_path"), True),
    ("blob-not-hex", "GET", "/v1/blobs/not-a-hash", S(400, "invalid_blob_id") | S(404, "unknown_blob"), False),
    ("blob-dotdot", "GET", "/v1/blobs/..%2F..%2Fetc%2Fpasswd", S(400, "invalid_blob_id", "invalid_path") | S(404, "unknown_blob", "route_not_found"), False),
    ("blob-unknown-64-hex", "GET", f"/v1/blobs/{HEX64}", S(404, "unknown_blob"), False),
    ("blob-unknown-thumbnail", "GET", f"/v1/blobs/{HEX64}/thumbnail", S(404, "unknown_blob"), False),
    ("blob-63-hex", "GET", f"/v1/blobs/{HEX64[:63]}", S(400, "invalid_blob_id") | S(404, "unknown_blob"), False),
    ("overlong-segment-100kb", "GET", "/v1/collections/" + "a" * 100_000 + "/items",
     S(400, "invalid_collection_name", "invalid_path", "invalid_request") | S(404, "collection_not_found", "unknown_collection") | S(414) | S(431, "headers_too_large"), True),
    ("percent-nul-in-collection", "GET", "/v1/collections/a%00b/items", S(400, "invalid_collection_name", "invalid_path") | S(404, "collection_not_found", "unknown_collection"), True),
    ("invalid-percent-encoding", "GET", "/v1/collections/%zz%/items", S(400, "invalid_path", "invalid_collection_name", "invalid_request") | S(404, "collection_not_found", "unknown_collection", "route_not_found"), True),
    ("put-collections", "PUT", "/v1/collections", S(405, "method_not_allowed"), True),
    ("patch-ask", "PATCH", "/v1/ask", S(405, "method_not_allowed"), True),
    ("delete-search", "DELETE", "/v1/search", S(405, "method_not_allowed"), True),
    ("delete-keys-collection", "DELETE", "/v1/keys", S(405, "method_not_allowed"), True),
    ("get-feedback", "GET", "/v1/answers/x/feedback", S(405, "method_not_allowed"), True),
    ("post-health", "POST", "/health", S(405, "method_not_allowed"), False),
    ("put-health", "PUT", "/health", S(405, "method_not_allowed"), False),
    ("delete-blob", "DELETE", f"/v1/blobs/{HEX64}", S(405, "method_not_allowed"), True),
    ("options-ask", "OPTIONS", "/v1/ask", S(200) | S(204) | S(405, "method_not_allowed"), True),
    ("trailing-slash-collections", "GET", "/v1/collections/", S(200) | S(404, "route_not_found"), True),
    ("trailing-slash-health", "GET", "/health/", S(200) | S(404, "route_not_found"), False),
    ("double-slashes", "GET", "//v1//collections", S(200) | S(404, "route_not_found"), True),
    ("query-10k-params", "GET", "/v1/collections?" + "&".join("p%d=%d" % (i, i) for i in range(10_000)), S(200) | S(400, "invalid_query", "invalid_request") | S(414) | S(431, "headers_too_large"), True),
    ("query-limit-abc", "GET", "/v1/collections/default/items?limit=abc", S(400, "invalid_query", "invalid_pagination"), True),
    ("query-limit-negative", "GET", "/v1/collections/default/items?limit=-1", S(400, "invalid_pagination", "invalid_query"), True),
    ("query-limit-huge", "GET", "/v1/collections/default/items?limit=100000000", S(400, "invalid_pagination", "invalid_query"), True),
    ("query-offset-negative", "GET", "/v1/collections/default/items?offset=-5", S(400, "invalid_pagination", "invalid_query"), True),
    ("query-offset-i64-max", "GET", "/v1/collections/default/items?offset=9223372036854775807", S(200) | S(400, "invalid_pagination", "invalid_query"), True),
    ("query-invalid-percent", "GET", "/v1/collections/default/items?label=%ff%fe%zz", S(200) | S(400, "invalid_query"), True),
    ("unknown-conversation", "GET", "/v1/conversations/does-not-exist", S(404, "unknown_conversation"), True),
    ("unknown-item", "GET", "/v1/collections/default/items/no-such-item", S(404, "item_not_found", "unknown_item") | S(400, "invalid_item_id"), True),
    ("unknown-document", "GET", "/v1/collections/default/documents/no-such-doc", S(404, "unknown_document"), True),
    ("delete-default-collection", "DELETE", "/v1/collections/default", S(409, "collection_protected"), True),
    ("delete-unknown-key", "DELETE", "/v1/keys/no-such-key", S(404, "unknown_api_key"), True),
    ("openapi", "GET", "/openapi.json", S(200), False),
    ("metrics", "GET", "/metrics", S(200), False),
]


def make_path_cases():
    for name, method, path, spec, with_key in PATH_CASES:
        def fn(method=method, path=path, spec=spec, with_key=with_key):
            expect(request(method, path, key=... if with_key else None), spec)
        add(f"paths/{name}", fn)


make_path_cases()


@case("paths/head-health")
def _():
    r = expect(request("HEAD", "/health", key=None), S(200))
    check(r.body == b"", f"HEAD /health sent a body of {len(r.body)} bytes")


@case("paths/head-collections")
def _():
    r = expect(request("HEAD", "/v1/collections"), S(200))
    check(r.body == b"", f"HEAD /v1/collections sent a body of {len(r.body)} bytes")


@case("paths/absolute-form-target")
def _():
    expect(raw(b"GET http://evil.example/health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
           S(200) | S(400) | S(404, "route_not_found"))


@case("paths/asterisk-target")
def _():
    expect(raw(b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), S(400) | S(404, "route_not_found") | {CLOSED: None})


@case("paths/http-1.0")
def _():
    expect(raw(b"GET /health HTTP/1.0\r\n\r\n"), S(200))


@case("paths/http2-preface")
def _():
    expect(raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00" * 30), S(400) | {CLOSED: None})


@case("paths/unknown-method")
def _():
    expect(raw(b"BREW /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), S(405, "method_not_allowed") | S(400) | S(404, "route_not_found"))


@case("paths/binary-request-line")
def _():
    expect(raw(bytes(range(256)) + b"\r\n\r\n"), S(400) | {CLOSED: None})


@case("paths/blob-by-hash-without-key")
def _():
    c = coll("blob")
    r = item_mp(c, noise_png(61), "n.png", label="blob")
    if check(r.status == 201, f"blob fixture: {r.desc()}"):
        url = r.json.get("image_url") or "/v1/blobs/missing-image-url"
        g = expect(get(url, key=None), S(200))
        check(g.body == noise_png(61), "the blob is not the uploaded photo")
        expect(get(r.json.get("thumbnail_url") or url + "/thumbnail", key=None), S(200), main=False)
        expect(request("HEAD", url, key=None), S(200), main=False)


# ------------------------------- headers ------------------------------------------------------

@case("headers/100kb-header")
def _():
    expect(get("/health", key=None, headers=[("X-Big", "a" * 100_000)]), S(431, "headers_too_large") | S(400, "headers_too_large"))


@case("headers/500-headers")
def _():
    hs = [("X-H%d" % i, "v") for i in range(500)]
    expect(get("/health", key=None, headers=hs), S(431, "headers_too_large") | S(400, "headers_too_large", "invalid_request"))


@case("headers/host-evil")
def _():
    expect(get("/v1/collections", headers=[("Host", "evil.example")]), S(200) | S(400) | S(403, "untrusted_host"))


@case("headers/no-host")
def _():
    expect(raw(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"), S(200) | S(400))


@case("headers/origin-evil-on-post")
def _():
    expect(jreq("POST", "/v1/collections", {"name": cname("origin")}, headers=[("Origin", "http://evil.example")]), S(403, "cross_origin_request"))


@case("headers/origin-null-on-post")
def _():
    expect(jreq("POST", "/v1/collections", {"name": cname("onull")}, headers=[("Origin", "null")]), S(403, "cross_origin_request"))


@case("headers/auth-bearer-without-token")
def _():
    expect(get("/v1/collections", key=None, headers=[("Authorization", "Bearer")]), S(401, "api_key_required", "invalid_api_key"))


@case("headers/auth-basic")
def _():
    expect(get("/v1/collections", key=None, headers=[("Authorization", "Basic " + b64(b"admin:" + ADMIN.encode()))]),
           S(401, "api_key_required", "invalid_api_key"))


@case("headers/auth-very-long-token")
def _():
    expect(get("/v1/collections", key="k" * 60_000), S(401, "invalid_api_key") | S(431, "headers_too_large"))


@case("headers/auth-non-ascii-token")
def _():
    expect(get("/v1/collections", key=None, headers=[("Authorization", "Bearer cl\u00e9-\u732b".encode("utf-8"))]), S(401, "invalid_api_key", "api_key_required"))


@case("headers/auth-latin1-token")
def _():
    expect(get("/v1/collections", key=None, headers=[("Authorization", b"Bearer \xe9\xff\xfe")]), S(401, "invalid_api_key", "api_key_required"))


@case("headers/two-authorization-headers")
def _():
    expect(get("/v1/collections", key=None, headers=[("Authorization", "Bearer wrong"), ("Authorization", "Bearer " + ADMIN)]),
           S(400) | S(401, "invalid_api_key") | S(200))


@case("headers/content-length-non-numeric")
def _():
    expect(raw(build_head("POST", "/v1/search", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Content-Length", "abc"),
                                                    ("Authorization", "Bearer " + ADMIN), ("Connection", "close")]) + b"{}"),
           S(400) | {CLOSED: None})


@case("headers/content-length-negative")
def _():
    expect(raw(build_head("POST", "/v1/search", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Content-Length", "-5"),
                                                    ("Authorization", "Bearer " + ADMIN), ("Connection", "close")]) + b"{}"),
           S(400) | {CLOSED: None})


@case("headers/two-different-content-lengths")
def _():
    expect(raw(build_head("POST", "/v1/search", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Content-Length", "2"),
                                                    ("Content-Length", "20"), ("Authorization", "Bearer " + ADMIN), ("Connection", "close")]) + b"{}"),
           S(400) | {CLOSED: None})


@case("headers/chunked-malformed-chunk")
def _():
    expect(raw(build_head("POST", "/v1/search", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
                                                    ("Authorization", "Bearer " + ADMIN), ("Connection", "close")]) + b"zz\r\n{}\r\n0\r\n\r\n"),
           S(400, "invalid_body", "invalid_json", "invalid_request") | {CLOSED: None})


@case("headers/chunked-huge-chunk-size")
def _():
    expect(raw(build_head("POST", "/v1/search", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
                                                    ("Authorization", "Bearer " + ADMIN), ("Connection", "close")]) + b"ffffffffffffffffff\r\n{}"),
           S(400) | S(413, "body_too_large") | {CLOSED: None})


@case("headers/chunked-and-content-length")
def _():
    expect(raw(build_head("POST", "/v1/search", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
                                                    ("Content-Length", "4"), ("Authorization", "Bearer " + ADMIN), ("Connection", "close")])
               + b'10\r\n{"text": "cat"}\r\n0\r\n\r\n'),
           S(200) | S(400) | {CLOSED: None})


@case("headers/transfer-encoding-gzip")
def _():
    expect(raw(build_head("POST", "/v1/search", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Transfer-Encoding", "gzip"),
                                                    ("Authorization", "Bearer " + ADMIN), ("Connection", "close")]) + b"{}"),
           S(400) | S(411) | S(415) | {CLOSED: None})


@case("headers/expect-100-continue")
def _():
    expect(jreq("POST", "/v1/search", {"text": "cat"}, headers=[("Expect", "100-continue")]), S(200))


@case("headers/expect-100-continue-without-key")
def _():
    body = json.dumps({"name": cname("e100")}).encode()
    head = build_head("POST", "/v1/collections", [("Host", HOSTHDR), ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                                   ("Expect", "100-continue"), ("Connection", "close")])
    s = connect()
    s.sendall(head)
    r = record(read_response(s, time.monotonic() + 5, "POST", "POST /v1/collections (Expect, no body yet)"))
    s.close()
    expect(r, S(401, "api_key_required"), max_ms=5000)


@case("headers/expect-unknown")
def _():
    expect(jreq("POST", "/v1/search", {"text": "cat"}, headers=[("Expect", "teapot")]), S(200) | S(417))


@case("headers/header-without-colon")
def _():
    expect(raw(b"GET /health HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\nConnection: close\r\n\r\n"), S(400) | {CLOSED: None})


@case("headers/nul-in-header-value")
def _():
    expect(raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n"), S(400) | {CLOSED: None})


@case("headers/obs-fold")
def _():
    expect(raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\nConnection: close\r\n\r\n"), S(200) | S(400) | {CLOSED: None})


@case("headers/content-type-1000-params")
def _():
    ct = "application/json" + "".join("; p%d=v" % i for i in range(1000))
    expect(request("POST", "/v1/search", json.dumps({"text": "cat"}), ctype=ct), S(200) | S(400) | S(415, "unsupported_content_type"))


@case("headers/range-on-blob")
def _():
    c = coll("blob")
    r = item_mp(c, noise_png(71), "n.png", label="range")
    if check(r.status == 201, f"blob fixture: {r.desc()}"):
        url = r.json.get("image_url") or "/v1/blobs/missing-image-url"
        expect(get(url, key=None, headers=[("Range", "bytes=999999999-")]), S(200) | S(206) | S(416))


# ------------------------------- keys and scopes ----------------------------------------------

def KA():
    return coll("ka")


def KB():
    return coll("kb")


def kread():
    return key("read", ["read"])[1]


def kask():
    return key("ask", ["ask"])[1]


def klimited():
    return key("limited", ["read", "ask", "write"], [KA()])[1]


@case("keys/no-key")
def _():
    expect(get("/v1/collections", key=None), S(401, "api_key_required"))


@case("keys/wrong-key")
def _():
    expect(get("/v1/collections", key="pyxa-definitely-not-a-key"), S(401, "invalid_api_key"))


@case("keys/key-in-query-string")
def _():
    expect(get("/v1/collections?api_key=" + urllib.parse.quote(ADMIN), key=None), S(401, "api_key_required"))


@case("keys/x-api-key-header")
def _():
    expect(get("/v1/collections", key=None, headers=[("X-Api-Key", ADMIN)]), S(200))


@case("keys/create-key")
def _():
    r = expect(jreq("POST", "/v1/keys", {"scopes": ["read"], "collections": [KA()]}), S(201))
    if r.status == 201:
        j = r.json or {}
        check(isinstance(j.get("id"), str) and isinstance(j.get("key"), str) and j.get("id") != j.get("key"), f"created key lacks id/key: {j}")


@case("keys/invalid-scope")
def _():
    expect(jreq("POST", "/v1/keys", {"scopes": ["read", "root"]}), S(400, "invalid_scopes"))


@case("keys/read-key-can-list")
def _():
    expect(get("/v1/collections", key=kread()), S(200))


@case("keys/read-key-can-search")
def _():
    expect(jreq("POST", "/v1/search", {"text": "cat", "collection": KA()}, key=kread()), S(200))


@case("keys/read-key-cannot-create-collection")
def _():
    expect(jreq("POST", "/v1/collections", {"name": cname("rk")}, key=kread()), S(403, "scope_denied"))


@case("keys/read-key-cannot-delete-collection")
def _():
    expect(request("DELETE", f"/v1/collections/{KA()}", key=kread()), S(403, "scope_denied"))


@case("keys/read-key-cannot-add-item")
def _():
    expect(jreq("POST", f"/v1/collections/{KA()}/items", {"text": "nope"}, key=kread()), S(403, "scope_denied"))


@case("keys/read-key-cannot-delete-item")
def _():
    iid = fixture("item:ka", lambda: text_item(KA(), "an item of collection A"))
    expect(request("DELETE", f"/v1/collections/{KA()}/items/{iid}", key=kread()), S(403, "scope_denied"))


@case("keys/read-key-cannot-post-feedback")
def _():
    expect(jreq("POST", f"/v1/answers/{admin_answer()}/feedback", {"correct": True}, key=kread()), S(403, "scope_denied"))


@case("keys/read-key-cannot-ask")
def _():
    expect(jreq("POST", "/v1/ask", {"prompt": "hi"}, key=kread()), S(403, "scope_denied"))


@case("keys/ask-key-can-ask")
def _():
    expect(jreq("POST", "/v1/ask", {"prompt": "What is a cat?"}, key=kask(), timeout=120), S(200))


@case("keys/ask-key-cannot-add-item")
def _():
    expect(jreq("POST", f"/v1/collections/{KA()}/items", {"text": "nope"}, key=kask()), S(403, "scope_denied"))


@case("keys/ask-key-cannot-patch-collection")
def _():
    expect(jreq("PATCH", f"/v1/collections/{KA()}", {"description": "pwned"}, key=kask()), S(403, "scope_denied"))


@case("keys/limited-key-list-items-other-collection")
def _():
    expect(get(f"/v1/collections/{KB()}/items", key=klimited()), S(403, "collection_denied"))


@case("keys/limited-key-search-other-collection")
def _():
    expect(jreq("POST", "/v1/search", {"text": "cat", "collection": KB()}, key=klimited()), S(403, "collection_denied"))


@case("keys/limited-key-search-default-collection")
def _():
    expect(jreq("POST", "/v1/search", {"text": "cat"}, key=klimited()), S(403, "collection_denied"))


@case("keys/limited-key-ask-other-collection")
def _():
    expect(jreq("POST", "/v1/ask", {"prompt": "hi", "collection": KB()}, key=klimited()), S(403, "collection_denied"))


@case("keys/limited-key-chat-other-collection")
def _():
    expect(jreq("POST", "/v1/chat/completions", {"model": KB(), "messages": [{"role": "user", "content": "hi"}]}, key=klimited()),
           S(403, "collection_denied"))


@case("keys/limited-key-own-collection-and-listing")
def _():
    expect(get(f"/v1/collections/{KA()}/items", key=klimited()), S(200))
    KB()
    r = expect(get("/v1/collections", key=klimited()), S(200))
    if r.status == 200:
        names = [c.get("name") for c in (r.json or {}).get("collections", [])]
        check(KB() not in names and "default" not in names, f"limited key lists other collections: {names}")


@case("keys/limited-key-models-list-hides-others")
def _():
    KB()
    r = expect(get("/v1/models", key=klimited()), S(200))
    if r.status == 200:
        ids = [m.get("id") for m in (r.json or {}).get("data", [])]
        check(KB() not in ids, f"/v1/models shows a collection the key may not use: {KB()}")


@case("keys/limited-key-cannot-create-other-collection")
def _():
    expect(jreq("POST", "/v1/collections", {"name": cname("kb-created")}, key=klimited()), S(403, "collection_denied"))


@case("keys/limited-key-cannot-delete-other-collection")
def _():
    expect(request("DELETE", f"/v1/collections/{KB()}", key=klimited()), S(403, "collection_denied"))


@case("keys/limited-key-percent-encoded-other-collection")
def _():
    enc_b = "".join("%%%02X" % ord(ch) for ch in KB())
    expect(get(f"/v1/collections/{enc_b}/items", key=klimited()), S(403, "collection_denied") | S(404, "collection_not_found", "unknown_collection"))


@case("keys/limited-key-dotdot-to-other-collection")
def _():
    expect(get(f"/v1/collections/{KA()}/../{KB()}/items", key=klimited()),
           S(403, "collection_denied") | S(404, "route_not_found", "collection_not_found", "unknown_collection") | S(400, "invalid_path"))


@case("keys/read-key-percent-encoded-keys-route")
def _():
    expect(get("/v1/%6Beys", key=kread()), S(403, "scope_denied") | S(404, "route_not_found"))


@case("keys/teach-key-can-post-feedback")
def _():
    expect(jreq("POST", f"/v1/answers/{admin_answer()}/feedback", {"label": "hostile-noise"}, key=key("teach", ["teach"])[1]),
           S(200) | S(409, "duplicate_feedback"))


@case("keys/revoked-key")
def _():
    kid, secret = new_key(["read"])
    expect(get("/v1/collections", key=secret), S(200), main=False)
    expect(request("DELETE", f"/v1/keys/{kid}"), S(204), main=False)
    expect(get("/v1/collections", key=secret), S(401, "invalid_api_key"))


@case("keys/non-admin-key-cannot-list-keys")
def _():
    k = key("allbutadmin", ["read", "ask", "write", "teach"])[1]
    expect(get("/v1/keys", key=k), S(403, "scope_denied"))


@case("keys/non-admin-key-cannot-create-key")
def _():
    k = key("allbutadmin", ["read", "ask", "write", "teach"])[1]
    expect(jreq("POST", "/v1/keys", {"scopes": ["admin"]}, key=k), S(403, "scope_denied"))


@case("keys/non-admin-key-cannot-revoke")
def _():
    k = key("allbutadmin", ["read", "ask", "write", "teach"])[1]
    kid = key("read", ["read"])[0]
    expect(request("DELETE", f"/v1/keys/{kid}", key=k), S(403, "scope_denied"))


@case("keys/admin-scoped-key-lists-without-secrets")
def _():
    k = key("adminscope", ["admin"])[1]
    r = expect(get("/v1/keys", key=k), S(200))
    check(k not in r.body.decode("utf-8", "replace") and kread() not in r.body.decode("utf-8", "replace"), "GET /v1/keys shows key secrets")


def conv_keys():
    def make():
        k1 = new_key(["ask", "read", "teach"])[1]
        k2 = new_key(["ask", "read", "teach"])[1]
        r = jreq("POST", "/v1/ask", {"prompt": "Tell me about zebras.", "image_base64": b64(noise_png(81))}, key=k1, timeout=120)
        check(r.status == 200, f"fixture: ask with key 1: {r.desc()}")
        j = r.json or {}
        return k1, k2, j.get("conversation_id", "none"), j.get("answer_id", "none")
    return fixture("conv", make)


@case("keys/conversation-hidden-from-other-key-list")
def _():
    k1, k2, cid, _aid = conv_keys()
    r = expect(get("/v1/conversations", key=k2), S(200))
    check(cid not in r.body.decode(), "another key's conversation is listed")
    r1 = expect(get("/v1/conversations", key=k1), S(200), main=False)
    check(cid in r1.body.decode(), "the key's own conversation is not listed")


@case("keys/conversation-get-by-other-key")
def _():
    k1, k2, cid, _aid = conv_keys()
    expect(get(f"/v1/conversations/{cid}", key=k1), S(200), main=False)
    expect(get(f"/v1/conversations/{cid}", key=k2), S(404, "unknown_conversation"))


@case("keys/conversation-continued-by-other-key")
def _():
    k1, k2, cid, _aid = conv_keys()
    expect(jreq("POST", "/v1/ask", {"prompt": "And what do they eat?", "conversation_id": cid}, key=k2, timeout=120), S(404, "unknown_conversation"))


@case("keys/feedback-on-other-keys-answer")
def _():
    k1, k2, cid, aid = conv_keys()
    expect(jreq("POST", f"/v1/answers/{aid}/feedback", {"label": "not-a-zebra"}, key=k2), S(404, "unknown_answer"))


# ------------------------------- races --------------------------------------------------------

@case("races/8-concurrent-asks-same-new-photo")
def _():
    p = noise_png(101, 80, 80)
    rs = par([lambda: ask_mp(p, "new.png", extra=[("prompt", "what is this?")]) for _ in range(8)])
    for i, r in enumerate(rs):
        if r is None:
            fail(f"ask {i} did not finish")
        else:
            expect(r, S(200), what=f"ask {i}")


@case("races/8-concurrent-uploads-same-photo")
def _():
    c = coll("race-up")
    p = noise_png(102, 72, 72)
    rs = par([lambda: item_mp(c, p, "same.png", label="same") for _ in range(8)])
    created = [r for r in rs if r is not None and r.status == 201]
    for i, r in enumerate(rs):
        if r is None:
            fail(f"upload {i} did not finish")
        else:
            expect(r, S(201) | S(409, "duplicate_item"), what=f"upload {i}")
    check(len(created) >= 1, "no upload succeeded")
    ids = {r.json.get("id") for r in created if r.json}
    check(len(ids) <= 1, f"the same photo was stored {len(ids)} times")
    lst = expect(get(f"/v1/collections/{c}/items"), S(200), main=False)
    check(lst.json and lst.json.get("total") == 1, f"the collection holds {lst.json and lst.json.get('total')} items, not 1")


@case("races/concurrent-create-same-collection")
def _():
    n = cname("race-create")
    rs = par([lambda: jreq("POST", "/v1/collections", {"name": n}) for _ in range(8)])
    for i, r in enumerate(rs):
        if r is not None:
            expect(r, S(201) | S(409, "collection_exists"), what=f"create {i}")
    check(sum(1 for r in rs if r is not None and r.status == 201) == 1, "not exactly one create succeeded")


@case("races/concurrent-create-and-delete-collection")
def _():
    n = cname("race-cd")

    def worker(i):
        out = []
        for j in range(6):
            if (i + j) % 2 == 0:
                out.append(jreq("POST", "/v1/collections", {"name": n}))
            else:
                out.append(request("DELETE", f"/v1/collections/{n}"))
        return out
    rs = par([lambda i=i: worker(i) for i in range(8)])
    ok = S(201) | S(204) | S(404, "collection_not_found", "unknown_collection") | S(409, "collection_exists", "collection_gone")
    for lst in rs:
        for r in lst or []:
            expect(r, ok, main=False)
    g = get(f"/v1/collections/{n}")
    expect(g, S(200) | S(404, "collection_not_found", "unknown_collection"))
    if g.status == 404:
        expect(jreq("POST", "/v1/collections", {"name": n}), S(201), main=False)
    expect(get(f"/v1/collections/{n}/items"), S(200), main=False)
    expect(jreq("POST", f"/v1/collections/{n}/items", {"text": "after the storm", "label": "x"}), S(201), main=False)
    expect(jreq("POST", "/v1/search", {"text": "after the storm", "collection": n}), S(200))


@case("races/concurrent-delete-same-item")
def _():
    c = coll("race-del")
    iid = text_item(c, "delete me many times")
    rs = par([lambda: request("DELETE", f"/v1/collections/{c}/items/{iid}") for _ in range(8)])
    for i, r in enumerate(rs):
        if r is not None:
            expect(r, S(204) | S(404, "item_not_found", "unknown_item"), what=f"delete {i}")
    check(sum(1 for r in rs if r is not None and r.status == 204) >= 1, "no delete succeeded")
    expect(get(f"/v1/collections/{c}/items/{iid}"), S(404, "item_not_found", "unknown_item"))


@case("races/concurrent-same-document")
def _():
    c = coll("race-doc")
    text = f"# Okapis {RUN}\n\nThe okapi is a giraffid native to the Congo. It has striped legs.\n\nOkapis eat leaves.\n"
    rs = par([lambda: doc_mp(c, "okapi.md", text.encode()) for _ in range(6)])
    for i, r in enumerate(rs):
        if r is not None:
            expect(r, S(201) | S(409, "duplicate_document"), what=f"document {i}")
    lst = expect(get(f"/v1/collections/{c}/documents"), S(200))
    n = len((lst.json or {}).get("documents", []))
    check(n == 1, f"the same document is listed {n} times")


@case("races/concurrent-feedback-same-answer")
def _():
    r = ask_mp(noise_png(111, 40, 40))
    if not check(r.status == 200, f"fixture ask: {r.desc()}"):
        return
    aid = r.json["answer_id"]
    rs = par([lambda: jreq("POST", f"/v1/answers/{aid}/feedback", {"label": "noise-" + RUN}) for _ in range(6)])
    for i, x in enumerate(rs):
        if x is not None:
            expect(x, S(200) | S(409, "duplicate_feedback", "duplicate_item"), what=f"feedback {i}")
    check(any(x is not None and x.status == 200 for x in rs), "no feedback succeeded")


@case("races/delete-collection-during-uploads")
def _():
    n = cname("race-gone")
    expect(jreq("POST", "/v1/collections", {"name": n}), S(201), main=False)
    fns = [lambda i=i: item_mp(n, noise_png(120 + i), "g.png", label="gone") for i in range(6)]
    fns.append(lambda: (time.sleep(0.05), request("DELETE", f"/v1/collections/{n}"))[1])
    rs = par(fns)
    for i, r in enumerate(rs):
        if r is not None:
            expect(r, S(201) | S(204) | S(404, "collection_not_found", "unknown_collection") | S(409, "collection_gone"), what=f"op {i}")
    expect(jreq("POST", "/v1/collections", {"name": n}), S(201) | S(409, "collection_exists"), main=False)
    lst = expect(get(f"/v1/collections/{n}/items"), S(200))
    items = (lst.json or {}).get("items", [])
    created = sum(1 for r in rs[:-1] if r is not None and r.status == 201)
    check(len(items) <= created, f"the re-created collection holds {len(items)} items but only {created} uploads succeeded")
    for it in items:
        expect(get(f"/v1/collections/{n}/items/{it['id']}"), S(200), main=False)
    expect(jreq("POST", "/v1/search", {"text": "gone", "collection": n}), S(200), main=False)


@case("races/concurrent-key-revoke")
def _():
    kid, secret = new_key(["read"])
    rs = par([lambda: request("DELETE", f"/v1/keys/{kid}") for _ in range(6)])
    for i, r in enumerate(rs):
        if r is not None:
            expect(r, S(204) | S(404, "unknown_api_key"), what=f"revoke {i}")
    expect(get("/v1/collections", key=secret), S(401, "invalid_api_key"))


@case("races/24-concurrent-asks-queue")
def _():
    rs = par([lambda i=i: jreq("POST", "/v1/ask", {"prompt": f"Name an animal, #{i}"}, timeout=180) for i in range(24)], timeout=240)
    for i, r in enumerate(rs):
        if r is None:
            fail(f"ask {i} did not finish")
        else:
            expect(r, S(200) | S(429, "overloaded"), what=f"ask {i}")


@case("races/30-concurrent-searches")
def _():
    rs = par([lambda: jreq("POST", "/v1/search", {"text": "a cat on a sofa"}) for _ in range(30)])
    for i, r in enumerate(rs):
        if r is not None:
            expect(r, S(200) | S(429, "overloaded"), what=f"search {i}")


# ------------------------------- cancelled uploads --------------------------------------------

def send_partial(method, path, body, ctype, frac=0.5, rst=False, key_=...):
    head = build_head(method, path, std_headers(method, len(body), ADMIN if key_ is ... else key_, ctype))
    s = connect()
    try:
        s.sendall(head + body[: int(len(body) * frac)])
        time.sleep(0.3)
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()
    time.sleep(0.5)


def search_finds(c, image=None, text=None, item_id=None, doc_id=None):
    q = {"collection": c, "top_k": 3}
    if image is not None:
        q["image_base64"] = b64(image)
    if text is not None:
        q["text"] = text
    r = expect(jreq("POST", "/v1/search", q), S(200), main=False)
    hits = (r.json or {}).get("hits", [])
    if item_id:
        check(hits and hits[0].get("item_id") == item_id, f"search does not find item {item_id} first: {[h.get('item_id') for h in hits]}")
    if doc_id:
        check(any((h.get("document") or {}).get("id") == doc_id for h in hits), f"search does not find document {doc_id}")


def cancelled_item(tag, seed, rst=False, frac=0.5):
    c = coll(tag)
    p = noise_png(seed, 64, 64)
    body, ct = mp([("image", p, "cancel.png", "image/png"), ("label", "cancelled")])
    send_partial("POST", f"/v1/collections/{c}/items", body, ct, frac, rst)
    r = expect(request("POST", f"/v1/collections/{c}/items", body, ctype=ct), S(201))
    if r.status == 201:
        search_finds(c, image=p, item_id=r.json["id"])
    lst = expect(get(f"/v1/collections/{c}/items"), S(200), main=False)
    check((lst.json or {}).get("total") == 1, f"after a cancelled upload the collection holds {(lst.json or {}).get('total')} items, not 1")


@case("cancel/item-half-then-close")
def _():
    cancelled_item("cx1", 201)


@case("cancel/item-half-then-rst")
def _():
    cancelled_item("cx2", 202, rst=True)


@case("cancel/item-99pct-then-close")
def _():
    cancelled_item("cx3", 203, frac=0.99)


@case("cancel/item-json-base64-half-then-close")
def _():
    c = coll("cx4")
    p = noise_png(204, 64, 64)
    body = json.dumps({"image_base64": b64(p), "label": "cancelled json"}).encode()
    send_partial("POST", f"/v1/collections/{c}/items", body, "application/json")
    r = expect(jreq("POST", f"/v1/collections/{c}/items", body), S(201))
    if r.status == 201:
        search_finds(c, image=p, item_id=r.json["id"])


@case("cancel/item-full-body-close-before-response")
def _():
    c = coll("cx5")
    p = noise_png(205, 64, 64)
    body, ct = mp([("image", p, "c.png", "image/png"), ("label", "early close")])
    send_partial("POST", f"/v1/collections/{c}/items", body, ct, frac=1.0)
    time.sleep(2)
    r = expect(request("POST", f"/v1/collections/{c}/items", body, ctype=ct), S(201) | S(409, "duplicate_item"))
    lst = expect(get(f"/v1/collections/{c}/items"), S(200), main=False)
    items = (lst.json or {}).get("items", [])
    check(len(items) == 1, f"the photo is stored {len(items)} times after an early close")
    if items:
        search_finds(c, image=p, item_id=items[0]["id"])
    del r


def cancelled_document(tag, frac):
    c = coll(tag)
    text = f"# Pangolins {tag} {RUN}\n\nPangolins are scaly mammals that eat ants and termites.\n\nThey roll into a ball.\n"
    body, ct = mp([("file", text.encode(), "pangolin.md", "text/markdown")])
    send_partial("POST", f"/v1/collections/{c}/documents", body, ct, frac)
    if frac >= 1.0:
        time.sleep(3)
    r = expect(request("POST", f"/v1/collections/{c}/documents", body, ctype=ct, timeout=180),
               S(201) | (S(409, "duplicate_document") if frac >= 1.0 else {}))
    lst = expect(get(f"/v1/collections/{c}/documents"), S(200), main=False)
    docs = (lst.json or {}).get("documents", [])
    check(len(docs) == 1, f"{len(docs)} documents listed after a cancelled upload")
    if docs:
        search_finds(c, text="Which mammals are scaly and eat ants?", doc_id=docs[0]["id"])
    del r


@case("cancel/document-half-then-close")
def _():
    cancelled_document("cd1", 0.5)


@case("cancel/document-full-body-close-before-response")
def _():
    cancelled_document("cd2", 1.0)


def stream_first_event_then_close(head_body, what):
    s = connect()
    s.sendall(head_body)
    rd = Reader(s, time.monotonic() + 60)
    got = None
    try:
        head = rd.until(b"\r\n\r\n")
        if head is not None:
            got = head.split(b"\r\n")[0]
            rd.until(b"\n\n")
    except (socket.timeout, OSError):
        pass
    s.close()
    check(got is not None and b" 200 " in got, f"{what}: stream did not start: {got!r}")


@case("cancel/ask-stream-disconnect-x3")
def _():
    for i in range(3):
        body, ct = mp([("image", photo("coffee.png"), "coffee.png", "image/png"), ("prompt", "Describe this in detail."), ("stream", "true")])
        stream_first_event_then_close(build_head("POST", "/v1/ask", std_headers("POST", len(body), ADMIN, ct)) + body, f"stream {i}")
    expect(ask_mp(photo("rocket.jpg"), "rocket.jpg", extra=[("prompt", "what is this?")]), S(200), max_ms=60000)


@case("cancel/chat-stream-disconnect-x3")
def _():
    for i in range(3):
        body = json.dumps({"stream": True, "messages": [{"role": "user", "content": "Write a long story about a cat. %d" % i}]}).encode()
        stream_first_event_then_close(build_head("POST", "/v1/chat/completions", std_headers("POST", len(body), ADMIN, "application/json")) + body,
                                      f"chat stream {i}")
    expect(jreq("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "Say hi."}]}, timeout=120), S(200), max_ms=60000)


@case("cancel/ask-sent-then-close-x4")
def _():
    for i in range(4):
        body, ct = mp([("image", noise_png(210 + i), "n.png", "image/png"), ("prompt", "what is this?")])
        send_partial("POST", "/v1/ask", body, ct, frac=1.0)
    expect(ask_mp(photo("astronaut.png"), "astronaut.png", extra=[("prompt", "who is this?")]), S(200), max_ms=60000)


@case("cancel/ask-half-body-then-close-x5")
def _():
    for i in range(5):
        body, ct = mp([("image", photo("chelsea.png"), "c.png", "image/png")])
        send_partial("POST", "/v1/ask", body, ct, frac=0.5, rst=(i % 2 == 1))
    expect(ask_mp(photo("chelsea.png"), "c.png"), S(200), max_ms=60000)


# ------------------------------- slow clients -------------------------------------------------

class BytesSock:
    """A socket stand-in over bytes already received (to parse them with read_response)."""

    def __init__(self, b):
        self.b = bytes(b)

    def settimeout(self, t):
        pass

    def recv(self, n):
        out, self.b = self.b[:n], self.b[n:]
        return out


def trickle(data, interval, max_s, what, prefix=b"", method="GET"):
    """Sends `prefix` at once, then `data` a byte every `interval` seconds (then waits); returns
    (outcome, seconds, response): outcome is 'closed', 'response' or 'open' (still open after max_s)."""
    s = connect()
    t0 = time.monotonic()
    got = bytearray()
    outcome = "open"
    i = 0
    try:
        if prefix:
            s.sendall(prefix)
        while time.monotonic() - t0 < max_s:
            if i < len(data):
                try:
                    s.sendall(data[i: i + 1])
                except OSError:
                    outcome = "closed"
                    break
                i += 1
            s.settimeout(interval)
            try:
                d = s.recv(65536)
                if not d:
                    outcome = "response" if got else "closed"
                    break
                got += d
                if b"\r\n\r\n" in got:
                    outcome = "response"
                    s.settimeout(2)
                    try:
                        while True:
                            d = s.recv(65536)
                            if not d:
                                break
                            got += d
                    except OSError:
                        pass
                    break
            except socket.timeout:
                pass
            except OSError:
                outcome = "response" if got else "closed"
                break
    finally:
        s.close()
    elapsed = time.monotonic() - t0
    resp = record(read_response(BytesSock(got), time.monotonic() + 5, method, what)) if got else None
    return outcome, elapsed, resp


def health_probe(stop, lat):
    while not stop.is_set():
        r = get("/health", key=None, timeout=10, rec=False)
        lat.append((r.status, round(r.ms)))
        time.sleep(0.5)


def with_probe(fn):
    """Runs fn while another client polls /health: it must keep being answered within 2 s."""
    stop, lat = threading.Event(), []
    t = threading.Thread(target=health_probe, args=(stop, lat), daemon=True)
    t.start()
    try:
        return fn()
    finally:
        stop.set()
        t.join(15)
        bad = [x for x in lat if x[0] != 200 or x[1] > 2000]
        check(lat and not bad, f"other requests were not answered promptly meanwhile: {bad[:5]}")


def judge_slow(outcome, elapsed, resp, deadline_s, what):
    if outcome == "open":
        fail(f"{what}: the server kept a slow connection open for {elapsed:.0f} s (expected it cut off within {deadline_s} s)")
    elif elapsed > deadline_s:
        fail(f"{what}: cut off only after {elapsed:.0f} s (> {deadline_s} s)")
    if resp is not None:
        expect(resp, S(408, "request_timeout") | S(400))
    elif CUR is not None:
        CUR.main = Resp(CLOSED if outcome == "closed" else TIMEOUT, what=what)


@case("slow/headers-1-byte-per-second")
def _():
    data = b"GET /health HTTP/1.1\r\nHost: " + HOSTHDR.encode() + b"\r\nX-Slow: " + b"s" * 200 + b"\r\n\r\n"
    judge_slow(*with_probe(lambda: trickle(data, 1.0, 18, "slow headers")), 15, "slow headers")


@case("slow/body-1-byte-per-second")
def _():
    # A body that keeps trickling (1 byte/s for 18 s): the server must keep answering others meanwhile;
    # whether it cuts this connection off before its whole-request deadline is its choice (when it
    # does, with 408 JSON or a close).
    body = json.dumps({"text": "cat " * 200}).encode()
    head = build_head("POST", "/v1/search", std_headers("POST", len(body), ADMIN, "application/json"))
    outcome, elapsed, resp = with_probe(lambda: trickle(body, 1.0, 18, "slow body", prefix=head, method="POST"))
    if resp is not None:
        expect(resp, S(408, "request_timeout") | S(400))
    elif CUR is not None:
        CUR.main = Resp(CLOSED if outcome == "closed" else TIMEOUT, what="slow body")


@case("slow/body-stalls-halfway")
def _():
    # Half the body, then nothing (no FIN): the idle deadline must end it with 408 JSON (or a close) within 20 s.
    body = json.dumps({"text": "cat " * 200}).encode()
    head = build_head("POST", "/v1/search", std_headers("POST", len(body), ADMIN, "application/json"))
    judge_slow(*with_probe(lambda: trickle(b"", 1.0, 22, "stalled body", prefix=head + body[: len(body) // 2], method="POST")), 20, "stalled body")


@case("slow/idle-connection-no-bytes")
def _():
    judge_slow(*trickle(b"", 1.0, 16, "idle connection"), 15, "idle connection")


@case("slow/40-slowloris-connections")
def _():
    socks = []
    for i in range(40):
        try:
            s = connect()
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            break
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 8:
            r = get("/health", key=None, timeout=5)
            expect(r, S(200), max_ms=2000)
            for s in socks:
                try:
                    s.send(b"X-a: b\r\n")
                except OSError:
                    pass
            time.sleep(1.0)
    finally:
        for s in socks:
            s.close()


@case("slow/unread-responses")
def _():
    socks = []
    for i in range(10):
        s = connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
        socks.append(s)
    try:
        for _ in range(4):
            expect(get("/health", key=None, timeout=5), S(200), max_ms=2000)
            expect(jreq("POST", "/v1/search", {"text": "cat"}, timeout=10), S(200), max_ms=5000)
            time.sleep(1)
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------------------------------------
# runner
# ---------------------------------------------------------------------------------------------

def proc_status(field):
    try:
        with open(f"/proc/{PID}/status") as f:
            for ln in f:
                if ln.startswith(field + ":"):
                    return int(ln.split()[1])  # kB
    except OSError:
        return None
    return None


def clear_refs():
    try:
        with open(f"/proc/{PID}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def alive():
    return PID == 0 or os.path.exists(f"/proc/{PID}")


def warm_up():
    """Loads lazy models before the cases measure memory (not a case)."""
    global CUR
    CUR = Ctx("warm-up")
    ask_mp(photo("chelsea.png"), "chelsea.png", extra=[("prompt", "what is this?")])
    jreq("POST", "/v1/ask", {"prompt": "hello"})
    jreq("POST", "/v1/search", {"text": "cat"})
    doc_mp(coll("warm"), "warm.md", b"# Warm\n\nWarming up the text encoder.\n")
    item_mp(coll("warm"), photo("page.png") if os.path.exists(os.path.join(IMAGES, "page.png")) else photo("coffee.png"), "page.png")
    if CUR.fails:
        print("warm-up problems:", *CUR.fails[:5], sep="\n  ")
    CUR = None


def main(argv):
    global CUR
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1]
    cases = [(n, f) for n, f in CASES if only is None or only in n]
    if "--list" in argv:
        for n, _ in cases:
            print(n)
        print(f"{len(cases)} cases", file=sys.stderr)
        return 0
    if not cases:
        print("no case matches", only)
        return 2
    mem = PID > 0 and clear_refs()
    if not mem:
        print(f"warning: cannot reset /proc/{PID}/clear_refs: memory peaks are not measured")
    print(f"pyxa hostile suite: {len(cases)} cases against {URL} (pid {PID}, run {RUN})")
    t_start = time.monotonic()
    warm_up()
    results = []
    worst = (0.0, "")
    for i, (name, fn) in enumerate(cases, 1):
        if not alive():
            results.append((name, False, ["not run: the server process is gone"], None, 0, 0))
            continue
        CUR = Ctx(name)
        if mem:
            clear_refs()
        rss0 = proc_status("VmRSS") if mem else None
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:
            import traceback
            fail(f"case raised {e!r} at {traceback.format_exc().strip().splitlines()[-3].strip()}")
        ms = (time.monotonic() - t0) * 1000
        hwm = proc_status("VmHWM") if mem else None
        delta = (hwm - rss0) / 1024 if (hwm is not None and rss0 is not None) else 0.0
        if delta > PEAK_LIMIT_MIB:
            fail(f"memory: peak grew by {delta:.0f} MiB (> {PEAK_LIMIT_MIB} MiB)")
        if not alive():
            fail("the server process died")
        else:
            h = get("/health", key=None, timeout=5, rec=False)
            if h.status != 200:
                fail(f"afterwards GET /health: {h.desc()} ({h.error or ''})")
        ctx, CUR = CUR, None
        m = ctx.main
        st = m.desc().split(" ")[0] if m else "-"
        code = (m.code or "") if m else ""
        ok = not ctx.fails
        if delta > worst[0]:
            worst = (delta, name)
        print(f"[{i:3d}/{len(cases)}] {'PASS' if ok else 'FAIL'}  {name:<60} {st:>7} {code:<24} {ms:7.0f} ms  {delta:+7.1f} MiB", flush=True)
        for f in ctx.fails:
            print(f"           - {f}", flush=True)
        results.append((name, ok, ctx.fails, m, ms, delta))
    total = time.monotonic() - t_start
    failed = [r for r in results if not r[1]]
    print()
    print("=" * 100)
    print(f"cases: {len(results)}   passed: {len(results) - len(failed)}   failed: {len(failed)}   "
          f"worst peak delta: {worst[0]:.1f} MiB ({worst[1]})   time: {total:.0f} s")
    if failed:
        print("-" * 100)
        print("failures (expected vs actual):")
        for name, _, fails, m, ms, delta in failed:
            print(f"  {name}  [{delta:+.0f} MiB, {ms:.0f} ms]")
            for f in fails:
                print(f"      {f}")
    print("=" * 100)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
