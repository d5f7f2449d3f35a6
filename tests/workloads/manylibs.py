# Loads the N largest shared libraries of the system (ctypes), then spins
# 2 s: more unwind rows than the table space holds, from many files.
import ctypes, glob, os, sys, time

n = 0
# Sanitizer runtimes abort when not loaded first: not those.
libs = [p for p in glob.glob("/usr/lib/x86_64-linux-gnu/*.so*")
        if not os.path.islink(p) and "san" not in os.path.basename(p)]
for p in sorted(libs, key=lambda p: -os.path.getsize(p)):
    try:
        ctypes.CDLL(p)
        n += 1
    except OSError:
        pass
    if n >= int(sys.argv[1]):
        break
print("loaded", n, flush=True)
end = time.thread_time() + 2
while time.thread_time() < end:
    pass
