# Thread names that are hard to read: non-BMP and control characters, a
# lone surrogate, a name past the 128-character limit, threads without a
# threading.Thread (OS names, one of them behind a _DummyThread), a thread
# that exits early, 40 threads, renames in Python and with prctl, and (with
# "corrupt") junk in threading._active and a Thread whose _name is no str.
#
#   thread_names_edge.py normal|corrupt TRUTH_FILE
#
# Writes "TID<TAB>NAME" lines to TRUTH_FILE once every name is final: NAME
# is what a profiler must show, computed here from the same rule.
import _thread, ctypes, os, sys, threading, time

mode, truth_file = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None)
start = None  # once every thread runs
stop = threading.Event()
lock = threading.Lock()
truth = {}


def shown(name):
    """What rampa-bpf shows: controls and surrogates as U+FFFD, cut at 128."""
    out = "".join("\ufffd" if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or 0xd800 <= ord(c) < 0xe000
                  else c for c in name[:128])
    return out + ("\u2026" if len(name) > 128 else "")


def os_name():
    with open("/proc/self/task/%d/comm" % threading.get_native_id(), "rb") as f:
        raw = f.read().rstrip(b"\n")
    return shown(raw.decode("utf-8", "replace"))


def note(name):
    with lock:
        truth[threading.get_native_id()] = name


started = threading.Event()


def at(t):
    started.wait()
    time.sleep(max(0, start + t - time.monotonic()))


def named():
    note(shown(threading.current_thread().name))
    stop.wait()


def renamed_in_python():
    at(0.5)
    threading.current_thread().name = "after"
    note("after")
    stop.wait()


def renamed_with_prctl():
    at(0.5)
    libc.prctl(15, b"os-name", 0, 0, 0)
    note("os-name")
    stop.wait()


def os_only():  # no threading.Thread at all
    libc.prctl(15, b"os-\xffname", 0, 0, 0)
    note("os-\ufffdname")
    stop.wait()


def dummy():  # a C-like thread that asks for current_thread(): Dummy-N
    libc.prctl(15, b"c-worker", 0, 0, 0)
    threading.current_thread()
    note("c-worker")
    stop.wait()


def short_lived():  # exits long before the process
    note("short-lived")
    time.sleep(0.5)


def no_str_name():
    me = threading.current_thread()
    me._name = 12345  # not a str: the OS name is all there is
    note(os_name() if sys.version_info < (3, 14) else "nostr")
    stop.wait()


ts = [threading.Thread(target=named, name=n) for n in
      ("naïve-関数-🙂", "tab\there", "lone-\udcff-surrogate", "x" * 300)]
ts += [threading.Thread(target=named, name="pool-%d" % i) for i in range(40)]
short = threading.Thread(target=short_lived, name="short-lived")
ts += [threading.Thread(target=renamed_in_python, name="before"),
       threading.Thread(target=renamed_with_prctl, name="py-name"), short]
if mode == "corrupt":
    ts.append(threading.Thread(target=no_str_name, name="nostr"))
    threading._active[2 ** 70] = object()
    threading._active[-3] = 5
    threading._active["key"] = "value"
for t in ts:
    t.start()
_thread.start_new_thread(os_only, ())
_thread.start_new_thread(dummy, ())
note("MainThread")
start = time.monotonic()
started.set()
short.join()
at(1.0)
with lock:
    with open(truth_file + ".tmp", "w") as f:
        for tid, name in sorted(truth.items()):
            f.write("%d\t%s\n" % (tid, name))
os.rename(truth_file + ".tmp", truth_file)
at(1.8)
stop.set()
