# troupe sync relay: the host end of one job's control session.
#
# Started by the orchestrator through the host's transport, with stdin being
# the orchestrator's answers and stdout going back to it. It makes a control
# dir with a request FIFO; troupe-ctl callers write request lines into it
# (each line one atomic write) and `cat` forwards them to stdout untouched.
# Answers arrive on stdin as `ID CODE N` and N lines of text; each goes to
# the caller's answer FIFO, `a.` and the part of ID after its first dot. The
# caller opened it read-write before asking, so writing it (also opened
# read-write) never blocks, even if the caller has died since.
#
# Answer FIFOs come from a pool the relay keeps: `a.1`, `a.2`, ... made
# ahead, a caller claiming one by creating `c.K` with noclobber (O_EXCL),
# looking from the number in `next` (one past the last answered) upward.
# Once an answer is written, its slot is done: the relay removes it and makes
# a new one, in batches, so that a call costs no mkfifo or rm of its own
# (each would cost more than the rest of the call). Slot numbers are never
# reused, so a caller still reading an answer never shares its FIFO. A caller
# that finds no free slot makes a FIFO of its own (`a.xPID-SEQ`) and removes it.
#
# The orchestrator may also ask (`K PID`) whether a caller that
# holds a lock or waits is still alive; a dead one is reported (`D PID`); and
# it sends heartbeats (`Y`), echoed back, to notice a relay that is gone or
# cut off even when the transport does not say so. When stdin ends or a signal comes, every caller still waiting
# is told the relay stopped, and the dir is removed.
#
# Every line the orchestrator reads starts with the job's token: those the
# relay writes, and those troupe-ctl writes (it has the token from
# TROUPE_CTL_TOKEN, which only the job's scripts get). The orchestrator
# refuses lines without it: another job's processes, which may be able to
# open the FIFO (the same user), get nothing done.
#
# Needs sh, mkdir, mkfifo, cat, rm, chmod. Env: TROUPE_RELAY_DIR (the control
# dir), TROUPE_RELAY_TOKEN (the job's token), TROUPE_RELAY_PROBE_PORTS
# (non-empty: report TCP ports in use).

set -u
D=${TROUPE_RELAY_DIR:?TROUPE_RELAY_DIR is not set}
T=${TROUPE_RELAY_TOKEN:?TROUPE_RELAY_TOKEN is not set}
umask 077
rm -rf "$D" 2>/dev/null
# Not mkdir -p: a dir someone else made in its place (in /tmp) is not ours to use.
mkdir "$D" && mkdir "$D/bin" || {
	echo "troupe relay: cannot create $D" >&2
	exit 70
}
# @INSTALL@
chmod 755 "$D/bin/troupe-ctl" || exit 70
mkfifo "$D/req" || {
	echo "troupe relay: mkfifo failed in $D" >&2
	exit 71
}
exec 3<>"$D/req"

# The pool of answer FIFOs (see above): POOL free ones made at start; DONE
# slots answered since the last batch, removed (FIFOs before claims: a slot
# without its FIFO is never used) and replaced once there are BATCH of them.
# Batches are large (two execs each) and their size differs from host to
# host, so that hosts passing barriers in step do not all pause in the same round.
POOL=256
BATCH=$((128 + $$ % 64))
HI=0
DONE=
CLAIMS=
NDONE=0
grow() {
	_names=
	_n=$1
	while [ "$_n" -gt 0 ]; do
		HI=$((HI + 1))
		_names="$_names a.$HI"
		_n=$((_n - 1))
	done
	# Names without spaces, relative to $D. Should it fail, callers make their own.
	(cd "$D" && exec mkfifo $_names) 2>/dev/null
}
recycle() {
	[ "$NDONE" -gt 0 ] || return 0
	(cd "$D" && exec rm -f $DONE $CLAIMS) 2>/dev/null
	grow "$NDONE"
	DONE=
	CLAIMS=
	NDONE=0
}
grow "$POOL"
# Where callers start looking for a free slot: one past the last answered.
NEXT=1
printf '1\n' >"$D/next"
printf '%s\n' "$$" >"$D/pid"

if [ -n "${TROUPE_RELAY_PROBE_PORTS:-}" ]; then
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] || continue
		while read -r _ l _; do
			case $l in
			*:*) printf '%s P %s\n' "$T" "${l##*:}" ;;
			esac
		done <"$f"
	done
fi

printf '%s H %s\n' "$T" "$PATH"
cat <&3 &
FWD=$!

STOPPED=
stop() {
	[ -z "$STOPPED" ] || return 0
	STOPPED=1
	for f in "$D"/a.*; do
		[ -p "$f" ] && printf '69 1\nthe sync relay on this host stopped\n' 1<>"$f" 2>/dev/null
	done
	kill "$FWD" 2>/dev/null
	rm -rf "$D"
}
trap 'stop; exit 129' HUP
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

while IFS= read -r line; do
	case $line in
	Y)
		# Heartbeat: the orchestrator hears from us even when nobody calls.
		printf '%s Y\n' "$T" >&3
		continue
		;;
	'K '*)
		# Liveness probe of a caller that holds a lock or waits: report it if it is gone
		# (SIGKILLed callers run no trap). /proc also sees other users' processes.
		p=${line#K }
		[ -d "/proc/$p" ] || kill -0 "$p" 2>/dev/null || printf '%s D %s\n' "$T" "$p" >&3
		continue
		;;
	esac
	# An answer: `ID CODE N`, then N lines of text, all for the caller's FIFO.
	id=${line%% *}
	n=${line##* }
	k=${id#*.}
	case $id in
	[0-9]*.?*) ;;
	*) continue ;;
	esac
	case $k in
	*[!0-9a-z-]*) continue ;;
	esac
	case $n in
	'' | *[!0-9]*) continue ;;
	esac
	f=$D/a.$k
	if [ -p "$f" ]; then
		# Read-write: never blocks on open. Answers are capped well below a
		# pipe's capacity, so writing cannot block even if the caller died.
		exec 6<>"$f"
		printf '%s\n' "${line#* }" >&6
		while [ "$n" -gt 0 ] && IFS= read -r l; do
			printf '%s\n' "$l" >&6
			n=$((n - 1))
		done
		exec 6>&-
		case $k in
		*[!0-9]*) ;;
		*)
			[ "$k" -lt "$NEXT" ] || {
				NEXT=$((k + 1))
				printf '%s\n' "$NEXT" >"$D/next"
			}
			DONE="$DONE a.$k"
			CLAIMS="$CLAIMS c.$k"
			NDONE=$((NDONE + 1))
			[ "$NDONE" -lt "$BATCH" ] || recycle
			;;
		esac
	else
		while [ "$n" -gt 0 ] && IFS= read -r l; do n=$((n - 1)); done
		printf '%s G %s\n' "$T" "$id" >&3
	fi
done
stop
