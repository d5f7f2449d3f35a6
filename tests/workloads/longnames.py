# Long names: a function whose name is 600 characters, defined in a file
# whose path is over 900 characters (this script writes it, nested under
# argv[1]), spinning for argv[2] seconds.
# Truth: frames "f<599 x> (<the whole path>:4)" with nothing cut.
import importlib.util
import os
import sys

base = sys.argv[1]
sec = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
d = base
while len(d) < 900:
    d = os.path.join(d, "d" * 120)
os.makedirs(d, exist_ok=True)
path = os.path.join(d, "long_module.py")
name = "f" + "x" * 599
with open(path, "w") as f:
    f.write("import time\n\ndef %s(sec):\n    e = time.thread_time() + sec\n"
            "    while time.thread_time() < e:\n        pass\n" % name)
spec = importlib.util.spec_from_file_location("long_module", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
print(path, flush=True)
getattr(mod, name)(sec)
