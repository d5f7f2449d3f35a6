# Spins in spin() from the script's first line for argv[1] seconds of
# wall time: its samples from the first one carry spin's Python frames.
import sys
import time


def spin(secs):
    end = time.monotonic() + secs
    x = 0
    while time.monotonic() < end:
        for i in range(500):
            x += i
    return x


spin(float(sys.argv[1]))
