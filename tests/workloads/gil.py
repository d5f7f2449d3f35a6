"""GIL workloads whose waits are known by construction.

    python gil.py workers N SECONDS   N threads of pure-Python loops, from one
                                      start to one end: each waits (N-1)/N
    python gil.py single SECONDS      one thread: no waits
    python gil.py sleeper SECONDS     one thread sleeps (GIL released) while
                                      another computes: the sleep is no wait
    python gil.py hog SECONDS         hog() holds the GIL in long C calls while
                                      want() loops: want() waits behind hog()
    python gil.py fixed N ITERATIONS  N threads each count to ITERATIONS;
                                      prints the time taken (benchmarks)
"""
import sys
import threading
import time


def burn(seconds):
    end = start_together(seconds)
    x = 0
    while time.perf_counter() < end:
        x += 1


def worker(seconds):
    burn(seconds)


def sleeper(seconds):
    time.sleep(seconds)


def hog(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(3_000_000))  # one C call, GIL held throughout


def want(seconds):
    burn(seconds)


# workers: the last thread to arrive sets the end for all, so no thread runs
# alone or against fewer at either end (started one after another, the first
# ran without contention and the last outlived the others: under load their
# waits fell well below (N-1)/N). Line numbers above are in the tests.
together = {}


def start_together(seconds):
    if "barrier" not in together:
        return time.perf_counter() + seconds
    together["barrier"].wait()
    return together["end"]


def count(n):
    x = 0
    for i in range(n):
        x += i
    return x


def run(targets, seconds):
    threads = [threading.Thread(target=t, args=(seconds,), name=t.__name__) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    what = sys.argv[1]
    if what == "workers":
        n, seconds = int(sys.argv[2]), float(sys.argv[3])

        def set_end():
            together["end"] = time.perf_counter() + seconds

        together["barrier"] = threading.Barrier(n, action=set_end)
        run([worker] * n, seconds)
    elif what == "single":
        burn(float(sys.argv[2]))
    elif what == "sleeper":
        run([sleeper, worker], float(sys.argv[2]))
    elif what == "hog":
        run([hog, want], float(sys.argv[2]))
    elif what == "yielder":
        yield_against_worker(int(sys.argv[2]), float(sys.argv[3]))
    elif what == "sleep0":
        sleep0_against_worker(int(sys.argv[2]), float(sys.argv[3]))
    elif what == "fixed":
        n, iters = int(sys.argv[2]), int(sys.argv[3])
        threads = [threading.Thread(target=count, args=(iters,)) for _ in range(n)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"{time.perf_counter() - t0:.6f}")


# python gil.py yielder N SECONDS: yielder() gives the GIL up N times for
# 1 ms (time.sleep) while worker() computes for SECONDS: worker() takes the
# GIL each time, so yielder() asks for it back and waits, N times.
def yielder(n):
    for _ in range(n):
        time.sleep(0.001)


def yield_against_worker(n, seconds):
    w = threading.Thread(target=worker, args=(seconds,), name="worker")
    y = threading.Thread(target=yielder, args=(n,), name="yielder")
    w.start()
    time.sleep(0.2)
    y.start()
    y.join()
    w.join()


# python gil.py sleep0 N SECONDS: sleep0() releases the GIL N times with
# time.sleep(0) while worker() computes for SECONDS, under a switch interval
# of 0.2 ms: each time sleep0() asks for the GIL back, it waits about 0.2 ms
# for worker() to drop it, so nearly all of its N waits are well under 1 ms.
def sleep0(n):
    for _ in range(n):
        time.sleep(0)


def sleep0_against_worker(n, seconds):
    w = threading.Thread(target=worker, args=(seconds,), name="worker")
    y = threading.Thread(target=sleep0, args=(n,), name="sleep0")
    sys.setswitchinterval(0.0002)
    w.start()
    time.sleep(0.2)
    y.start()
    y.join()
    w.join()


if __name__ == "__main__":
    main()
