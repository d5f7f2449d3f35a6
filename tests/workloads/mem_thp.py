# rampa-bpf mem (t3024): huge() maps 66 MiB (private, anonymous), asks for transparent huge pages
# (MADV_HUGEPAGE) and writes one byte per 4 KiB page of the 64 MiB inside it
# aligned to 2 MiB, and keeps it: 64 MiB retained in about 32 faults. Then
# sleeps argv[1] seconds.
import mmap, sys, time

MIB = 1024 * 1024


def huge():
    m = mmap.mmap(-1, 66 * MIB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    # The mapping's address, for the 2 MiB-aligned part inside it.
    import ctypes
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    start = (-base) % (2 * MIB)
    for off in range(start, start + 64 * MIB, 4096):
        m[off] = 1
    return m


kept = huge()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
