#!/usr/bin/env bash
# Every output is valid whatever bytes a frame name holds (issue 9): names are
# made valid UTF-8 when they enter a profile (U+FFFD for each ill-formed
# sequence), and each writer escapes what its format forbids. Thousands of
# seeded random names go through every writer; each file is checked by a real
# consumer (iconv, rampa-bpf report, xmllint, Python's json, speedscope's
# schema, go tool pprof).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-formats.sh"

[ -x "$RAMPA" ] && [ -x "$TEST_TOOL" ] || skip_all "rampa-bpf and tests/test-tool not built"
command -v xmllint >/dev/null || skip_all "needs xmllint (tools/install-deps.sh --test)"
command -v python3 >/dev/null || skip_all "needs python3"

# test_optional PREREQ-CHECK DESC BODY: test_expect_success when the check
# passes; otherwise a TAP skip, or a failure under CI=true.
test_optional() {
	local check=$1 desc=$2 body=$3
	if eval "$check" >/dev/null 2>&1; then
		test_expect_success "$desc" "$body"
	elif [ "${CI:-}" = true ]; then
		_count=$((_count + 1)) _failed=$((_failed + 1))
		echo "not ok $_count - $desc (prerequisite missing in CI: $check)"
	else
		_count=$((_count + 1))
		echo "ok $_count # SKIP $desc (needs: $check)"
	fi
}

# Input hex, then output hex (- for none), replacements, valid prefix length.
cat >"$TRASH/vectors" <<'EOF'
41 41 0 1
e29882 e29882 0 3
f09f9880 f09f9880 0 4
efbfbd efbfbd 0 3
efbfbe efbfbe 0 3
f48fbfbf f48fbfbf 0 4
00 efbfbd 1 0
410042 41efbfbd42 1 1
80 efbfbd 1 0
bf80 efbfbdefbfbd 2 0
c0 efbfbd 1 0
c1bf efbfbdefbfbd 2 0
f5 efbfbd 1 0
ff efbfbd 1 0
fe41 efbfbd41 1 0
c3 efbfbd 1 0
c341 efbfbd41 1 0
e298 efbfbd 1 0
e29841 efbfbd41 1 0
f09f98 efbfbd 1 0
41f09f9842 41efbfbd42 1 1
c0af efbfbdefbfbd 2 0
e080af efbfbdefbfbdefbfbd 3 0
f08080af efbfbdefbfbdefbfbdefbfbd 4 0
e09fbf efbfbdefbfbdefbfbd 3 0
f08fbfbf efbfbdefbfbdefbfbdefbfbd 4 0
eda080 efbfbdefbfbdefbfbd 3 0
edbfbf efbfbdefbfbdefbfbd 3 0
ed9fbf ed9fbf 0 3
f4908080 efbfbdefbfbdefbfbdefbfbd 4 0
f7bfbfbf efbfbdefbfbdefbfbdefbfbd 4 0
f5989fa0 efbfbdefbfbdefbfbdefbfbd 4 0
61e2 61efbfbd 1 1
EOF
test_expect_success 'the sanitizer on known inputs: each ill-formed class, NUL, valid edges' '
	set -- $(cut -d" " -f1 vectors) &&
	"$TEST_TOOL" utf8 "$@" >got &&
	cut -d" " -f2- vectors >want && diff -u want got
'
test_expect_success 'the sanitizer agrees with Python on 3000 random byte strings' '
	python3 -c "import random
