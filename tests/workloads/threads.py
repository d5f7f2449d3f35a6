"""N threads in worker() for SECONDS, spinning in Python or sleeping.

    threads.py N SECONDS [spin|sleep]

Prints "ready" once every thread runs, so a profiler attached with -p then
sees all of them.
"""
import sys
import threading
import time

n, seconds = int(sys.argv[1]), float(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else "spin"
go = threading.Event()
started = threading.Semaphore(0)
end = 0.0


def worker():
    started.release()
    go.wait()
    x = 0
    if mode == "sleep":
        while time.time() < end:
            time.sleep(0.05)
    else:
        while time.time() < end:
            x += 1


threads = [threading.Thread(target=worker) for _ in range(n)]
for t in threads:
    t.start()
for _ in threads:
    started.acquire()
end = time.time() + seconds
go.set()
print("ready", flush=True)
for t in threads:
    t.join()
