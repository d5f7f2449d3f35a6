"""A workload whose timeline is known by construction: f() spins for SECONDS
of CPU time, then g() for as long (CPU time, however busy the machine).

    python phases.py [SECONDS]

On stderr: "switch T", T the wall seconds from the start of main() to the
switch from f to g (at least SECONDS; more on a loaded machine).
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


def f(seconds):
    spin(seconds)


def g(seconds):
    spin(seconds)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    t0 = time.perf_counter()
    f(seconds)
    print(f"switch {time.perf_counter() - t0:.3f}", file=sys.stderr, flush=True)
    g(seconds)


if __name__ == "__main__":
    main()
