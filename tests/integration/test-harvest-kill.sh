#!/usr/bin/env bash
# test-harvest-kill.sh — kill -9 at random points during a 50,000-record
# harvest (pages of 500), rerun until a run completes, then compare the store
# record for record with an uninterrupted harvest of the same provider.
#
# Compared: `mucluc export --format jsonl --with-metadata | sort`, every field.
# Nothing is left out: a record's JSON holds only what came from the provider
# (identifier, OAI datestamp, MARC fields and what is extracted from them),
# never the time of the harvest, so an interrupted harvest has no excuse to
# differ. (Per-run counts and times live in the harvest state, not the records.)
# MUCLUC_KILL_SEED fixes the random kill points (printed for a failing run).
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
check_eq "uninterrupted harvest of $N records exits 0 ($ms ms)" 0 "$rc"
check "... $N new in $((N / 500)) pages" grep -qE "^k: ok: $N new, 0 changed, 0 deleted, 0 unchanged, 0 errors, $((N / 500)) pages in" "$T/out"

# -- killed at random points, then rerun until it completes ------------------------------
killed=0 resumed=0 runs=0
for i in $(seq "$KILLS"); do
	before=$(wc -l <"$L")
	"$MUCLUC" -c "$cfg" harvest --no-merge --source k >"$T/kout" 2>"$T/kerr" &
	hp=$!
	# anywhere in the first half of the reference run's time (later runs resume)
	d=$((RANDOM % (ms / 2 + 1)))
	sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
	if kill -9 "$hp" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$hp" 2>/dev/null; rc=$?
	runs=$((runs + 1))
	# did this run start from a saved token? (its first list request carries one)
	first=$(tail -n +"$((before + 1))" "$L" | "$PYTHON" -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("verb") == "ListRecords":
        print("token" if "resumptionToken" in e["args"] else "start"); break')
	[ "$first" = token ] && resumed=$((resumed + 1))
	echo "# run $runs: kill after $d ms, exit $rc, first list request: ${first:-none}"
	[ "$rc" -eq 0 ] && break   # it finished before the kill
done
for i in $(seq 5); do
	before=$(wc -l <"$L")
	"$MUCLUC" -c "$cfg" harvest --no-merge --source k >"$T/kout" 2>"$T/kerr"; rc=$?
	runs=$((runs + 1))
	[ "$rc" -eq 0 ] && break
	sed 's/^/#   /' "$T/kout" "$T/kerr" | head -5
done
check_eq "after $killed kills, a rerun completes (exit 0)" 0 "$rc"
check "a rerun resumed from a saved resumption token ($resumed of $runs runs)" test "$resumed" -ge 1 -o "$killed" -le 1

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
