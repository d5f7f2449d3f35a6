"""Fixed CPU-bound Python work for benchmarks: prints its own run time.

    python work.py [ITERATIONS]
"""
import sys
import time


def kernel(n):
    x = 0
    for i in range(n):
        x += i * i % 7
    return x


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    t0 = time.perf_counter()
    kernel(n)
    print(f"{time.perf_counter() - t0:.6f}")


if __name__ == "__main__":
    main()
