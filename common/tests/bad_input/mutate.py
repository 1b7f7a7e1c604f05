#!/usr/bin/env python3
"""Makes broken checkpoints for the bad-input suite (run.sh), from a good one, with the standard
library only. usage: mutate.py IN OUT KIND [ARG]

  meta KEY VALUE      set a __metadata__ string (VALUE may hold \\x escapes)
  fill NAME VALUE     every float32 of array NAME becomes VALUE (inf, -inf, nan, 3e38)
  int NAME VALUE      every int64 of array NAME becomes VALUE
  header-length N     the 8-byte header length says N
  truncate N          keep the first N bytes
"""
import json
import struct
import sys

src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = bytearray(raw[8 + n:])

if kind == "truncate":
    open(dst, "wb").write(raw[:int(args[0])])
    sys.exit(0)
if kind == "header-length":
    open(dst, "wb").write(struct.pack("<Q", int(args[0])) + raw[8:])
    sys.exit(0)
if kind == "meta":
    header.setdefault("__metadata__", {})[args[0]] = args[1].encode().decode("unicode_escape")
elif kind in ("fill", "int"):
    entry = header[args[0]]
    begin, end = entry["data_offsets"]
    fmt, size = ("<f", 4) if kind == "fill" else ("<q", 8)
    value = float(args[1]) if kind == "fill" else int(args[1])
    for at in range(begin, end, size):
        data[at:at + size] = struct.pack(fmt, value)
else:
    sys.exit("unknown kind " + kind)

text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))
