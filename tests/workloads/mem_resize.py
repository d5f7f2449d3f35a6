# Memory resized in place or moved, sizes known by construction
# (tests/t3023, t3024). grow_bytes() makes a 33 MiB bytearray (above
# glibc's largest mmap threshold: a mapping of its own) and doubles it:
# glibc's realloc grows the mapping by mremap; it keeps 66 MiB.
# grow_mmap() maps 1 MiB (mmap module, private) and resizes it 1 MiB at a
# time to 64 MiB, writing every page: it keeps 64. shrink_mmap() maps
# 64 MiB, writes it and resizes it to 32: it keeps 32. Then sleeps argv[1]
# seconds, everything still held. It waits 0.5 s first: a profiler started
# with it has found its interpreter by then; with argv[2], for that file to
# exist (a profiler attached by -p).
import mmap
import os
import sys
import time

MIB = 1 << 20
kept = []


def touch(m, start, end):
    for i in range(start, end, 4096):
        m[i] = 1


def grow_bytes():
    b = bytearray(33 * MIB)
    b *= 2
    kept.append(b)


def grow_mmap():
    m = mmap.mmap(-1, MIB, flags=mmap.MAP_PRIVATE)
    touch(m, 0, MIB)
    for size in range(2 * MIB, 65 * MIB, MIB):
        m.resize(size)
        touch(m, size - MIB, size)
    kept.append(m)


def shrink_mmap():
    m = mmap.mmap(-1, 64 * MIB, flags=mmap.MAP_PRIVATE)
    touch(m, 0, 64 * MIB)
    m.resize(32 * MIB)
    kept.append(m)


time.sleep(0.5)
while len(sys.argv) > 2 and not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
grow_bytes()
grow_mmap()
shrink_mmap()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
