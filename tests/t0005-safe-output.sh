#!/usr/bin/env bash
# Output files as root: never written through a node someone planted at the
# path, created exclusively and linked into place, handed to the sudo user
# only when rampa-bpf created them where that user could have; under sudo,
# -- CMD runs as the user, not as root.
. "$(dirname "$0")/lib.sh"

require_root
[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
id nobody >/dev/null 2>&1 || skip_all "needs the user nobody"

NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)
printf 'main;work 5\n' >"$TRASH/in.folded"
# A shared directory, sticky and world-writable like /tmp, and a root-only file.
mkdir -m 1777 "$TRASH/shared"
mkdir -m 700 "$TRASH/secret"
echo "root data" >"$TRASH/secret/file"
chmod 600 "$TRASH/secret/file"

test_expect_success 'a symlink planted at the output path by another user is refused' '
	ln -s "$TRASH/secret/file" shared/out.folded && chown -h nobody shared/out.folded &&
	test_expect_code 5 "$RAMPA" report in.folded -o shared/out.folded 2>err &&
	grep -q "is a symbolic link: not writing through it" err &&
	grep -q -- "--output-in-place" err &&
	[ "$(cat secret/file)" = "root data" ] && [ -L shared/out.folded ]
'
test_expect_success 'a dangling symlink at the output path is refused, nothing created' '
	ln -s "$TRASH/secret/new" shared/dangling.folded &&
	chown -h nobody shared/dangling.folded &&
	test_expect_code 5 "$RAMPA" report in.folded -o shared/dangling.folded 2>err &&
	grep -q "symbolic link" err && [ ! -e secret/new ]
'
test_expect_success 'record refuses a planted symlink before it profiles anything' '
	ln -s "$TRASH/secret/file" shared/rec.folded &&
	test_expect_code 5 "$RAMPA" record -o shared/rec.folded -- true 2>err &&
	grep -q "symbolic link" err && [ "$(cat secret/file)" = "root data" ]
'
test_expect_success 'a FIFO at the output path is refused without hanging' '
	mkfifo shared/fifo &&
	test_expect_code 5 timeout 10 "$RAMPA" report in.folded -o shared/fifo 2>err &&
	grep -q "is a FIFO" err
'
test_expect_success 'a device at the output path is refused' '
	test_expect_code 5 "$RAMPA" report in.folded -o /dev/null 2>err &&
	grep -q "is a device" err
'
test_expect_success '--output-in-place writes through a symlink on request' '
	echo old >target && ln -s target inplace.folded &&
	"$RAMPA" report in.folded --output-in-place -o inplace.folded 2>err &&
	[ -L inplace.folded ] && grep -q "^main;work 5$" target
'
test_expect_success 'a regular file is replaced, not written through its hard links' '
	echo keep >linked && ln linked out2.folded &&
	"$RAMPA" report in.folded -o out2.folded 2>err &&
	[ "$(cat linked)" = keep ] && grep -q "^main;work 5$" out2.folded
'
test_expect_success 'the new file follows the umask and leaves no temporary file' '
	(umask 027 && "$RAMPA" report in.folded -o mode.folded 2>err) &&
	[ "$(stat -c %a mode.folded)" = 640 ] && [ -z "$(ls -A | grep "^\.mode")" ]
'
test_expect_success 'SUDO_UID: a root-owned file in a root directory stays root-owned' '
	mkdir -m 755 rootdir && echo old >rootdir/prof.folded &&
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" record -q -o rootdir/prof.folded -- true \
		2>err &&
	[ "$(stat -c %u rootdir/prof.folded)" = 0 ] && grep -q "^# rampa-bpf" rootdir/prof.folded
'
test_expect_success 'SUDO_UID: a new file in a root directory stays root-owned' '
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" record -q -o rootdir/new.folded -- true \
		2>err &&
	[ "$(stat -c %u rootdir/new.folded)" = 0 ]
'
test_expect_success 'SUDO_UID: another user'"'"'s file in a sticky directory is not handed over' '
	echo theirs >shared/other.folded && chown 1 shared/other.folded &&
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" record -q -o shared/other.folded -- true \
		2>err &&
	[ "$(stat -c %u shared/other.folded)" != "$NOBODY" ]
'
test_expect_success 'SUDO_UID: a new file in the user'"'"'s directory is theirs' '
	mkdir userdir && chown nobody userdir &&
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" report in.folded -o userdir/p.folded 2>err &&
	[ "$(stat -c %u:%g userdir/p.folded)" = "$NOBODY:$NOGROUP" ] &&
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" report in.folded -o shared/mine.folded \
		2>err &&
	[ "$(stat -c %u shared/mine.folded)" = "$NOBODY" ]
'
test_expect_success 'SUDO_UID: -- CMD runs as the sudo user, --as-root keeps root' '
	chmod 755 "$TRASH" &&
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" record -o userdir/r.folded -- id -u >uid \
		2>err &&
	[ "$(cat uid)" = "$NOBODY" ] && grep -q "as SUDO_UID $NOBODY, not root" err &&
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" record --as-root -o userdir/r.folded -- \
		id -u >uid 2>err &&
	[ "$(cat uid)" = 0 ] && grep -q "as root (--as-root)" err &&
	SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$RAMPA" record -o userdir/r.folded -- id -G >gids &&
	! grep -qw 0 gids
'
test_expect_success 'SIGKILL leaves no temporary file beside the output' '
	mkdir killdir &&
	{ "$RAMPA" record -q -o killdir/k.folded -p $$ -d 30 >/dev/null 2>err & } && pid=$! &&
	bg_track $pid && sleep 1.5 && kill -9 $pid && wait $pid 2>/dev/null
	[ -z "$(ls -A killdir)" ]
'
test_done
