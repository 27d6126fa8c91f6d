#!/usr/bin/env bash
# test-harvest-provider.sh — the OAI-PMH test provider itself (no mucluc):
# responses valid against OAI-PMH.xsd, the protocol's error codes, resumption
# tokens, from/until/set, deleted records, the control interface, the request
# log and the misbehaviours the harvest tests rely on.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"

if ! command -v "$PYTHON" >/dev/null || ! command -v xmllint >/dev/null; then
	skip "provider" "python3 or xmllint missing"; exit 0
fi
provider_start p --records 250 --page-size 100
U=$PV_URL
get() { # get PATH_AND_QUERY FILE [curl options]: body to FILE, prints the HTTP status
	local p=$1 f=$2; shift 2
	"$PYTHON" - "$U$p" "$f" "$@" <<'EOF'
import sys, urllib.request, urllib.error, zlib, gzip
req = urllib.request.Request(sys.argv[1], headers={"Accept-Encoding": sys.argv[3]} if len(sys.argv) > 3 else {})
try:
    r = urllib.request.urlopen(req, timeout=20)
    code, body, ce = r.status, r.read(), r.headers.get("Content-Encoding")
except urllib.error.HTTPError as e:
    code, body, ce = e.code, e.read(), None
except Exception as e:  # reset, truncated
    code, body, ce = "error", b"", None
if ce == "gzip": body = gzip.decompress(body)
if ce == "deflate": body = zlib.decompress(body)
open(sys.argv[2], "wb").write(body)
print(code if ce is None else "%s %s" % (code, ce))
EOF
}
valid() { # valid FILE: against the OAI-PMH schema (when ../shared is there)
	xmllint --noout --schema "$SHARED/xsd/OAI-PMH.xsd" "$1" >"$T/xsd.out" 2>&1
}
token() { sed -n 's/.*<resumptionToken[^>]*>\([^<]*\)<.*/\1/p' "$1"; }
records() { grep -o '<record>' "$1" | wc -l; }
errcode() { sed -n 's/.*<error code="\([a-zA-Z]*\)".*/\1/p' "$1"; }

# -- valid responses ----------------------------------------------------------
n=0
for q in "verb=Identify" "verb=ListMetadataFormats" "verb=ListSets" \
	"verb=ListRecords&metadataPrefix=marc21" "verb=ListRecords&metadataPrefix=oai_dc" \
	"verb=ListIdentifiers&metadataPrefix=oai_dc&set=luanvan" \
	"verb=GetRecord&identifier=oai:test:7&metadataPrefix=marc21" \
	"verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01" "verb=Frob" \
	"verb=ListRecords" "verb=ListRecords&metadataPrefix=mods" \
	"verb=ListRecords&resumptionToken=bogus" \
	"verb=GetRecord&identifier=oai:test:99999&metadataPrefix=oai_dc"; do
	n=$((n + 1))
	get "/oai?$q" "$T/r$n.xml" >/dev/null
done
if [ -f "$SHARED/xsd/OAI-PMH.xsd" ]; then
	bad=""
	for i in $(seq $n); do valid "$T/r$i.xml" || bad="$bad r$i"; done
	check_eq "every verb's response and every error is valid against OAI-PMH.xsd" "" "$bad"
else
	skip "responses valid against OAI-PMH.xsd" "$SHARED/xsd is absent"
fi
check "Identify: granularity seconds, deletedRecord persistent, responseDate = --now" \
	grep -q '<responseDate>2026-01-01T00:00:00Z</responseDate>.*' "$T/r1.xml"
grep -q '<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>' "$T/r1.xml" &&
	grep -q '<deletedRecord>persistent</deletedRecord>' "$T/r1.xml"; check_eq "... and the policies" 0 $?
check_eq "first page holds a page of records" 100 "$(records "$T/r4.xml")"
check_eq "noRecordsMatch for a from in the future" noRecordsMatch "$(errcode "$T/r8.xml")"
check_eq "badVerb" badVerb "$(errcode "$T/r9.xml")"
check_eq "badArgument without metadataPrefix" badArgument "$(errcode "$T/r10.xml")"
check_eq "cannotDisseminateFormat" cannotDisseminateFormat "$(errcode "$T/r11.xml")"
check_eq "badResumptionToken" badResumptionToken "$(errcode "$T/r12.xml")"
check_eq "idDoesNotExist" idDoesNotExist "$(errcode "$T/r13.xml")"
get "/oai?verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00Z&until=2023-01-01T00:00:00Z" "$T/x.xml" >/dev/null
check_eq "badArgument when from > until" badArgument "$(errcode "$T/x.xml")"
get "/gran=day/oai?verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00Z" "$T/x.xml" >/dev/null
check_eq "badArgument for a seconds from on a day-granularity repository" badArgument "$(errcode "$T/x.xml")"
get "/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=marc21" "$T/x.xml" >/dev/null
check_eq "badArgument for a repeated argument" badArgument "$(errcode "$T/x.xml")"

