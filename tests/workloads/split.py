"""A workload whose profile is known by construction.

Every cycle, alpha() spins for 30 ms and beta() for 10 ms, both through
spin(); with --sleep, gamma() also sleeps 20 ms per cycle.

    python split.py [SECONDS] [--threads N] [--sleep] [--depth D]

--depth D runs the cycle under D nested Python calls (recurse()).
"""
import sys
import threading
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        for i in range(200):
            x += i * i
    return x


def alpha():
    spin(0.030)


def beta():
    spin(0.010)


def gamma():
    time.sleep(0.020)


def cycle(sleep):
    alpha()
    beta()
    if sleep:
        gamma()


def run(seconds, sleep):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        cycle(sleep)


def recurse(depth, seconds, sleep):
    if depth <= 0:
        return run(seconds, sleep)
    return recurse(depth - 1, seconds, sleep)


def main():
    args = sys.argv[1:]
    seconds = float(args[0]) if args and not args[0].startswith("-") else 3.0
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 1
    depth = int(args[args.index("--depth") + 1]) if "--depth" in args else 0
    sleep = "--sleep" in args
    if depth:
        sys.setrecursionlimit(depth + 100)
    workers = [threading.Thread(target=recurse, args=(depth, seconds, sleep))
               for _ in range(threads - 1)]
    for w in workers:
        w.start()
    recurse(depth, seconds, sleep)
    for w in workers:
        w.join()


if __name__ == "__main__":
    main()
