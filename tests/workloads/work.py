"""Fixed CPU-bound Python work for benchmarks: prints its own run time.

    python work.py [ITERATIONS]
    python work.py --rate SECONDS   print the kernel() calls done each 0.5 s
"""
import sys
import time


def kernel(n):
    x = 0
    for i in range(n):
        x += i * i % 7
    return x


def rate(seconds):
    end = time.monotonic() + seconds
    nxt = time.monotonic() + 0.5
    units = 0
    while time.monotonic() < end:
        kernel(20000)
        units += 1
        if time.monotonic() >= nxt:
            print(f"{nxt:.3f} {units}", flush=True)
            units = 0
            nxt += 0.5


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--rate":
        rate(float(sys.argv[2]))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    t0 = time.perf_counter()
    kernel(n)
    print(f"{time.perf_counter() - t0:.6f}")


if __name__ == "__main__":
    main()
