#!/usr/bin/env bash
# test-cli.sh — the mucluc command end to end: init, import (MARCXML, ISO 2709,
# oai_dc in an OAI-PMH envelope), show, export (JSON lines, MARCXML checked
# against MARC21slim.xsd), sources, stats, and re-import without changes.
. "$(dirname "$0")/lib.sh"

EX=/usr/share/doc/idzebra-2.0/examples
SANDBURG=$EX/marcxml/collection-sandburg-1.xml
ISO_GZ=$EX/marc21/sample-marc.gz
OAI_GZ=$EX/oai-pmh/data/oai-caltech.xml.gz

cfg=$(mk_config <<'EOF'
[source "loc"]
name = Library of Congress (sample)
type = specialised
province = Hà Nội

[source "zebra"]
name = Thư viện tỉnh mẫu
type = provincial
province = Lâm Đồng

[source "caltech"]
name = Caltech CS technical reports
type = university
province = Lâm Đồng

[source "empty"]
name = Thư viện xã chưa có dữ liệu
type = commune
EOF
)
data=$(dirname "$cfg")/data
M() { "$MUCLUC" -c "$cfg" "$@"; }

# -- the command itself ---------------------------------------------------
out=$("$MUCLUC" --version); check_eq "--version prints the version" "mucluc" "${out%% *}"
check "--help lists the commands" bash -c '"$0" --help | grep -q "^  import --source ID FILE"' "$MUCLUC"
check "import --help exits 0 and explains" bash -c '"$0" import --help | grep -q -- "--encoding"' "$MUCLUC"
"$MUCLUC" frobnicate >/dev/null 2>&1; check_eq "an unknown command exits 2" 2 $?
"$MUCLUC" -c "$T/none.ini" sources >/dev/null 2>"$T/err"; rc=$?
check_eq "a missing configuration exits 2" 2 "$rc"
check "... and says which file" grep -q "none.ini" "$T/err"
printf '[source "x"]\nname = X\ntype = school\nnmae = y\n' >"$T/bad.ini"
"$MUCLUC" -c "$T/bad.ini" sources >/dev/null 2>"$T/err"; rc=$?
check_eq "a bad configuration exits 2" 2 "$rc"
check "... naming file, line and key" grep -qF "bad.ini:4: unknown key 'nmae' in [source \"x\"]" "$T/err"

# -- init -------------------------------------------------------------------
M import --source loc "$SANDBURG" >/dev/null 2>"$T/err"; rc=$?
check_eq "import before init exits 2" 2 "$rc"
check "... and says to run init" grep -q "mucluc init" "$T/err"
check "init exits 0" M init
check "init created store and quarantine" test -d "$data/store" -a -d "$data/quarantine"
check "init again is fine (idempotent)" M init

# -- import -----------------------------------------------------------------
M import --source loc "$SANDBURG" >"$T/out" 2>"$T/err"; rc=$?
check_eq "import MARCXML exits 0" 0 "$rc"
check "summary line for MARCXML" grep -qE "^$SANDBURG: 1 read, 1 new, 0 changed, 0 unchanged, 0 deleted, 0 bad \(encodings: utf-8 1\) in [0-9.]+ s$" "$T/out"

zcat "$ISO_GZ" >"$T/sample.mrc"
n_iso=$(yaz-marcdump "$T/sample.mrc" 2>/dev/null | grep -cE '^[0-9]{5}[a-z ]')
M import --source zebra --format iso2709 "$T/sample.mrc" >"$T/out" 2>"$T/err"; rc=$?
check_eq "import ISO 2709 exits 0" 0 "$rc"
check "summary line for ISO 2709 counts every record" grep -qE "^$T/sample.mrc: $n_iso read, [0-9]+ new, [0-9]+ changed, 0 unchanged, 0 deleted, 0 bad" "$T/out"

zcat "$OAI_GZ" >"$T/caltech.xml"
M import --source caltech "$T/caltech.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "import oai_dc (OAI-PMH envelope) exits 0" 0 "$rc"
check "summary line for oai_dc" grep -qE "^$T/caltech.xml: 100 read, 100 new, 0 changed, 0 unchanged, 0 deleted, 0 bad" "$T/out"

# -- show -------------------------------------------------------------------
M show loc:92005291 >"$T/show" 2>&1; rc=$?
check_eq "show exits 0" 0 "$rc"
check "show prints the extracted title" grep -qE "^title +Arithmetic" "$T/show"
check "show prints MARC lines like yaz-marcdump" grep -qF '245 10 $a Arithmetic / $c Carl Sandburg ; illustrated as an anamorphic adventure by Ted Rand.' "$T/show"
check "show prints the leader" grep -qE '^[0-9 ]{5}cam' "$T/show"
M show --json loc:92005291 >"$T/show.json"
check "show --json has the id" grep -qF '"id": "loc:92005291"' "$T/show.json"
check "show --json has the datestamp from 005" grep -qF '"datestamp": "1993-05-21T15:51:41Z"' "$T/show.json"
check "show --json includes the MARC" grep -qF '"marc": {' "$T/show.json"
check "show --json has names with kind" grep -qF '"kind": "personal"' "$T/show.json"
M show "caltech:oai:caltechcstr.library.caltech.edu:4" >"$T/show" 2>&1
check "show an oai_dc record by its OAI identifier (':' in the id)" grep -qE "^title +A Language Processor and a Sample Language" "$T/show"
check "... with its DC elements" grep -qF "dc:creator Ayres, Ronald" "$T/show"
M show loc:no-such-record >/dev/null 2>"$T/err"; rc=$?
check_eq "show of a missing record exits 1" 1 "$rc"
M show nocolon >/dev/null 2>&1; check_eq "show without SOURCE:ID exits 2" 2 $?

