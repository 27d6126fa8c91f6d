#!/usr/bin/env bash
# test-concurrency-harvest.sh — `harvest --all --jobs 8` of ten OAI-PMH
# sources while two imports and a `dedup --split` run on the same store:
# one import into a library that only sends files (it runs beside the
# harvest), one into a source the harvest is harvesting (it waits for the
# harvest, saying so), the split waits for whichever merge holds the merge
# lock. All exit 0; every record is stored and in exactly one union; the
# split stays split; no store error (schemas/concurrency.md).
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"
hv_require

D=$SRCDIR/tests/data/sample
provider_start p --records 400 --page-size 40
U=$PV_URL
cfg=$({
	for k in $(seq 1 10); do
		printf '[source "ok-%02d"]\nname = Library %d\ntype = commune\nurl = %s/id=%d/n=%d/slow=150/oai\nmetadata_prefix = marc21\n\n' \
			"$k" "$k" "$U" "$k" $((100 + k * 10))
	done
	for s in nb-tv-tinh nb-thpt-1 nb-tv-huyen-1; do
		printf '[source "%s"]\nname = %s\ntype = district\n\n' "$s" "$s"
	done
} | hv_config)
"$MUCLUC" -c "$cfg" init >/dev/null 2>&1
datadir=$(sed -n 's/^data_dir = //p' "$cfg")

# a catalogue with unions to split
"$MUCLUC" -c "$cfg" import --source nb-tv-tinh "$D/nb-tv-tinh.xml" >/dev/null 2>&1
check_eq "setup: import nb-tv-tinh" 0 "$?"
"$MUCLUC" -c "$cfg" import --source nb-thpt-1 "$D/nb-thpt-1.utf-8-nfd.xml" >/dev/null 2>&1
check_eq "setup: import nb-thpt-1" 0 "$?"
"$MUCLUC" -c "$cfg" export --union >"$T/u0.jsonl"
read -r uid members < <(python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    u = json.loads(line)
    if len(u.get("members", [])) >= 2:
        print(u["id"], " ".join(u["members"]))
        break' "$T/u0.jsonl")
check "setup: a union record with two or more members to split (${uid:-none})" test -n "${uid:-}"

# -- all at once -----------------------------------------------------------------------
"$MUCLUC" -c "$cfg" harvest --all --jobs 8 >"$T/h.out" 2>"$T/h.err" &
hp=$!
# the harvest takes its locks before its first request
for i in $(seq 300); do [ "$(plog "$PV_LOG" 'e.get("verb") == "ListRecords"')" -ge 1 ] && break; sleep 0.1; done
check "the harvest holds the lock of source ok-03" grep -q "^$hp harvest" "$datadir/locks/source-ok-03.lock"
"$MUCLUC" -c "$cfg" import --source nb-tv-huyen-1 "$D/nb-tv-huyen-1.mrc" >"$T/i1.out" 2>"$T/i1.err" &
i1=$!
"$MUCLUC" -c "$cfg" import --source ok-03 "$D/nb-tv-tinh.xml" >"$T/i2.out" 2>"$T/i2.err" &
i2=$!
"$MUCLUC" -c "$cfg" dedup --split "$uid" >"$T/d.out" 2>"$T/d.err" &
dp=$!
wait "$hp"; hrc=$?
wait "$i1"; i1rc=$?
wait "$i2"; i2rc=$?
wait "$dp"; drc=$?
check_eq "harvest --all --jobs 8: exit 0" 0 "$hrc"
check_eq "... ten sources ok" 10 "$(grep -cE '^ok-[0-9]+: ok: ' "$T/h.out")"
check_eq "import of a file-only library beside it: exit 0" 0 "$i1rc"
check "... it did not wait for the harvest" bash -c "! grep -q 'waiting for source' '$T/i1.err'"
check_eq "import into a source being harvested: exit 0" 0 "$i2rc"
check "... it waited for the harvest, naming its pid" \
	grep -q "waiting for source ok-03, held by pid $hp (harvest)" "$T/i2.err"
check_eq "dedup --split $uid: exit 0" 0 "$drc"
check "... rule stored" grep -q "^dedup: rule stored (split $uid)" "$T/d.out"
check_eq "no store error printed" "" "$(cat "$T/"{h,i1,i2,d}.err | grep -i 'store error')"

# -- what the store holds --------------------------------------------------------------
good=0
for k in $(seq 1 10); do
	s=$(printf 'ok-%02d' "$k"); want=$((100 + k * 10))
	[ "$s" = ok-03 ] && want=$((want + 560))
	[ "$(ids "$cfg" "$s" | grep -c ' present$')" = "$want" ] && good=$((good + 1))
done
check_eq "every harvested record stored (ok-03 with the imported ones too)" 10 "$good"
check_eq "nb-tv-huyen-1: its 780 records stored" 780 "$(ids "$cfg" nb-tv-huyen-1 | grep -c ' present$')"
"$MUCLUC" -c "$cfg" merge >/dev/null 2>&1
"$MUCLUC" -c "$cfg" export --union >"$T/u1.jsonl"
present=$("$MUCLUC" -c "$cfg" stats | sed -n 's/^Records: *\([0-9]*\) present.*/\1/p')
check_eq "every present record is in exactly one union record" "$(python3 -c '
import json, sys
m = [r for l in open(sys.argv[1], encoding="utf-8") for r in json.loads(l).get("members", [])]
print(len(m), len(set(m)))' "$T/u1.jsonl")" "$present $present"
alone=0
for r in $members; do
	python3 -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    u = json.loads(l)
    if sys.argv[2] in u.get("members", []):
        sys.exit(0 if len(u["members"]) == 1 else 1)
sys.exit(1)' "$T/u1.jsonl" "$r" && alone=$((alone + 1))
done
check_eq "each member of the split union stands alone" "$(wc -w <<<"$members")" "$alone"

# -- mucluc check ------------------------------------------------------------------------
mc_check_stores
done_testing