r = random.Random(9)
pool = [bytes([b]) for b in range(256)]
pool += [b\"\\xe2\\x98\\x83\", b\"\\xf0\\x9f\\x98\\x80\", b\"\\xed\\xa0\", b\"\\xf4\\x90\"]
for _ in range(3000):
    print(b\"\".join(r.choice(pool) for _ in range(r.randrange(1, 24))).hex())" >in &&
	xargs "$TEST_TOOL" utf8 <in | cut -d" " -f1 >got &&
	python3 -c "import sys
for line in open(sys.argv[1]):
    s = bytes.fromhex(line.strip()).decode(\"utf-8\", \"replace\").replace(\"\\0\", \"\\ufffd\")
    print(s.encode().hex() or \"-\")" in >want &&
	[ "$(wc -l <want)" -eq 3000 ] && diff -u want got
'
test_expect_success 'a short buffer is cut before a character, never inside one' '
	"$TEST_TOOL" utf8 -s 4 41e29882 41ff42 >got && "$TEST_TOOL" utf8 -s 5 41e29882 41ff42 >>got &&
	printf "%s\n" "41 0 4" "41 0 1" "41e29882 0 4" "41efbfbd 1 1" >want && diff -u want got
'
# 22 5c 09 1f 0a 7f ff 41c3 e280a8 efbfbf 00, as JSON.
{
	printf '%s' '["\"","\\","\u0009","\u001f","\u000a","'
	printf '\177","\357\277\275","A\357\277\275","\342\200\250","\357\277\277","\\u0000"]\n'
} >"$TRASH/json.want"
test_expect_success 'the JSON writer escapes quotes, backslash, controls; ill-formed is U+FFFD' '
	"$TEST_TOOL" json-string 22 5c 09 1f 0a 7f ff 41c3 e280a8 efbfbf 00 >got &&
	diff -u json.want got && json_valid got
'

python3 "$TESTS_DIR/random-names.py" 1 4000 >"$TRASH/names"
test_expect_success 'write-all-formats: random names into every format' '
	mkdir out && "$TEST_TOOL" write-all-formats -z names out >res 2>err && cat res err &&
	grep -Eq "^names=4000 frames=[0-9]+ invalid_utf8=[1-9][0-9]* " res &&
	[ -s out/p.folded ] && [ -s out/p.svg ] && [ -s out/p.speedscope.json ] && [ -s out/p.pb.gz ] &&
	grep -q "frames cut at 4096 bytes, 1 stack cut at 4096 frames" err
'
test_expect_success 'folded: valid UTF-8, read back by report with the same total' '
	folded_valid out/p.folded && ! grep -q "^#" <(tail -n +2 out/p.folded) &&
	head -1 out/p.folded | grep -q "^# rampa-bpf: target \"$(printf "\357\277\275")"
'
test_expect_success 'folded: reading and writing again is a fixed point' '
	"$RAMPA" report -q out/p.folded.again -o again2.folded &&
	cmp out/p.folded.again again2.folded
'
test_expect_success 'svg: well-formed XML, from the writer and from report' '
	svg_valid out/p.svg && "$RAMPA" report -q out/p.folded -o report.svg && svg_valid report.svg
'
test_expect_success 'svg: a differential graph with any bytes in its title and file names' '
	cp out/p.folded "$(printf "b\377<&.folded")" && cp out/p.folded "$(printf "n\001\376.folded")" &&
	"$RAMPA" diff -q "$(printf "b\377<&.folded")" "$(printf "n\001\376.folded")" -o diff.svg \
		--title "$(printf "t\377<&\001")" &&
	svg_valid diff.svg &&
	grep -q "id=\"title\"[^>]*>t$(printf "\357\277\275")&lt;&amp;$(printf "\357\277\275")<" diff.svg &&
	grep -q "colours: change from BASE b$(printf "\357\277\275")&lt;&amp;.folded<" diff.svg
'
test_expect_success 'speedscope: strict JSON' '
	json_valid out/p.speedscope.json
'
schema_ok() {
	[ -f "$TESTS_DIR/browser/node_modules/speedscope/dist/release/file-format-schema.json" ] &&
		command -v node
}
test_optional schema_ok 'speedscope: valid against the schema' '
	node "$TESTS_DIR/browser/speedscope-check.cjs" out/p.speedscope.json >check &&
	grep -c "^profile " check
'
test_expect_success 'pprof: every string of the string table is valid UTF-8' '
	pprof_strings_valid out/p.pb.gz
'
test_optional 'command -v go' 'pprof: go tool pprof -raw reads it, names and labels UTF-8' '
	export HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local &&
	go tool pprof -raw out/p.pb.gz >raw 2>err && utf8_valid raw &&
	grep -q "^Samples:" raw && go tool pprof -tags out/p.pb.gz >tags 2>err && utf8_valid tags &&
	grep -q "thread:" tags
'

# The Python name reader: CPython str objects (state word, length, bytes of
# the characters) as a target's memory holds them, whatever they hold.
test_expect_success 'py-decode: ASCII, UCS-2 and UCS-4 strings decode to UTF-8' '
	"$TEST_TOOL" py-decode 0x64 3 616263 >a && printf "abc\nbad=0 cut=0\n" >e && diff -u e a &&
	"$TEST_TOOL" py-decode 0x28 2 e9004e6d >a && printf "\303\251\346\265\216\nbad=0 cut=0\n" >e && diff -u e a &&
	"$TEST_TOOL" py-decode 0x30 1 00f60100 >a && printf "\360\237\230\200\nbad=0 cut=0\n" >e && diff -u e a
'
test_expect_success 'py-decode: NUL, lone surrogates and values past U+10FFFF become U+FFFD, counted' '
	"$TEST_TOOL" py-decode 0x24 3 610062 >a && printf "a\357\277\275b\nbad=1 cut=0\n" >e && diff -u e a &&
	"$TEST_TOOL" py-decode 0x28 2 00d84100 >a && printf "\357\277\275A\nbad=1 cut=0\n" >e && diff -u e a &&
	"$TEST_TOOL" py-decode 0x30 1 00001100 >a && printf "\357\277\275\nbad=1 cut=0\n" >e && diff -u e a &&
	"$TEST_TOOL" py-decode 0x3c 1 41 >a && printf "(null)\nbad=0 cut=0\n" >e && diff -u e a
'
test_expect_success 'py-decode: a string kept as head and tail is marked where it was cut' '
	"$TEST_TOOL" py-decode 0x24 100 6162636465 >a && printf "ab[\342\200\246]cde\nbad=0 cut=1\n" >e &&
	diff -u e a
'
test_expect_success 'frame labels split into name, file and line where either holds " ("' '
	"$TEST_TOOL" frame-parse "f (x.py:1) (/tmp/w.py:5)" >a && echo "name=f (x.py:1) file=/tmp/w.py line=5" >e && diff -u e a &&
	"$TEST_TOOL" frame-parse "run (/home/u/My Project (old)/x.py:12)" >a &&
	echo "name=run file=/home/u/My Project (old)/x.py line=12" >e && diff -u e a &&
	"$TEST_TOOL" frame-parse "main (/a.py:3)" >a && echo "name=main file=/a.py line=3" >e && diff -u e a &&
	"$TEST_TOOL" frame-parse "memcpy" >a && echo "not python" >e && diff -u e a
'
test_expect_success 'py-names: random code objects through the name reader into every format' '
	"$TEST_TOOL" py-names 7 3000 >pynames 2>pyerr && cat pyerr &&
	grep -Eq "^frames=3000 named=[1-9][0-9]* invalid_chars=[1-9][0-9]* names_cut=[1-9][0-9]* labels_cut=[1-9][0-9]*" pyerr &&
	utf8_valid pynames && grep -qz "^\[python frame unreadable\]$" pynames &&
	tr "\0" "\n" <pynames | LC_ALL=C awk "length(\$0) > 4096 { exit 1 }" &&
	mkdir pyout && "$TEST_TOOL" write-all-formats -z pynames pyout >res 2>err && cat res &&
	folded_valid pyout/p.folded && svg_valid pyout/p.svg && json_valid pyout/p.speedscope.json &&
	pprof_strings_valid pyout/p.pb.gz
'

# A live target whose process and thread names are not UTF-8 (prctl sets
# any bytes as comm): the summary counts the loss, the outputs stay valid.
bpf_ok() { [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ] && [ -x /usr/bin/python3 ]; }
test_optional bpf_ok 'record: names from a target are made valid and counted as a loss' '
	/usr/bin/python3 -c "
import ctypes, threading, time
libc = ctypes.CDLL(None)
def spin(name, secs):
    libc.prctl(15, name, 0, 0, 0)
    t = time.time()
    while time.time() - t < secs:
        pass
threading.Thread(target=spin, args=(b\"w\\xff\\xfe<&;\", 8), daemon=True).start()
spin(b\"\\xf5\\x98\\x9f\\xa0 (...:0)\", 8)" &
	pid=$! && test_when_finished "kill $pid; cat err" && sleep 0.5 &&
	"$RAMPA" record -T -p $pid -d 1 -o rec.folded 2>err &&
	grep -Eq "^    frame names with invalid UTF-8 \(now U\+FFFD\) +[1-9]" err &&
	! grep -q "losses        none" err && folded_valid rec.folded &&
	"$RAMPA" report -q rec.folded -o rec.svg && svg_valid rec.svg &&
	"$RAMPA" report -q rec.folded -o rec.json && json_valid rec.json &&
	"$RAMPA" report -q rec.folded -o rec.pb.gz && pprof_strings_valid rec.pb.gz
'
test_done
