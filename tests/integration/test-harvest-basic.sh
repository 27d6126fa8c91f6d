#!/usr/bin/env bash
# test-harvest-basic.sh — `mucluc harvest` against the test provider: a full
# harvest (MARCXML and oai_dc, pages, gzip, User-Agent), the summary line,
# incremental runs sending `from=` (seconds and day granularity), deletions
# (status="deleted"; --full on a deletedRecord=no provider, and not after a
# failed run), sets, --from/--until, the lock (a second run waits), `mucluc sources`.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"
hv_require

provider_start p --records 1000 --page-size 100
U=$PV_URL; L=$PV_LOG
cfg=$(hv_config <<EOF
[source "m"]
name = MARC library
type = provincial
url = $U/oai
metadata_prefix = marc21

[source "d"]
name = DC library
type = university
url = $U/id=d/oai
metadata_prefix = oai_dc

[source "s"]
name = Theses only
type = university
url = $U/id=s/oai
metadata_prefix = oai_dc
set = luanvan

[source "g"]
name = Day granularity
type = district
url = $U/gran=day/n=300/oai
metadata_prefix = marc21
EOF
)
data=$(dirname "$cfg")/data
M() { "$MUCLUC" -c "$cfg" "$@"; }
"$MUCLUC" -c "$cfg" init >/dev/null 2>&1
SUM='[0-9]+ new, [0-9]+ changed, [0-9]+ deleted, [0-9]+ unchanged, [0-9]+ errors, [0-9]+ pages in [0-9]+\.[0-9][0-9] s$'

# -- a full first harvest ------------------------------------------------------
M harvest --source m >"$T/out" 2>"$T/err"; rc=$?
check_eq "first harvest exits 0" 0 "$rc"
check "summary: 1000 new in 10 pages" grep -qE "^m: ok: 1000 new, 0 changed, 0 deleted, 0 unchanged, 0 errors, 10 pages in [0-9]+\.[0-9][0-9] s$" "$T/out"
check_eq "every record stored once" 1000 "$(ids "$cfg" m | grep -c ' present$')"
check_eq "... under its OAI identifier" "oai:test:1 present" "$(ids "$cfg" m | sort -t: -k3 -n | head -1)"
M export --source m --format jsonl 2>/dev/null | grep '"local_id":"oai:test:7"' >"$T/r7"
check "... with its MARC fields extracted (title, datestamp)" grep -q '"datestamp":"2020-01-[0-9]*T[0-9:]*Z".*"title":"[^"]* số 7' "$T/r7"
check_eq "Identify, then ListRecords: 10 page requests" 10 "$(plog "$L" 'e.get("verb") == "ListRecords" and e["path"] == "/oai"')"
check_eq "the first list request names marc21 and no from" 1 "$(plog "$L" 'e.get("verb") == "ListRecords" and a.get("metadataPrefix") == "marc21" and "from" not in a')"
check_eq "the User-Agent names mucluc" 0 "$(plog "$L" 'not (e.get("ua") or "").startswith("mucluc")')"
check "pages arrive compressed (gzip or deflate asked for and sent)" test "$(plog "$L" 'e.get("verb") == "ListRecords" and e.get("ce") in ("gzip", "deflate")')" -ge 1

# -- incremental -----------------------------------------------------------------
: >"$L"
M harvest --source m >"$T/out" 2>"$T/err"; rc=$?
check_eq "second run right after: exit 0" 0 "$rc"
check_eq "... sends from = the first run's responseDate" 1 "$(plog "$L" 'a.get("verb") == "ListRecords" and a.get("from") == "2026-01-01T00:00:00Z"')"
check "... and fetches nothing (noRecordsMatch): 0 new, 0 changed" grep -qE "^m: ok: 0 new, 0 changed, 0 deleted, [0-9]+ unchanged, 0 errors" "$T/out"
ctl "$U" clock "advance=3600"
ctl "$U" change "ids=1-3"
ctl "$U" delete "ids=5,6"
ctl "$U" add "count=4"
: >"$L"
M harvest --source m >"$T/out" 2>"$T/err"; rc=$?
check_eq "third run after changes: exit 0" 0 "$rc"
check_eq "... from = the second run's responseDate" 1 "$(plog "$L" 'a.get("verb") == "ListRecords" and a.get("from") == "2026-01-01T00:00:00Z"')"
check "... 4 new, 3 changed, 2 deleted" grep -qE "^m: ok: 4 new, 3 changed, 2 deleted, 0 unchanged, 0 errors, 1 pages" "$T/out"
check_eq "... the deletions are in the store" "oai:test:5 deleted
oai:test:6 deleted" "$(ids "$cfg" m | grep deleted)"
check_eq "... 1002 present" 1002 "$(ids "$cfg" m | grep -c ' present$')"
M export --source m --format jsonl 2>/dev/null | grep '"local_id":"oai:test:2"' >"$T/r2"
check "... the changed record has its new content" grep -q 'bản 2' "$T/r2"
: >"$L"
M harvest --source m >"$T/out" 2>"$T/err"
check_eq "fourth run: from = the third run's responseDate (the clock moved)" 1 "$(plog "$L" 'a.get("verb") == "ListRecords" and a.get("from") == "2026-01-01T01:00:00Z"')"

