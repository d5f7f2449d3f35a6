# multiprocessing after attach: waits DELAY s, then runs burn() for SECONDS
# in each of 2 worker processes started with METHOD (fork, spawn or
# forkserver). Truth: ~all CPU after the delay is burn() in the workers.
import multiprocessing as mp
import sys
import time


def burn(sec):
    end = time.thread_time() + sec
    x = 0
    while time.thread_time() < end:
        x += 1
    return x


if __name__ == "__main__":
    method, delay, sec = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    time.sleep(delay)
    with mp.get_context(method).Pool(2) as pool:
        pool.map(burn, [sec, sec])
