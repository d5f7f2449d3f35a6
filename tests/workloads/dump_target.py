# For rampa-bpf dump (t3018): three threads whose stacks are known by
# construction. "waiter-py" (OS name "os-waiter") blocks in
# threading.Event.wait() called from wait_for_event(); "spinner-py" spins in
# spin_forever() and is the only thread that runs, so it holds the GIL; the
# main thread blocks reading a pipe in main_sleeps(). The spinner writes its
# counter to DIR/counter every 2^23 turns (rarely: it is in a system call,
# without the GIL, a negligible part of the time); DIR/ready holds "main waiter spinner"
# native ids once all run. Creating DIR/stop ends it cleanly: exit status 0,
# "done" on stdout.
import os
import sys
import threading

out = sys.argv[1]
ev = threading.Event()
wake_r, wake_w = os.pipe()
tids = {}


def set_os_name(name):
    with open("/proc/self/task/%d/comm" % threading.get_native_id(), "w") as f:
        f.write(name)


def wait_for_event():
    tids["waiter"] = threading.get_native_id()
    set_os_name("os-waiter")
    ev.wait()


def put(name, text):
    with open(os.path.join(out, name + ".tmp"), "w") as f:
        f.write(text)
    os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name))


def spin_forever():
    tids["spinner"] = threading.get_native_id()
    counter = 0
    while True:
        counter += 1
        if counter % (1 << 23) == 0:
            put("counter", "%d\n" % counter)
            if len(tids) == 3 and not os.path.exists(os.path.join(out, "ready")):
                put("ready", "%d %d %d\n" % (tids["main"], tids["waiter"], tids["spinner"]))
            if os.path.exists(os.path.join(out, "stop")):
                break
    ev.set()
    os.write(wake_w, b"x")


def main_sleeps():
    tids["main"] = threading.get_native_id()
    os.read(wake_r, 1)


a = threading.Thread(target=wait_for_event, name="waiter-py")
b = threading.Thread(target=spin_forever, name="spinner-py")
a.start()
b.start()
main_sleeps()
a.join()
b.join()
print("done")
