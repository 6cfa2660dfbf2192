#!/usr/bin/env python3
"""Writes the reproducers of finding query-glob-too-complex (README.md) into the current directory.

FuzzQuery input layout: a flags byte (bits 0-1 the level: 1 = STUDY), then lines of a key index
byte and a value. Key 11 is StudyDescription (text, GLOB), key 0 PatientName (PN, LIKE).
"""
def encode(flags, lines):
    out = bytes([flags])
    for key, value in lines:
        out += bytes([key]) + value.encode() + b"\n"
    return out

# 1,600 values of 32 wildcards each: every value within QueryKeyLimits (4,096 bytes, 32 wildcards),
# the whole key 52,799 bytes, over SQLite's 50,000-byte LIKE/GLOB pattern limit.
segments = "\\".join(["*a" * 16] * 1600)
open("query-glob-too-complex", "wb").write(encode(1, [(11, segments)]))
open("query-like-too-complex", "wb").write(encode(1, [(0, segments)]))
