#!/usr/bin/env python3
"""Write docs/visitor-parking-policy.pdf: a minimal, hand-made PDF 1.4.

Standard library only. Two pages of plain text in the standard Type1 font
Helvetica (no embedded fonts, uncompressed content streams), with a correct
cross-reference table, so any PDF text extractor can read it.

Run from anywhere:  python3 models/qa/make_pdf.py
"""
import os
import textwrap

TITLE = "Visitor and Parking Policy"
HEADER = "Lindqvist & Hale Design - effective 1 March 2024"

# Each page: list of (kind, text); kind is "h" (heading) or "p" (paragraph).
PAGES = [
    [
        ("t", TITLE),
        ("s", HEADER),
        ("h", "1. Registering visitors"),
        ("p", "Every visitor must be registered with reception at least 24 hours before "
              "the visit. Send the visitor's name, company and car number plate (if they "
              "drive) to Liu Xiaoyan at reception, room 301, extension 101. Visitors who "
              "arrive without being registered wait in the lobby until their host comes "
              "down to sign them in."),
        ("h", "2. Badges"),
        ("p", "Reception hands out the badges. A red badge is for visitors: red badge "
              "holders must be escorted by their host at all times and may not enter "
              "room 305. A yellow badge is for contractors, who may move around alone "
              "once they have signed the safety sheet. All badges must be returned to "
              "reception by 18:00 on the day of the visit."),
        ("h", "3. Deliveries"),
        ("p", "The loading bay at the back of the building is open for deliveries from "
              "09:00 to 11:30, Monday to Friday. Large deliveries must be announced to "
              "Priya Nair (extension 110) one working day in advance."),
    ],
    [
        ("h", "4. Car parking"),
        ("p", "The company rents six parking spaces in the basement, on level B2, "
              "numbered B2-31 to B2-36. Space B2-33 is reserved for the managing "
              "director, Wang Lihua. The other five spaces are allocated by Priya Nair "
              "each quarter; ask her if you would like to join the waiting list."),
        ("p", "Registered visitors may use space B2-36 for up to 4 hours. The building "
              "charges visitor parking to our account, so the visitor pays nothing. "
              "Visitors who stay longer than 4 hours must move their car to the public "
              "car park on the street."),
        ("h", "5. Bicycles"),
        ("p", "Bicycles go in the racks by the east entrance, which is also the fire "
              "assembly point. Do not bring bicycles into the office or lock them to "
              "the railings at the front door. Folding bicycles may be kept under your "
              "desk."),
        ("h", "6. Questions"),
        ("p", "Questions about this policy go to Priya Nair, office manager, extension 110."),
    ],
]

WIDTH, HEIGHT = 612, 792  # US Letter, points
MARGIN = 72
WRAP = 84  # characters per line at 11 pt Helvetica on a 468 pt measure


def pdf_str(s):
    """A PDF literal string, with the three special characters escaped."""
    return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def page_stream(items):
    out = ["BT", f"{MARGIN} {HEIGHT - MARGIN} Td"]
    font = None

    def set_font(name, size, leading):
        nonlocal font
        if font != (name, size):
            out.append(f"/{name} {size} Tf {leading} TL")
            font = (name, size)

    for kind, text in items:
        if kind == "t":
            set_font("F2", 18, 24)
            out.append(pdf_str(text) + " Tj T*")
        elif kind == "s":
            set_font("F1", 10, 14)
            out.append(pdf_str(text) + " Tj T* T*")
        elif kind == "h":
            set_font("F2", 12, 16)
            out.append("T* " + pdf_str(text) + " Tj T*")
        else:
            set_font("F1", 11, 15)
            for line in textwrap.wrap(text, WRAP):
                out.append(pdf_str(line) + " Tj T*")
            out.append("T*")
    out.append("ET")
    return "\n".join(out).encode("latin-1")


def build():
    objects = []  # object bodies; object number = index + 1

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(None)  # filled in below
    pages = add(None)
    f1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    f2 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for items in PAGES:
        data = page_stream(items)
        content = add(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
        page = add(
            (
                f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
                f"/Resources << /Font << /F1 {f1} 0 R /F2 {f2} 0 R >> >> "
                f"/Contents {content} 0 R >>"
            ).encode()
        )
        kids.append(page)
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages} 0 R >>".encode()
    objects[pages - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    ).encode()
    info = add(f"<< /Title {pdf_str(TITLE)} /Author (Lindqvist & Hale Design) >>".encode())

    buf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, start=1):
        offsets.append(len(buf))
        buf += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(buf)
    buf += b"xref\n0 %d\n" % (len(objects) + 1)
    buf += b"0000000000 65535 f \n"
    for off in offsets:
        buf += b"%010d 00000 n \n" % off
    buf += (
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, info, xref)
    )
    return bytes(buf)


def check(data):
    """Every xref entry must point at 'N 0 obj', startxref at 'xref'."""
    start = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[start:start + 4] == b"xref", "startxref does not point at xref"
    lines = data[start:].split(b"\n")
    count = int(lines[1].split()[1])
    for num in range(1, count):
        off = int(lines[2 + num][:10])
        assert data[off:].startswith(b"%d 0 obj" % num), f"bad offset for object {num}"
        assert len(lines[2 + num]) == 19, "xref lines must be 20 bytes with EOL"
    # stream /Length must match the bytes between 'stream\n' and '\nendstream'
    pos = 0
    while (i := data.find(b"/Length ", pos)) != -1:
        length = int(data[i + 8:].split()[0])
        s = data.index(b"stream\n", i) + 7
        assert data[s + length:s + length + 10] == b"\nendstream", "bad stream length"
        pos = s + length
    return count - 1


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "docs", "visitor-parking-policy.pdf")
    data = build()
    n = check(data)
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {path}: {len(data)} bytes, {n} objects, {len(PAGES)} pages, xref checked")
