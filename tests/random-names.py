#!/usr/bin/env python3
"""Frame names as a profiled target or an ELF file may hold them: any bytes
but NUL. Writes COUNT names, NUL-separated, to stdout, the same for the same
SEED, for test-tool write-all-formats -z. Every class of ill-formed UTF-8,
the C0 and C1 controls, the separators of the folded format and the markup
characters of XML and JSON are all there, alone and mixed with valid text.

usage: random-names.py SEED COUNT
"""
import random
import sys

INVALID = [
    b"\x80", b"\xbf", b"\x80\x80",                  # stray continuation bytes
    b"\xc0", b"\xc1", b"\xf5", b"\xf8", b"\xfe", b"\xff",  # bytes never used
    b"\xc3", b"\xe2\x98", b"\xf0\x9f\x98",          # truncated sequences
    b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",  # overlong forms
    b"\xed\xa0\x80", b"\xed\xbf\xbf",               # surrogates
    b"\xf4\x90\x80\x80", b"\xf7\xbf\xbf\xbf",       # beyond U+10FFFF
    b"\xf5\x98\x9f\xa0",                            # the name of the issue
]
VALID = [
    "é", "ß", "€", "☃", "漢字", "😀", "\U0010ffff", "\ufffe", "\uffff", "\ufeff",
    "\u2028", "\u2029", "\ufffd", "\u0085", "\u009f", "\u00a0",
]
SPECIAL = [
    ";", ";;", "\n", "\r", "\r\n", "\t", " ", "#", "<", ">", "&", '"', "'",
    "]]>", "<!--", "&amp;", "\\", '\\"', "\x7f", "-", ":", "(", ")",
]
SHAPES = [
    "{} ({}.py:{})", "{}_[k]", "{}-{}", "pid {}", "{}", "#{}", "{}   ", " {} ",
]


def piece(r):
    k = r.randrange(6)
    if k == 0:
        return r.choice(INVALID)
    if k == 1:
        return r.choice(VALID).encode()
    if k == 2:
        return r.choice(SPECIAL).encode()
    if k == 3:
        return bytes([r.randrange(1, 32)])  # C0 controls
    if k == 4:
        return bytes(r.randrange(1, 256) for _ in range(r.randrange(1, 6)))
    return "".join(r.choice("abcxyz_.") for _ in range(r.randrange(1, 8))).encode()


def name(r):
    text = b"".join(piece(r) for _ in range(r.randrange(1, 12)))
    shape = r.choice(SHAPES)
    args = [text, b"/srv/" + b"".join(piece(r) for _ in range(3)), str(r.randrange(1, 9999))]
    out = shape.encode()
    for a in args:
        if b"{}" not in out:
            break
        out = out.replace(b"{}", a if isinstance(a, bytes) else a.encode(), 1)
    return out


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    r = random.Random(seed)
    names = [b'\xf5\x98\x9f\xa0 (<&"\n;#:0)']  # the first: the target too
    names += [bytes([c]) for c in range(1, 256)]  # every single byte
    names += INVALID + [s.encode() for s in SPECIAL + VALID]
    names += [b" ", b"\t \t", b"#", b";", b"\n"]  # nothing but separators
    names += [b"\xff" * 2000, b"x" * 5000, "☃".encode() * 1500]  # past 4096 bytes
    while len(names) < count:
        names.append(name(r))
    out = sys.stdout.buffer
    for n in names[:max(count, len(names))]:
        out.write(n.replace(b"\0", b"\1") + b"\0")


if __name__ == "__main__":
    main()