# -- export JSON lines ------------------------------------------------------
total=$((1 + n_iso + 100))
M export >"$T/all.jsonl"; rc=$?
check_eq "export exits 0" 0 "$rc"
check_eq "export writes one line per record" "$total" "$(wc -l <"$T/all.jsonl")"
check_eq "every line is one JSON object with an id first" "$total" "$(grep -c '^{"id":"[^"]*:[^"]*",.*}$' "$T/all.jsonl")"
check "export has no metadata by default" bash -c '! grep -q "\"marc\":" "$0"' "$T/all.jsonl"
M export --source loc --with-metadata >"$T/loc.jsonl"
check_eq "export --source keeps to the source" 1 "$(wc -l <"$T/loc.jsonl")"
check "export --with-metadata adds marc" grep -qF '"marc":{"leader":' "$T/loc.jsonl"
check "the loc record's fields are exported" grep -qF '"title":"Arithmetic"' "$T/loc.jsonl"

# -- export MARCXML, validated ----------------------------------------------
M export --format marcxml >"$T/all.xml"; rc=$?
check_eq "export --format marcxml exits 0" 0 "$rc"
check_eq "MARCXML holds every present record" "$total" "$(grep -c '^<record>' "$T/all.xml")"
check "MARCXML is well-formed" xmllint --noout "$T/all.xml"
if [ -f "$SHARED/xsd/MARC21slim.xsd" ]; then
	check "MARCXML is valid against MARC21slim.xsd" xmllint --noout --schema "$SHARED/xsd/MARC21slim.xsd" "$T/all.xml"
else
	skip "MARCXML is valid against MARC21slim.xsd" "$SHARED/xsd is absent"
fi
check "oai_dc crosswalked: title in 245" grep -qF '<subfield code="a">A Language Processor and a Sample Language</subfield>' "$T/all.xml"

# -- sources and stats ------------------------------------------------------
M sources >"$T/sources"; rc=$?
check_eq "sources exits 0" 0 "$rc"
check "sources has a header" grep -qE '^ID +NAME +TYPE +PROVINCE +RECORDS +DELETED +LAST CHANGE' "$T/sources"
check "sources lists loc with 1 record" grep -qE '^loc +Library of Congress \(sample\) +specialised +Hà Nội +1 +0 +[0-9]{4}-' "$T/sources"
check "sources lists a configured source without records as 0" grep -qE '^empty +Thư viện xã chưa có dữ liệu +commune +- +0 +0 +-$' "$T/sources"

M stats >"$T/stats"; rc=$?
check_eq "stats exits 0" 0 "$rc"
check "stats counts libraries" grep -qF "Libraries:  4 configured, 3 with records" "$T/stats"
check "stats counts records" grep -qF "Records:    $total present, 0 deleted" "$T/stats"
check "stats groups by province" grep -qE "^  Lâm Đồng +2 configured, 2 with records, $((n_iso + 100)) records" "$T/stats"
M stats --json >"$T/stats.json"
check "stats --json has the provincial figures" grep -qF '"with_records": 3' "$T/stats.json"
feed_before=$(grep -oE '"feed_entries": [0-9]+' "$T/stats.json" | grep -oE '[0-9]+$')
check "stats --json has the feed length" test -n "$feed_before"

# -- re-import: unchanged, the feed does not grow ---------------------------
cp "$T/all.jsonl" "$T/all.before"
M import --source loc "$SANDBURG" >"$T/out" 2>&1; rc=$?
check_eq "re-import exits 0" 0 "$rc"
check "re-import: 0 new 0 changed 1 unchanged" grep -qE ": 1 read, 0 new, 0 changed, 1 unchanged, 0 deleted, 0 bad" "$T/out"
M import --source caltech "$T/caltech.xml" >"$T/out" 2>&1
check "re-import oai_dc: 0 new 0 changed" grep -qE ": 100 read, 0 new, 0 changed, 100 unchanged" "$T/out"
feed_after=$(M stats --json | grep -oE '"feed_entries": [0-9]+' | grep -oE '[0-9]+$')
check_eq "the change feed did not grow" "$feed_before" "$feed_after"
M export >"$T/all.after"
check "the export is byte for byte the same" cmp -s "$T/all.before" "$T/all.after"

# -- usage errors -----------------------------------------------------------
M import "$SANDBURG" >/dev/null 2>&1; check_eq "import without --source exits 2" 2 $?
M import --source nope "$SANDBURG" >/dev/null 2>"$T/err"; rc=$?
check_eq "import for an unconfigured source exits 2" 2 "$rc"
check "... and names it" grep -q '"nope"' "$T/err"
M import --source loc --format pdf "$SANDBURG" >/dev/null 2>&1; check_eq "a bad --format exits 2" 2 $?
M import --source loc "$T/missing.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "a file that cannot be read exits 1" 1 "$rc"
check "... and is named" grep -q "missing.xml" "$T/err"

mc_check_stores
done_testing
