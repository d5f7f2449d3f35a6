# tools/bench/mem.sh: an allocation-heavy Python program (many objects,
# lists, dicts, a cache that grows and is cleared), ROUNDS rounds; prints
# the wall and CPU time it took (s; CPU: user and system) on one line.
import sys, time

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
t, c = time.perf_counter(), time.process_time()
cache = {}
for r in range(rounds):
    rows = [{"id": i, "name": "row%d" % i, "tags": [i, i + 1, i + 2]} for i in range(50000)]
    cache[r % 8] = [bytearray(256) for _ in range(20000)]
    text = ",".join(row["name"] for row in rows)
    del rows, text
    if r % 8 == 7:
        cache.clear()
print("%.3f %.3f" % (time.perf_counter() - t, time.process_time() - c))
