#!/usr/bin/env bash
# test-harvest-kill.sh — kill -9 at random points during a 50,000-record
# harvest (pages of 500), then a rerun that completes, then compare the store
# record for record with an uninterrupted harvest of the same provider.
# Every kill must land mid-run (wait status 137) and every next run must
# resume from the partial harvest the kill left (pages done, saved token).
#
# Compared: `mucluc export --format jsonl --with-metadata | sort`, every field.
# Nothing is left out: a record's JSON holds only what came from the provider
# (identifier, OAI datestamp, MARC fields and what is extracted from them),
# never the time of the harvest, so an interrupted harvest has no excuse to
# differ. (Per-run counts and times live in the harvest state, not the records.)
# MUCLUC_KILL_SEED fixes the random kill points (printed for a failing run).
# No timing is asserted: a kill waits for the provider's log, not a clock.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"
hv_require

N=${MUCLUC_KILL_RECORDS:-50000}
KILLS=${MUCLUC_KILLS:-6}
seed=${MUCLUC_KILL_SEED:-$RANDOM}
RANDOM=$seed
echo "# kill seed $seed ($N records, $KILLS kills)"
provider_start p --records "$N" --page-size 500
U=$PV_URL; L=$PV_LOG
src() { printf '[source "k"]\nname = Kill test\ntype = provincial\nurl = %s/oai\nmetadata_prefix = marc21\n' "$U"; }
ref=$(src | hv_config)
cfg=$(src | hv_config)
"$MUCLUC" -c "$ref" init >/dev/null 2>&1
"$MUCLUC" -c "$cfg" init >/dev/null 2>&1

# -- the uninterrupted reference -------------------------------------------------
t0=$(date +%s%N)
"$MUCLUC" -c "$ref" harvest --no-merge --source k >"$T/out" 2>"$T/err"; rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "# uninterrupted harvest: $ms ms"
check_eq "uninterrupted harvest of $N records exits 0" 0 "$rc"
check "... $N new in $((N / 500)) pages" grep -qE "^k: ok: $N new, 0 changed, 0 deleted, 0 unchanged, 0 errors, $((N / 500)) pages in" "$T/out"

# -- killed at random points, then rerun until it completes ------------------------------
# Each run is stopped (SIGSTOP, so it cannot finish in between) once the provider
# has answered K of its list requests, K random, then killed with SIGKILL: its
# wait status must be 137. The next run must find the checkpoint of a partial
# harvest: "resuming the unfinished run (P pages done)" with P within what the
# killed run can have committed (a page's records and token are committed while
# the next pages are fetched, at most 3 pages behind the request), and its first
# list request carries the saved token (the provider's tokens hold the offset:
# P pages of 500).
pages=$((N / 500))
list_reqs() { # list_reqs LINE: ListRecords requests in the log after line LINE
	tail -n +"$(($1 + 1))" "$L" | grep -c '"verb": "ListRecords"'
}
first_offset() { # first_offset LINE: offset in the token of the first list request after LINE
	tail -n +"$(($1 + 1))" "$L" | "$PYTHON" -c '
import base64, json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("verb") == "ListRecords":
        t = e["args"].get("resumptionToken")
        print(json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))["o"] if t else "start")
        break'
}
resumed_at() { sed -n 's/^k: resuming the unfinished run (\([0-9]*\) pages done)$/\1/p' "$1"; }
# check_resume RUN ERRFILE LINE: the run resumed from what the previous killed run committed
check_resume() {
	local p lo=$((done_lo)) hi=$((done_hi)) off
	p=$(resumed_at "$2")
	off=$(first_offset "$3")
	if [ -n "$p" ] && [ "$p" -ge "$lo" ] && [ "$p" -le "$hi" ] && [ "$p" -gt 0 ] && [ "$p" -lt "$pages" ]; then
		ok "$1: resumed a partial harvest: $p of $pages pages done (the kill left $lo..$hi)"
	else
		fail "$1: resumed a partial harvest ($lo..$hi pages of $pages expected; stderr says '${p:-no resume}')"
		head -3 "$2" | sed 's/^/#   /'
	fi
	check_eq "$1: its first list request carries the saved token (offset $((${p:-0} * 500)))" \
		"$((${p:-0} * 500))" "$off"
	done_p=${p:-0}
}
killed=0 runs=0 done_p=0 done_lo=0 done_hi=0
for i in $(seq "$KILLS"); do
	# leave at least 25 pages for the run that completes
	[ $((pages - done_p)) -ge 40 ] || break
	k=$((4 + RANDOM % 10))
	before=$(wc -l <"$L")
	"$MUCLUC" -c "$cfg" harvest --no-merge --source k >"$T/kout.$i" 2>"$T/kerr.$i" &
	hp=$!
	for w in $(seq 1200); do
		[ "$(list_reqs "$before")" -ge "$k" ] && break
		kill -0 "$hp" 2>/dev/null || break
		sleep 0.05
	done
	kill -STOP "$hp" 2>/dev/null
	kill -9 "$hp" 2>/dev/null
	wait "$hp" 2>/dev/null; rc=$?
	runs=$((runs + 1))
	m=$(list_reqs "$before")
	echo "# run $runs: killed after $k list requests ($m sent), exit $rc"
	check_eq "run $runs: killed by SIGKILL mid-run (wait status 137)" 137 "$rc"
	[ "$rc" -eq 137 ] && killed=$((killed + 1))
	if [ "$i" -gt 1 ]; then
		check_resume "run $runs" "$T/kerr.$i" "$before"
	else
		check_eq "run 1: a fresh start (no saved token)" start "$(first_offset "$before")"
	fi
	# what the next run must find: this run's pages on top of where it started
	done_lo=$((done_p + (k > 3 ? k - 3 : 0)))
	done_hi=$((done_p + m))
done
check "$killed kills landed mid-run (at least 3)" test "$killed" -ge 3
before=$(wc -l <"$L")
"$MUCLUC" -c "$cfg" harvest --no-merge --source k >"$T/kout" 2>"$T/kerr"; rc=$?
runs=$((runs + 1))
check_eq "after $killed kills, the rerun completes (exit 0)" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$T/kout" "$T/kerr" | head -5
check_resume "the rerun" "$T/kerr" "$before"
check "the rerun fetched only the pages left ($((pages - done_p)))" \
	test "$(list_reqs "$before")" -eq $((pages - done_p))

"$MUCLUC" -c "$ref" export --source k --format jsonl --with-metadata 2>/dev/null | sort >"$T/ref.jsonl"
"$MUCLUC" -c "$cfg" export --source k --format jsonl --with-metadata 2>/dev/null | sort >"$T/got.jsonl"
check_eq "reference store holds $N records" "$N" "$(wc -l <"$T/ref.jsonl")"
check_eq "no record lost or doubled" "$N" "$(wc -l <"$T/got.jsonl")"
if cmp -s "$T/ref.jsonl" "$T/got.jsonl"; then
	ok "the store is identical record for record to the uninterrupted harvest"
else
	fail "the store is identical record for record to the uninterrupted harvest (seed $seed)"
	diff "$T/ref.jsonl" "$T/got.jsonl" | head -6 | cut -c1-200 | sed 's/^/#   /'
fi
"$MUCLUC" -c "$cfg" harvest --source k >"$T/kout" 2>"$T/kerr"; rc=$?
check "a run after that fetches only what changed since (nothing): 0 new, 0 changed" \
	grep -qE "^k: ok: 0 new, 0 changed, 0 deleted" "$T/kout"
mc_check_stores
done_testing
