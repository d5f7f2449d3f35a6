# A pre-fork server's memory: the parent touches 100 MiB, then forks three
# workers that only sleep (the pages stay shared, copy on write). The tree
# holds ~100 MiB, not 400 (tests/t3023).
import os
import sys
import time

block = bytearray(100 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
workers = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        time.sleep(float(sys.argv[1]))
        os._exit(0)
    workers.append(pid)
for pid in workers:
    os.waitpid(pid, 0)
