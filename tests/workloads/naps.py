"""Waits whose intervals are known by construction, for markers.

    python naps.py [N] [NAP]

The main thread N times spins for 0.2 s of CPU time in spin(), then sleeps
NAP seconds (default 0.6) in nap(); on stderr "nap START END" per nap, the
wall seconds from the start of main() (time.monotonic, the kernel's clock).
Truth: N off-CPU intervals in nap(), each NAP long or a little more, in
order, none overlapping, spin() in between.
"""
import sys
import time


def spin(seconds):
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        for i in range(1000):
            x += i * i
    return x


def nap(seconds):
    time.sleep(seconds)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    length = float(sys.argv[2]) if len(sys.argv) > 2 else 0.6
    t0 = time.monotonic()
    for _ in range(n):
        spin(0.2)
        start = time.monotonic() - t0
        nap(length)
        print(f"nap {start:.3f} {time.monotonic() - t0:.3f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
