# For rampa-bpf dump (t3018): three threads whose stacks are known by
# construction. "waiter-py" (OS name "os-waiter") blocks in
# threading.Event.wait() called from wait_for_event(); "spinner-py" spins in
# spin_forever() (it holds the GIL: the others are blocked in syscalls); the
# main thread sleeps in main_sleeps(), writing the spinner's counter to
# DIR/counter. DIR/ready holds "main waiter spinner" native ids once all run.
# Creating DIR/stop ends it cleanly: exit status 0, "done" on stdout.
import os
import sys
import threading
import time

out = sys.argv[1]
counter = 0
stop = False
ev = threading.Event()
tids = {}


def set_os_name(name):
    with open("/proc/self/task/%d/comm" % threading.get_native_id(), "w") as f:
        f.write(name)


def wait_for_event():
    tids["waiter"] = threading.get_native_id()
    set_os_name("os-waiter")
    ev.wait()


def spin_forever():
    global counter
    tids["spinner"] = threading.get_native_id()
    while not stop:
        counter += 1


def main_sleeps():
    global stop
    while not os.path.exists(os.path.join(out, "stop")):
        time.sleep(0.05)
        with open(os.path.join(out, "counter.tmp"), "w") as f:
            f.write("%d\n" % counter)
        os.replace(os.path.join(out, "counter.tmp"), os.path.join(out, "counter"))
        if len(tids) == 2 and not os.path.exists(os.path.join(out, "ready")):
            with open(os.path.join(out, "ready.tmp"), "w") as f:
                f.write("%d %d %d\n" % (threading.get_native_id(), tids["waiter"], tids["spinner"]))
            os.replace(os.path.join(out, "ready.tmp"), os.path.join(out, "ready"))
    stop = True
    ev.set()


a = threading.Thread(target=wait_for_event, name="waiter-py")
b = threading.Thread(target=spin_forever, name="spinner-py")
a.start()
b.start()
main_sleeps()
a.join()
b.join()
print("done")