# -- paging -------------------------------------------------------------------
tok=$(token "$T/r4.xml"); all=100; pages=1
while [ -n "$tok" ] && [ $pages -lt 10 ]; do
	get "/oai?verb=ListRecords&resumptionToken=$tok" "$T/pg.xml" >/dev/null
	all=$((all + $(records "$T/pg.xml"))); pages=$((pages + 1)); tok=$(token "$T/pg.xml")
done
check_eq "following the tokens gives every record once (3 pages)" "250 3" "$all $pages"
check "the last page has an empty token with completeListSize" \
	grep -q '<resumptionToken completeListSize="250" cursor="200"></resumptionToken>' "$T/pg.xml"

# -- the control interface: clock, change, delete, add -----------------------
ctl "$U" clock "advance=3600"
ctl "$U" change "ids=1-3"
ctl "$U" delete "ids=10"
ctl "$U" add "count=2"
get "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-01T01:00:00Z" "$T/inc.xml" >/dev/null
check_eq "from= selects exactly what changed (3 changed, 1 deleted, 2 added)" 6 "$(grep -c '<header' "$T/inc.xml")"
check "a deletion is a header with status=deleted" grep -q '<header status="deleted"><identifier>oai:test:10</identifier><datestamp>2026-01-01T01:00:00Z' "$T/inc.xml"
check "responseDate follows the provider's clock" grep -q '<responseDate>2026-01-01T01:00:00Z' "$T/inc.xml"
get "/del=no/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-01T01:00:00Z" "$T/inc.xml" >/dev/null
check_eq "deletedRecord=no: a deleted record disappears" 5 "$(grep -c '<header>' "$T/inc.xml")"

# -- the request log ----------------------------------------------------------
check_eq "the log has one line per request with the query string" 1 \
	"$(plog "$PV_LOG" 'e["query"] == "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-01T01:00:00Z" and e["path"] == "/oai"')"

# -- misbehaviours ----------------------------------------------------------
q="verb=ListRecords&metadataPrefix=marc21"
s1=$(get "/503=2/oai?$q" "$T/f.xml"); s2=$(get "/503=2/oai?$q" "$T/f.xml"); s3=$(get "/503=2/oai?$q" "$T/f.xml")
check_eq "503 twice, then the page" "503 503 200" "$s1 $s2 $s3"
check_eq "... with Retry-After (logged)" 2 "$(plog "$PV_LOG" 'e.get("fault") == "503"')"
check_eq "429 once, then the page" "429 200" "$(get "/429/oai?$q" "$T/f.xml") $(get "/429/oai?$q" "$T/f.xml")"
check_eq "500 always" "500 500" "$(get "/500=always/oai?$q" "$T/f.xml") $(get "/500=always/oai?$q" "$T/f.xml")"
check_eq "a connection reset mid-page, then the page" "error 200" "$(get "/reset/oai?$q" "$T/f.xml") $(get "/reset/oai?$q" "$T/f.xml")"
get "/truncate/oai?$q" "$T/f.xml" >/dev/null
xmllint --noout "$T/f.xml" 2>/dev/null; check_eq "a truncated page is not well-formed" 1 "$?"
check_eq "... and holds one complete record" 1 "$(grep -o '</record></metadata></record>' "$T/f.xml" | wc -l)"
for f in badutf8 ctrl entity; do
	get "/$f/oai?$q" "$T/f.xml" >/dev/null
	xmllint --noout "$T/f.xml" >"$T/f.err" 2>&1; rc=$?
	check_eq "$f: the page is broken (line 6, the second record)" "1 6" "$rc $(sed -n 's/^[^:]*:\([0-9]*\):.*/\1/p' "$T/f.err" | head -1)"
done
check_eq "... and the log names the bad record" 3 "$(plog "$PV_LOG" '"bad_record" in e')"
get "/html/oai?$q" "$T/f.xml" >/dev/null
check "an HTML error page with status 200" grep -q '<h1>Internal Server Error</h1>' "$T/f.xml"
check_eq "gzip when asked" "200 gzip" "$(get "/oai?verb=Identify" "$T/f.xml" gzip)"
check_eq "deflate when asked" "200 deflate" "$(get "/oai?verb=Identify" "$T/f.xml" deflate)"
check_eq "plain when not asked" "200" "$(get "/oai?verb=Identify" "$T/f.xml")"
get "/expired/oai?$q" "$T/e1.xml" >/dev/null
get "/expired/oai?verb=ListRecords&resumptionToken=$(token "$T/e1.xml")" "$T/e2.xml" >/dev/null
t3=$(token "$T/e2.xml")
get "/expired/oai?verb=ListRecords&resumptionToken=$t3" "$T/e3.xml" >/dev/null
get "/expired/oai?verb=ListRecords&resumptionToken=$t3" "$T/e4.xml" >/dev/null
check_eq "expired: badResumptionToken on the 3rd page the first time only" "badResumptionToken " \
	"$(errcode "$T/e3.xml") $(errcode "$T/e4.xml")"
