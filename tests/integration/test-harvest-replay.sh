#!/usr/bin/env bash
# test-harvest-replay.sh — the real DSpace captures in
# ../shared/data/oai-captures/dspace-erasmus/ served from 127.0.0.1 by the test
# provider's replay mode and harvested by `mucluc harvest`: 16 + 81 oai_dc
# records arrive, with their DC fields.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"
hv_require
CAP=$SHARED/data/oai-captures/dspace-erasmus
if [ ! -d "$CAP" ]; then
	skip "replay of the DSpace captures" "$CAP is absent"; done_testing
fi

provider_start r --replay "$CAP"
cfg=$(hv_config <<EOF
[source "eur1"]
name = Erasmus capture 1
type = university
url = $PV_URL/replay/fake1/oai
metadata_prefix = oai_dc

[source "eur2"]
name = Erasmus capture 2
type = university
url = $PV_URL/replay/fake2/oai
metadata_prefix = oai_dc
EOF
)
"$MUCLUC" -c "$cfg" init >/dev/null 2>&1
"$MUCLUC" -c "$cfg" harvest --source eur1 --source eur2 >"$T/out" 2>"$T/err"; rc=$?
check_eq "harvest of the two captures exits 0" 0 "$rc"
check "eur1: 16 new" grep -qE "^eur1: ok: 16 new, 0 changed, 0 deleted, 0 unchanged, 0 errors, 1 pages in" "$T/out"
# fake2's 81 records include 2 deletions (header status="deleted") of records
# this store never had: they are not stored, the other 79 are new
check "eur2: 81 records, 79 new (2 are deletions)" grep -qE "^eur2: ok: 79 new, 0 changed, 0 deleted, 2 unchanged, 0 errors, 1 pages in" "$T/out"
check_eq "16 records stored for eur1" 16 "$(ids "$cfg" eur1 | grep -c present)"
check_eq "79 records stored for eur2" 79 "$(ids "$cfg" eur2 | grep -c present)"
"$MUCLUC" -c "$cfg" export --source eur1 --format jsonl 2>/dev/null | grep '"local_id":"hdl:1765/308"' >"$T/r"
check "hdl:1765/308 has its title and datestamp" grep -q '"datestamp":"2003-04-15T10:18:51Z".*"title":"' "$T/r"
check_eq "the identifiers are those of the capture's live records" \
	"$(grep -o '<header><identifier>[^<]*' "$CAP/fake2/00002.xml" | sed 's/.*<identifier>//' | sort | xargs)" \
	"$(ids "$cfg" eur2 | awk '{print $1}' | sort | xargs)"
# a second run: from = the capture's responseDate (2003-04-30T16:08:01Z for fake1)
"$MUCLUC" -c "$cfg" harvest --source eur1 >"$T/out" 2>"$T/err"; rc=$?
check_eq "a second run exits 0" 0 "$rc"
check_eq "... and sends from = the Identify responseDate of the capture" 1 \
	"$(plog "$PV_LOG" 'a.get("verb") == "ListRecords" and a.get("from") == "2003-04-30T16:08:01Z"')"
check "... storing nothing new" grep -qE "^eur1: ok: 0 new, 0 changed, 0 deleted" "$T/out"
mc_check_stores
done_testing
