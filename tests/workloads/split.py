"""A workload whose profile is known by construction.

Every cycle, alpha() spins 30 ms and beta() 10 ms of CPU time (however busy the
machine; of wall time with --clock=wall) in spin(); --sleep: gamma() sleeps 20 ms.

    python split.py [SECONDS] [--threads N] [--sleep] [--depth D] [--clock=wall]

--depth D runs the cycle under D nested Python calls (recurse()).
"""
import sys
import threading
import time

clock = time.perf_counter if "--clock=wall" in sys.argv else time.thread_time
def spin(seconds):
    end = clock() + seconds
    x = 0
    while clock() < end:
        for i in range(1000):
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
