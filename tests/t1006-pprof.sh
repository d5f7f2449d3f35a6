#!/usr/bin/env bash
# pprof output, read by the real consumer: go tool pprof (Debian's golang-go).
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v go >/dev/null || skip_all "needs go tool pprof (tools/install-deps.sh --test)"
FIX="$TESTS_DIR/fixtures/formats"
export HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local
pprof() { go tool pprof "$@" 2>&1; }

test_expect_success 'go tool pprof -top: functions, flat and cumulative totals' '
	"$RAMPA" report -q "$FIX/app.folded" -o app.pb.gz &&
	pprof -top app.pb.gz >out && cat out &&
	grep -q "^Type: samples$" out &&
	grep -q "Total samples = 1000" out &&
	grep -Eq "^ +500 50.00% 50.00% +650 65.00%  compute$" out &&
	grep -Eq "^ +300 30.00% 80.00% +300 30.00%  encode$" out &&
	grep -Eq "^ +150 15.00% 95.00% +150 15.00%  cblas_dgemm$" out &&
	grep -Eq "^ +50  5.00%   100% +50  5.00%  tcp_recvmsg_\[k\]$" out &&
	grep -Eq "^ +0     0%   100% +950 95.00%  <module>$" out &&
	grep -Eq "^ +0     0%   100% +1000   100%  python3$" out
'
test_expect_success 'the header says mode, unit, target, duration and rate; File: the program' '
	grep -q "^mode cpu, unit samples, target python3 app.py (pid 4242), 10.0 s, 99 Hz$" out &&
	grep -q "^File: python3 app.py$" out &&
	grep -q "^Duration: 10s" out
'
test_expect_success 'thread and tid labels from the thread frame, process label' '
	pprof -tags app.pb.gz >tags && cat tags &&
	grep -Eq "950.0 \(95.00%\): MainThread-4242" tags &&
	grep -Eq "50.0 \( 5.00%\): worker-4243" tags &&
	grep -Eq "950.0 \(95.00%\): 4242" tags &&
	grep -Eq "1000.0 \(  100%\): python3" tags
'
test_expect_success 'the thread frame is a label, not a location; Python lines kept' '
	pprof -raw app.pb.gz >raw &&
	! grep -q "MainThread-4242 :" raw &&
	grep -q "compute /srv/app/app.py:20" raw && grep -q "compute /srv/app/app.py:21" raw &&
	grep -q "PeriodType: cpu nanoseconds" raw && grep -q "Period: 10101010" raw
'
test_expect_success 'wall and gil-wait profiles are typed in microseconds' '
	"$RAMPA" report -q "$FIX/app.folded" --mode gil-wait -o gil.pb.gz &&
	pprof -top gil.pb.gz >out && grep -q "^Type: gil-wait$" out &&
	grep -Eq "^ +500us 50.00% 50.00% +650us 65.00%  compute$" out &&
	"$RAMPA" report -q "$FIX/pyspy.txt" --mode wall -o wall.pb.gz &&
	pprof -top wall.pb.gz >out && grep -q "^Type: wall$" out &&
	grep -Eq "^ +87us 87.00%" out
'
test_expect_success 'a "name-PID" root gives the pid label' '
	printf "%s\n" "gunicorn-77;w-78;handle (app.py:3) 5" >pid.folded &&
	"$RAMPA" report -q pid.folded -o pid.pb.gz && pprof -tags pid.pb.gz >tags &&
	grep -Eq "^ pid: Total 5.0" tags && grep -Eq "5.0 \(  100%\): 77$" tags
'
test_expect_success 'with --per-process and -T: pid from the process frame, tid from the thread' '
	cat >pt.folded <<-\EOF &&
	# rampa-bpf: target "t", mode cpu, unit samples, duration 1.000 s, rate 99 Hz, groups process+thread
	python3;python3-100;MainThread-100;main (a.py:1) 6
	python3;python3-200;worker-201;work (a.py:9) 4
	EOF
	"$RAMPA" report -q pt.folded -o pt.pb.gz && pprof -tags pt.pb.gz >tags && cat tags &&
	grep -Eq "6.0 \(60.00%\): 100$" tags && grep -Eq "4.0 \(40.00%\): 200$" tags &&
	grep -Eq "4.0 \(40.00%\): 201$" tags && grep -Eq "4.0 \(40.00%\): worker-201$" tags &&
	pprof -raw pt.pb.gz >raw && ! grep -Eq "python3-(100|200) :" raw &&
	! grep -q "MainThread-100 :" raw
'
test_expect_success 'with --per-process alone the process frame is not read as a thread' '
	cat >p.folded <<-\EOF &&
	# rampa-bpf: target "t", mode cpu, unit samples, duration 1.000 s, rate 99 Hz, groups process
	python3;python3-100;main (a.py:1) 6
	EOF
	"$RAMPA" report -q p.folded -o p.pb.gz && pprof -tags p.pb.gz >tags && cat tags &&
	! grep -q "tid:" tags && grep -Eq "^ pid: Total 6.0" tags &&
	grep -Eq "6.0 \(  100%\): 100$" tags
'
test_expect_success 'inlined calls are lines of one location, innermost first; markers stay apart' '
	cat >inl.folded <<-\EOF &&
	# rampa-bpf: target "t", mode cpu, unit samples, duration 1.000 s, rate 99 Hz
	prog;_start;main (m.c:3);hot (h.c:10);helper (inlined) (h.h:5);inner (inlined) (h.h:9) 7
	prog;_start;main (m.c:3);hot (h.c:12) 3
	prog;[unknown];pure (inlined) (x.h:1) 1
	EOF
	"$RAMPA" report -q inl.folded -o inl.pb.gz && pprof -raw inl.pb.gz >raw && cat raw &&
	grep -A2 "M=1 inner h.h:9" raw >loc &&
	grep -q "^ *helper h.h:5" loc && grep -q "^ *hot h.c:10" loc &&
	grep -Eq "M=1 hot h.c:12" raw && grep -Eq "M=1 pure x.h:1" raw &&
	grep -Eq "M=1 \[unknown\]" raw &&
	pprof -traces inl.pb.gz >traces && cat traces &&
	grep -q "inner (inline)" traces && grep -q "helper (inline)" traces &&
	test "$(grep -c "^ *[0-9]*: 0x0 M=1" raw)" = 7
'
test_expect_success 'a frame named by its address keeps it, in its module'"'"'s mapping; named frames have 0, Python frames no mapping' '
	cat >addr.folded <<-\EOF &&
	# rampa-bpf: target "t", mode cpu, unit samples, duration 1.000 s, rate 99 Hz
	python3.11;_start;python3.11+0x6516f0;libfoo.so+0x1a2b;main (a.py:3) 5
	python3.11;tcp_[k];weird name+0x12 1
	EOF
	"$RAMPA" report -q addr.folded -o addr.pb.gz && pprof -raw addr.pb.gz >raw && cat raw &&
	m=$(sed -n "s/^\([0-9]*\): 0x0\/0x0\/0x0 python3.11 .*/\1/p" raw) && test -n "$m" &&
	grep -Eq ": 0x6516f0 M=$m python3.11\+0x6516f0 " raw &&
	l=$(sed -n "s/^\([0-9]*\): 0x0\/0x0\/0x0 libfoo.so .*/\1/p" raw) && test -n "$l" &&
	grep -Eq ": 0x1a2b M=$l libfoo.so\+0x1a2b " raw &&
	grep -Eq ": 0x0 main a.py:3 " raw && grep -Eq ": 0x0 M=1 weird name\+0x12 " raw
'
test_done