# -- oai_dc, sets, day granularity ---------------------------------------------
M harvest --source d --source s --source g >"$T/out" 2>"$T/err"; rc=$?
check_eq "oai_dc, set and day-granularity sources: exit 0" 0 "$rc"
check "oai_dc: 1002 new (1000 + 4 added - 2 deleted before it ever saw them)" grep -qE "^d: ok: 1002 new, 0 changed, 0 deleted" "$T/out"
check_eq "... stored as oai_dc" 1 "$(M export --source d --format jsonl 2>/dev/null | grep '"local_id":"oai:test:9"' | grep -c '"format":"oai_dc"')"
check_eq "set luanvan: only its records (every third)" "$(ids "$cfg" d | awk '{split($1,x,":"); if (x[3] % 3 == 0) print}' | wc -l)" "$(ids "$cfg" s | wc -l)"
check "... asked with set=luanvan" test "$(plog "$L" 'e["path"] == "/id=s/oai" and a.get("set") == "luanvan"')" -ge 1
check_eq "day granularity: 298 records (300 - 2 deleted)" 298 "$(ids "$cfg" g | grep -c present)"
: >"$L"
M harvest --source g >"$T/out" 2>"$T/err"
check_eq "... next from is the day before the responseDate (one day of overlap)" 1 "$(plog "$L" 'a.get("verb") == "ListRecords" and a.get("from") == "2025-12-31"')"

# -- --from / --until ------------------------------------------------------------
: >"$L"
M harvest --source d --from 2021-01-01 --until 2021-12-31 >"$T/out" 2>"$T/err"; rc=$?
check_eq "--from/--until: exit 0" 0 "$rc"
check_eq "... sent as given" 1 "$(plog "$L" 'a.get("verb") == "ListRecords" and a.get("from", "").startswith("2021-01-01") and a.get("until", "").startswith("2021-12-31")')"

# -- sources shows the harvest state -----------------------------------------
M sources >"$T/src" 2>&1
check "mucluc sources shows m's last success and last run" \
	bash -c "grep -A1 -E '^m ' '$T/src' | grep -qE '^  harvest: last success 20[0-9-]+T.*; last run: '"

# -- deletions by --full on a provider that keeps no deletes -----------------------
provider_start q --records 200 --page-size 50 --deleted no
cfg2=$(hv_config <<EOF
[source "nd"]
name = No deletes kept
type = commune
url = $PV_URL/oai
metadata_prefix = marc21
EOF
)
"$MUCLUC" -c "$cfg2" init >/dev/null 2>&1
"$MUCLUC" -c "$cfg2" harvest --source nd >"$T/out" 2>"$T/err"
check_eq "deletedRecord=no provider: 200 records" 200 "$(ids "$cfg2" nd | grep -c present)"
ctl "$PV_URL" delete "ids=10-14"
"$MUCLUC" -c "$cfg2" harvest --source nd >"$T/out" 2>"$T/err"
check_eq "an incremental run cannot see vanished records" 200 "$(ids "$cfg2" nd | grep -c present)"
sed -i "s|^url = .*|url = $PV_URL/500=always/oai|" "$cfg2"
"$MUCLUC" -c "$cfg2" harvest --source nd --full >"$T/out" 2>"$T/err"; rc=$?
check_eq "--full against a failing provider: exit 1" 1 "$rc"
check "... FAILED in the summary" grep -qE "^nd: FAILED: " "$T/out"
check_eq "... and nothing is deleted" 200 "$(ids "$cfg2" nd | grep -c present)"
sed -i "s|^url = .*|url = $PV_URL/oai|" "$cfg2"
"$MUCLUC" -c "$cfg2" harvest --source nd --full >"$T/out" 2>"$T/err"; rc=$?
check_eq "--full: exit 0" 0 "$rc"
check "... 5 deleted" grep -qE "^nd: ok: 0 new, 0 changed, 5 deleted, 195 unchanged, 0 errors" "$T/out"
check_eq "... the 5 vanished records are deleted in the store" "oai:test:10 oai:test:11 oai:test:12 oai:test:13 oai:test:14" \
	"$(ids "$cfg2" nd | awk '$2 == "deleted" {print $1}' | sort -t: -k3 -n | xargs)"

# -- the lock ------------------------------------------------------------------------
sed -i "s|^url = .*|url = $PV_URL/slow=1500/oai|" "$cfg2"
"$MUCLUC" -c "$cfg2" harvest --source nd --full >"$T/out1" 2>"$T/err1" &
hp=$!
for i in $(seq 50); do [ "$(plog "$T/q.log" '"slow" in e["path"]')" -ge 1 ] && break; sleep 0.1; done
"$MUCLUC" -c "$cfg2" harvest --source nd >"$T/out" 2>"$T/err"; rc=$?
check_eq "a second concurrent run waits for the first, then harvests (exit 0)" 0 "$rc"
check "... saying it waits for the harvest held by the first's pid" grep -q "waiting for the harvest held by pid $hp" "$T/err"
check "... and harvests after it" grep -qE "^nd: ok: " "$T/out"
wait "$hp"; rc=$?
check_eq "... while the first completes (exit 0)" 0 "$rc"
mc_check_stores
done_testing