get "/sametoken/oai?$q" "$T/s1.xml" >/dev/null
get "/sametoken/oai?verb=ListRecords&resumptionToken=$(token "$T/s1.xml")" "$T/s2.xml" >/dev/null
check_eq "sametoken: the 2nd page returns the token it was asked with" "$(token "$T/s1.xml")" "$(token "$T/s2.xml")"
get "/sametoken/oai?verb=ListRecords&resumptionToken=$(token "$T/s1.xml")" "$T/s3.xml" >/dev/null
check "sametoken: ... and again, with the same records (a loop)" cmp -s \
	<(grep -o '<identifier>[^<]*' "$T/s2.xml") <(grep -o '<identifier>[^<]*' "$T/s3.xml")
get "/repeattoken/oai?$q" "$T/r1.xml" >/dev/null
get "/repeattoken/oai?verb=ListRecords&resumptionToken=$(token "$T/r1.xml")" "$T/r2.xml" >/dev/null
get "/repeattoken/oai?verb=ListRecords&resumptionToken=$(token "$T/r1.xml")" "$T/r3.xml" >/dev/null
check_eq "repeattoken: the 2nd page returns the token it was asked with" "$(token "$T/r1.xml")" "$(token "$T/r2.xml")"
check "repeattoken: asked again, the next records and a new token" test \
	"$(grep -o '<identifier>[^<]*' "$T/r2.xml" | tail -1)" != "$(grep -o '<identifier>[^<]*' "$T/r3.xml" | tail -1)" \
	-a "$(records "$T/r3.xml")" -gt 0 -a "$(token "$T/r3.xml")" != "$(token "$T/r2.xml")"
check "repeattoken: no identifier twice across the three pages" test -z \
	"$(cat "$T/r1.xml" "$T/r2.xml" "$T/r3.xml" | grep -o '<identifier>[^<]*' | sort | uniq -d)"
get "/emptypages/oai?$q" "$T/m1.xml" >/dev/null
get "/emptypages/oai?verb=ListRecords&resumptionToken=$(token "$T/m1.xml")" "$T/m2.xml" >/dev/null
check_eq "emptypages: a page without records but with a new token" "0 yes" \
	"$(records "$T/m2.xml") $([ -n "$(token "$T/m2.xml")" ] && [ "$(token "$T/m2.xml")" != "$(token "$T/m1.xml")" ] && echo yes)"
get "/nrmtoken/oai?$q" "$T/f.xml" >/dev/null
check "nrmtoken: noRecordsMatch with a resumption token" grep -q 'noRecordsMatch.*<resumptionToken>' "$T/f.xml"
get "/liesize/oai?$q" "$T/f.xml" >/dev/null
check "liesize: completeListSize says 25 for 252 records" grep -q 'completeListSize="25"' "$T/f.xml"
get "/huge=3/oai?$q" "$T/f.xml" >/dev/null
check "huge=3: a streamed page of about 3 MB, well-formed" xmllint --noout "$T/f.xml"
sz=$(stat -c %s "$T/f.xml"); check_eq "... of 3 MB or a little more" 1 "$([ "$sz" -ge 3145728 ] && [ "$sz" -lt 5000000 ] && echo 1)"
t0=$(date +%s.%N); get "/slow=1000/oai?$q" "$T/f.xml" >/dev/null; t1=$(date +%s.%N)
# lower bounds only: the provider sleeps that long; a loaded machine only adds
check_eq "slow=1000: a page takes a second or more" 1 "$("$PYTHON" -c "print(int($t1 - $t0 >= 0.9))")"
t0=$(date +%s.%N); get "/stall=2/oai?$q" "$T/f.xml" >/dev/null; t1=$(date +%s.%N)
check_eq "stall=2: the page stops half way for 2 s or more" 1 "$("$PYTHON" -c "print(int($t1 - $t0 >= 1.9))")"

# -- replay of the DSpace captures ------------------------------------------
if [ -d "$SHARED/data/oai-captures/dspace-erasmus" ]; then
	provider_start r --replay "$SHARED/data/oai-captures/dspace-erasmus"
	U=$PV_URL
	get "/replay/fake1/oai?verb=ListRecords&metadataPrefix=oai_dc" "$T/c1.xml" >/dev/null
	get "/replay/fake2/oai?verb=ListRecords&metadataPrefix=oai_dc&from=2004-01-01T00:00:00Z" "$T/c2.xml" >/dev/null
	check_eq "replay serves the captured ListRecords (16 and 81 records)" "16 81" "$(records "$T/c1.xml") $(records "$T/c2.xml")"
	get "/replay/fake2/oai?verb=Identify" "$T/c3.xml" >/dev/null
	check "a capture without Identify gets a made-up one" grep -q '<granularity>' "$T/c3.xml"
else
	skip "replay of the DSpace captures" "$SHARED/data/oai-captures is absent"
fi
mc_check_stores
done_testing
