# dump_check.py DUMP.json CHECK ARGS...: assertions on `rampa-bpf dump --json`
# output for t3018, one line of explanation on failure (exit 1).
#   python MAIN WAITER SPINNER LABEL  the dump_target.py workload
#   native MAIN SPINNER               the dump_native.c workload
import json
import sys

d = json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))
check = sys.argv[2]
by_tid = {t["tid"]: t for t in d["threads"]}
bad = []


def need(cond, what):
    if not cond:
        bad.append(what)


def thread(tid):
    t = by_tid.get(int(tid))
    if t is None:
        print("no thread %s in %s" % (tid, sorted(by_tid)))
        sys.exit(1)
    return t


def names(t, kind):
    return [f["name"] for f in t["frames"] if f["kind"] == kind]


def has(t, kind, fn):
    return any(n == fn or n.startswith(fn + " (") for n in names(t, kind))


if check == "python":
    main, waiter, spinner = (thread(x) for x in sys.argv[3:6])
    label = sys.argv[6]
    need(d["python"] and "CPython 3." in d["python"], "Python found")
    need(main["python_name"] == "MainThread", "main's Python name")
    need(waiter["python_name"] == "waiter-py", "waiter's Python name")
    need(waiter["os_name"] == "os-waiter", "waiter's OS name")
    need(spinner["python_name"] == "spinner-py", "spinner's Python name")
    # Blocked in Event.wait() from wait_for_event(): a futex, kernel frames.
    need(waiter["state"] == "blocked" and waiter["blocked"], "waiter blocked")
    need(waiter["syscall"] == "futex", "waiter in futex")
    need(has(waiter, "python", "wait_for_event"), "wait_for_event in waiter")
    need(any(n.startswith(("Event.wait (", "wait (")) and "threading.py" in n
             for n in names(waiter, "python")), "Event.wait in waiter")
    need(any("futex" in n for n in names(waiter, "kernel")), "futex kernel frame")
    need(len(names(waiter, "native")) >= 3, "native frames for waiter")
    need(not waiter["ran_while_read"], "waiter not torn")
    # Python frames innermost first: wait_for_event under Event.wait.
    py = names(waiter, "python")
    need(py and py[-1].startswith(("Thread._bootstrap (", "_bootstrap (")), "root frame last")
    need(has(main, "python", "main_sleeps"), "main_sleeps in main")
    need(main["blocked"], "main blocked")
    need(has(spinner, "python", "spin_forever"), "spin_forever in spinner")
    need(spinner["state"] in ("running", "runnable"), "spinner running or runnable")
    # On a CPU it is sampled at its next tick; preempted, its registers are
    # saved: native frames either way.
    need(len(names(spinner, "native")) >= 2, "native frames for the spinner")
    need(d["gil"] == "held" and d["gil_holder"] == spinner["tid"], "spinner holds the GIL")
    need(spinner["gil_holder"] and not waiter["gil_holder"], "per-thread GIL flag")
    # Python frames placed among the native ones: from 3.12 by the entry
    # frames' addresses (exact, even in stripped builds), before by the eval
    # loop's name (in .dynsym of Debian's stripped 3.9 and 3.11 too).
    minor = int(d["python"].split()[1].split(".")[1])
    want = "entry-frames" if minor >= 12 else "eval-frame-names"
    need(waiter["python_placed"] == want and main["python_placed"] == want,
         "Python frames placed by " + want)
    nat = [f["kind"] for f in waiter["frames"]]
    need(nat.index("python") > nat.index("native"), "native frames above the Python ones")
elif check == "native":
    main, spinner = (thread(x) for x in sys.argv[3:5])
    need(d["python"] is None, "no Python")
    need(main["state"] == "blocked" and main["syscall"] == "read", "main blocked in read")
    nat = names(main, "native")
    need(nat[1:4] == ["wait_inner", "wait_outer", "main"], "native frames %s" % nat[:5])
    need(len(names(main, "kernel")) >= 2, "kernel frames")
    need(main["frames"][0]["kind"] == "kernel", "innermost first: kernel on top")
    need(spinner["os_name"] == "spinner", "spinner's OS name")
    need(spinner["state"] in ("running", "runnable"), "spinner running or runnable")
    need(spinner["python_name"] is None, "no Python name")
    need(names(spinner, "native")[:2] == ["spin_here", "spinner"],
         "spinner's native frames %s" % names(spinner, "native")[:3])
else:
    print("unknown check " + check)
    sys.exit(2)
if bad:
    for t in d["threads"]:
        print({k: v for k, v in t.items() if k != "frames"})
        print("  " + " | ".join(f["name"] for f in t["frames"]))
    print("failed: " + ", ".join(bad))
    sys.exit(1)
