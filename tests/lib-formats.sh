# Sourced after lib.sh by tests that check an output file is valid whatever
# the frame names held: each helper fails, saying why, when FILE is not.
# With test-tool write-all-formats [-z] NAMES DIR, which writes DIR/p.folded,
# p.svg, p.speedscope.json and p.pb.gz, a test feeds any names it likes
# through every writer and checks the four files with these.
# shellcheck shell=bash

# utf8_valid FILE: FILE is valid UTF-8 throughout.
utf8_valid() {
	iconv -f UTF-8 -t UTF-8 "$1" >/dev/null || { echo "$1: invalid UTF-8"; return 1; }
}

# folded_valid FILE: valid UTF-8 that rampa-bpf report reads back, strictly,
# with the same total.
folded_valid() {
	local want got
	utf8_valid "$1" || return 1
	"$RAMPA" report "$1" -o "$1.again" >"$1.report" 2>"$1.err" ||
		{ echo "$1: report cannot read it back:"; cat "$1.err"; return 1; }
	want=$(total "$1")
	got=$(total "$1.again")
	[ "$want" = "$got" ] || { echo "$1: total $want, read back $got"; return 1; }
}

# svg_valid FILE: well-formed XML 1.0.
svg_valid() {
	xmllint --noout "$1" || { echo "$1: not well-formed XML"; return 1; }
}

# json_valid FILE: JSON that Python parses from strictly decoded UTF-8.
json_valid() {
	python3 -c 'import json, sys
json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))' "$1" ||
		{ echo "$1: not JSON in valid UTF-8"; return 1; }
}

# pprof_strings_valid FILE: every string of the gzipped profile.proto's string
# table (field 6) is valid UTF-8, as protobuf requires of a string.
pprof_strings_valid() {
	python3 -c 'import gzip, sys
d = gzip.open(sys.argv[1]).read()
i = n = 0
def varint():
    global i
    v = s = 0
    while True:
        b = d[i]
        i += 1
        v |= (b & 0x7f) << s
        s += 7
        if b < 0x80:
            return v
while i < len(d):
    key = varint()
    field, wire = key >> 3, key & 7
    if wire == 0:
        varint()
    elif wire == 2:
        size = varint()
        if field == 6:
            d[i:i + size].decode("utf-8", "strict")
            n += 1
        i += size
    elif wire in (1, 5):
        i += 8 if wire == 1 else 4
    else:
        sys.exit("wire type %d at byte %d" % (wire, i))
if not n:
    sys.exit("no string table")' "$1" || { echo "$1: a string is not valid UTF-8"; return 1; }
}
