# A file read whole into new memory (tests/t3023): load() reads argv[1]
# (64 MiB) into a bytes object and keeps it. The kernel writes those pages
# in read(): the process takes no fault of its own on them. Then sleeps
# argv[2] seconds. Waits 0.5 s first: a profiler started with it has found
# its interpreter by then.
import sys
import time

kept = []


def load(path):
    with open(path, "rb") as f:
        kept.append(f.read())


time.sleep(0.5)
load(sys.argv[1])
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.5)
