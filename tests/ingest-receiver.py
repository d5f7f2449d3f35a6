#!/usr/bin/env python3
"""A loopback stand-in for Pyroscope's ingest API, for the agent's tests.

    ingest-receiver.py DIR

Listens on 127.0.0.1 at a free port (written to DIR/port) and implements the
contract rampa-bpf agent pushes to: POST /ingest?name=APP{labels}&from=&until=
&format=pprof&... with the profile as the body. A request without name, from
or until, with from or until not whole seconds, from after until, a format
other than pprof, or an empty body is refused with 400. While DIR/down exists
every request is answered 503 (the server is down). Each window taken is
recorded as DIR/NNNN.pb.gz (the body) and DIR/NNNN.json (query and headers),
NNNN counting from 1 in arrival order.
"""
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

DIR = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, text):
        body = (text + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if os.path.exists(os.path.join(DIR, "down")):
            return self.reply(503, "down for the test")
        if url.path != "/ingest":
            return self.reply(404, "no such endpoint")
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        q = {k: v[0] for k, v in q.items()}
        for key in ("name", "from", "until"):
            if not q.get(key):
                return self.reply(400, "missing " + key)
        if not (q["from"].isdigit() and q["until"].isdigit()):
            return self.reply(400, "from and until must be unix seconds")
        if int(q["from"]) > int(q["until"]):
            return self.reply(400, "from is after until")
        if q.get("format") != "pprof":
            return self.reply(400, "format must be pprof")
        if not body:
            return self.reply(400, "empty body")
        n = len([f for f in os.listdir(DIR) if f.endswith(".json")]) + 1
        with open(os.path.join(DIR, "%04d.pb.gz" % n), "wb") as f:
            f.write(body)
        rec = {"query": q, "headers": {k.lower(): v for k, v in self.headers.items()}}
        with open(os.path.join(DIR, "%04d.json.tmp" % n), "w") as f:
            json.dump(rec, f, sort_keys=True)
        os.rename(os.path.join(DIR, "%04d.json.tmp" % n), os.path.join(DIR, "%04d.json" % n))
        return self.reply(200, "ok")

    def log_message(self, fmt, *args):
        pass


srv = HTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
