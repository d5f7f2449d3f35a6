# A corrupt target: threading._active replaced by a dict whose keys object
# lives in a buffer rewritten with random bytes (and pointers back into the
# buffer, so garbage is followed) every 5 ms for SECONDS. A reader must
# neither crash nor hang, and fall back to the OS names.
#
#   thread_names_fuzz.py SECONDS SEED
import ctypes, gc, os, random, struct, sys, threading, time

seconds, seed = float(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
stop = threading.Event()
ts = [threading.Thread(target=stop.wait, name="fuzz-%d" % i) for i in range(4)]
for t in ts:
    t.start()

SIZE = 1 << 14
buf = (ctypes.c_char * SIZE)()
base = ctypes.addressof(buf)
fake = {"k": "v"}
gc.disable()  # the collector must never walk the corrupt dict
threading._active = fake


def word():
    r = rng.random()
    if r < 0.5:
        return base + rng.randrange(0, SIZE - 64) // 8 * 8  # a pointer into garbage
    if r < 0.7:
        return rng.randrange(0, 64)  # a small number: a size, a kind, a length
    return rng.getrandbits(64)


end = time.monotonic() + seconds
while time.monotonic() < end:
    data = bytearray(rng.getrandbits(8) for _ in range(256)) * (SIZE // 256)
    for i in range(0, SIZE, 8):
        if rng.random() < 0.6:
            data[i:i + 8] = struct.pack("<Q", word())
    # A keys header that looks right half of the time (3.11+, then 3.9/3.10).
    keys = rng.randrange(0, 64) * 8
    if rng.random() < 0.5:
        log2 = rng.randrange(3, 8)
        data[keys + 8:keys + 11] = bytes((log2, log2 + rng.randrange(0, 4), rng.randrange(0, 3)))
        data[keys + 0x18:keys + 0x20] = struct.pack("<Q", rng.randrange(0, 40))
    elif sys.version_info < (3, 11):
        data[keys + 8:keys + 16] = struct.pack("<Q", 1 << rng.randrange(3, 8))
        data[keys + 0x20:keys + 0x28] = struct.pack("<Q", rng.randrange(0, 40))
    ctypes.memmove(base, bytes(data), SIZE)
    ctypes.c_uint64.from_address(id(fake) + 0x20).value = base + keys
    ctypes.c_uint64.from_address(id(fake) + 0x28).value = 0 if rng.random() < 0.5 else word()
    time.sleep(0.005)
os._exit(0)  # no clean-up: threading would use the corrupt dict
