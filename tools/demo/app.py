"""rampa-bpf demo workload: a toy order-processing service.

Each batch parses JSON orders, prices them (pure-Python arithmetic), renders
a report (string formatting), compresses it (zlib, C code) and waits on a
simulated database (sleep). Run it under the profiler:

    sudo rampa-bpf record -- python3 tools/demo/app.py
"""
import json
import random
import sys
import time
import zlib


def make_orders(n):
    rng = random.Random(42)
    return json.dumps([{"id": i, "qty": rng.randint(1, 9), "price": rng.random() * 100,
                        "tags": ["a", "b", "c"][: rng.randint(1, 3)]} for i in range(n)])


def parse(blob):
    return json.loads(blob)


def price(orders):
    total = 0.0
    for o in orders:
        for _ in range(40):
            total += o["qty"] * o["price"] * 1.0825 / (1 + len(o["tags"]))
    return total


def render(orders):
    return "\n".join(f"{o['id']:>6} {o['qty']:>3} {o['price']:>10.2f} {','.join(o['tags'])}"
                     for o in orders)


def compress(text):
    return zlib.compress(text.encode(), 6)


def query_database():
    time.sleep(0.005)


def handle_batch(blob):
    orders = parse(blob)
    query_database()
    total = price(orders)
    report = render(orders)
    return total, len(compress(report))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    blob = make_orders(2000)
    end = time.perf_counter() + seconds
    batches = 0
    while time.perf_counter() < end:
        handle_batch(blob)
        batches += 1
    print(f"demo: processed {batches} batches in {seconds:.0f} s")


if __name__ == "__main__":
    main()
