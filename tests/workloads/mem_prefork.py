# A pre-fork server's memory: the parent touches 100 MiB, then forks three
# workers that only sleep argv[1] seconds (the pages stay shared, copy on
# write) and exit together; argv[2] times (default 1). The tree holds
# ~100 MiB, not 400 (tests/t3023).
import os
import sys
import time

block = bytearray(100 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1):
    workers = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            time.sleep(float(sys.argv[1]))
            os._exit(0)
        workers.append(pid)
    for pid in workers:
        os.waitpid(pid, 0)
