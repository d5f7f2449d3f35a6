# tools/bench/mem.sh (WORKLOAD=mem_malloc.py): an allocation-heavy Python
# program whose objects are larger than pymalloc's 512 bytes, so that every
# one is a malloc and a free (what mem --precise probes): per round 20 000
# bytes objects of 600-4000 bytes, 2 000 bytearrays of 16 KiB, a cache that
# grows and is cleared. ROUNDS rounds; prints the wall and CPU time it took
# (s; CPU: user and system: a uprobe's trap is system time of the thread it
# interrupts; wall time means little on a shared machine).
import sys, time

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
t, c = time.perf_counter(), time.process_time()
cache = {}
for r in range(rounds):
    rows = [bytes(600 + (i * 37) % 3400) for i in range(20000)]
    cache[r % 8] = [bytearray(16 * 1024) for _ in range(2000)]
    del rows
    if r % 8 == 7:
        cache.clear()
print("%.3f %.3f" % (time.perf_counter() - t, time.process_time() - c))
