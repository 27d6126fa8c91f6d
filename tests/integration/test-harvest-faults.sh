#!/usr/bin/env bash
# test-harvest-faults.sh — every misbehaviour of the test provider against the
# real `mucluc harvest`: retries (503 + Retry-After, 429, 500, reset, stall),
# hard failures (always 500, HTML page), loop guards (same token with the same
# records forever, endless empty pages, token on noRecordsMatch), a token sent
# again with new records (not a loop: everything arrives), broken XML (invalid UTF-8, control
# characters, undeclared entity, truncated page) with quarantine, compression,
# an expired token, a lying completeListSize, slow pages, and a 30 MB page
# streamed by the provider (peak RSS checked with /usr/bin/time when present).
# Each source has 200 records in pages of 50; the fault hits the first list page
# unless said otherwise. Asserted: exit code, summary line, the records stored
# (the good ones, none twice, none lost), retries seen in the provider's log.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"
hv_require

provider_start p --records 200 --page-size 50
U=$PV_URL; L=$PV_LOG
FAULTS="503=2 429 500 500=always reset stall=6 sametoken repeattoken repeattoken=always
emptypages nrmtoken badutf8 ctrl entity truncate html gzip deflate expired liesize slow=2500"
sid() { echo "f-$1" | tr '=' '-'; }
cfg=$({
	for f in $FAULTS; do
		printf '[source "%s"]\nname = %s\ntype = school\nurl = %s/%s/oai\nmetadata_prefix = marc21\n\n' \
			"$(sid "$f")" "$f" "$U" "$f"
	done
} | hv_config)
data=$(dirname "$cfg")/data
"$MUCLUC" -c "$cfg" init >/dev/null 2>&1
ALL=$(seq 1 200 | sed 's/^/oai:test:/; s/$/ present/' | sort)

run() { # run FAULT: harvest its source; sets rc, out, err, n (stored), S (source id)
	S=$(sid "$1")
	"$MUCLUC" -c "$cfg" harvest --source "$S" >"$T/out.$S" 2>"$T/err.$S"; rc=$?
	out=$T/out.$S; err=$T/err.$S
	n=$(ids "$cfg" "$S" | grep -c ' present$')
}
reqs() { plog "$L" "e['path'] == '/$1/oai' and a.get('verb') == 'ListRecords' and $2"; }
first_page="'resumptionToken' not in a"
fault_token() { # fault_token FAULT: the token of the first request the fault hit
	"$PYTHON" -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["path"] == "/" + sys.argv[2] + "/oai" and e.get("fault") == sys.argv[2]:
        print(e["args"]["resumptionToken"]); break' "$L" "$1"
}
# (records of a page cut short are stored as they stream in, so a retried page
# may count some as unchanged; a restarted list counts its pages again)
all_ok() { # all_ok FAULT WHAT: exit 0, ok summary, exactly the 200 records
	check_eq "$1: $2: exit 0" 0 "$rc"
	[ "$rc" -eq 0 ] || sed 's/^/#   /' "$out" "$err" | head -8
	check "$1: summary says ok with 200 new" grep -qE "^$S: ok: 200 new, 0 changed, 0 deleted, [0-9]+ unchanged, 0 errors, [0-9]+ pages in" "$out"
	if [ "$(ids "$cfg" "$S")" = "$ALL" ]; then
		ok "$1: all 200 records, none twice"
	else
		fail "$1: all 200 records, none twice"
		echo "#   stored: $(ids "$cfg" "$S" | grep -c present) present, $(ids "$cfg" "$S" | awk '{print $1}' | sort | uniq -d | wc -l) twice"
	fi
}
qfiles() { find "$data/quarantine/$S" -type f 2>/dev/null | wc -l; }

# -- transient HTTP failures: retried, then everything arrives ---------------------
run 503=2
all_ok 503=2 "503 twice with Retry-After: 1"
check_eq "503=2: the first page was asked 3 times" 3 "$(reqs 503=2 "$first_page")"
t=$("$PYTHON" -c '
import json, sys
ts = [e["t"] for e in map(json.loads, open(sys.argv[1]))
      if e["path"] == "/503=2/oai" and e["query"] == "verb=ListRecords&metadataPrefix=marc21"]
print("%.2f" % min(b - a for a, b in zip(ts, ts[1:])))' "$L")
echo "# 503=2: $t s at least between attempts"
# Retry-After: 1 wins over the backoff (retry_wait = 0.2): the wait is said, not timed
check "503=2: Retry-After honoured (attempt 1: retrying in 1.0 s)" grep -qF "attempt 1 of 3 failed: HTTP 503; retrying in 1.0 s" "$err"
check "503=2: Retry-After honoured (attempt 2: retrying in 1.0 s)" grep -qF "attempt 2 of 3 failed: HTTP 503; retrying in 1.0 s" "$err"
run 429;   all_ok 429 "429 once";            check_eq "429: retried once" 2 "$(reqs 429 "$first_page")"
run 500;   all_ok 500 "500 once";            check_eq "500: retried once" 2 "$(reqs 500 "$first_page")"
run reset; all_ok reset "connection reset mid-page"; check_eq "reset: retried once" 2 "$(reqs reset "$first_page")"
run stall=6
all_ok stall=6 "page stalls longer than low_speed_time (2 s)"
# at least twice: on a loaded machine a retry may itself be slow enough to retry
n_stall=$(reqs stall=6 "$first_page")
if [ "$n_stall" -ge 2 ]; then ok "stall=6: the stalled page was asked again ($n_stall times)"
else fail "stall=6: the stalled page was asked again (asked $n_stall times)"; fi

# -- hard failures: the source fails cleanly ------------------------------------------
run 500=always
check_eq "500 always: exit 1" 1 "$rc"
check "500 always: summary FAILED" grep -qE "^$S: FAILED: " "$out"
check_eq "500 always: 3 attempts (retries = 3), then given up" 3 "$(reqs 500=always "$first_page")"
check_eq "500 always: nothing stored" 0 "$n"
run html
check_eq "HTML page with status 200: exit 1" 1 "$rc"
check "html: summary FAILED naming HTML" grep -qiE "^$S: FAILED: .*html" "$out"
check "html: no parse storm on stderr (< 20 lines)" test "$(wc -l <"$err")" -lt 20
check_eq "html: nothing stored" 0 "$n"

# -- loop guards ---------------------------------------------------------------------------
# sametoken: page 2 (records 51-100) comes back with the token it was asked
# with, and so does every later request with it: the same token and the same
# 50 identifiers. Page 2 itself is new; the next 3 (MC_MAX_HARVEST_STALE_PAGES)
# bring nothing new: 1 + 1 + 3 = 5 list requests, then the source fails.
run sametoken
check_eq "sametoken (loops forever): exit 1" 1 "$rc"
tok=$(fault_token sametoken)
check "sametoken: the repeated token was sent" test -n "$tok"
check "sametoken: FAILED naming the loop and the token" grep -qF "$S: FAILED: the provider loops: 3 pages in a row brought nothing new (resumption token '$tok' again with the same 50 identifiers)" "$out"
check_eq "sametoken: exactly 5 list requests" 5 "$(reqs sametoken True)"
check_eq "sametoken: the records of the first two pages are stored" 100 "$n"
check "sametoken: stderr counts the pages without progress" grep -qF "1 of 3 such pages in a row" "$err"
check "sametoken: mucluc sources shows the loop as the last error" \
	grep -qF "the provider loops" <("$MUCLUC" -c "$cfg" sources 2>&1)
# repeattoken: page 2 is first answered with the token it was asked with, but
# the provider moves on when asked again: progress, not a loop (the reported
# provider: 190 of 577 records, every night). =always: every page from 2 on.
run repeattoken
all_ok repeattoken "a token sent back once, then the provider moves on"
# the first page; page 2 with its own token back; that token again: page 3 and
# the token of page 4; page 4, the last: 4 list requests
check_eq "repeattoken: the repeated token was followed (4 list requests)" 4 "$(reqs repeattoken True)"
tok=$(fault_token repeattoken)
check "repeattoken: the provider sent a token back" test -n "$tok"
check_eq "repeattoken: that token was asked with twice" 2 "$(reqs repeattoken "a.get('resumptionToken') == '$tok'")"
check "repeattoken: no loop note" test "$(grep -c 'nothing new' "$err")" -eq 0
run repeattoken=always
all_ok repeattoken=always "every token sent back once"
run emptypages
check_eq "endless empty pages: exit 1" 1 "$rc"
check "emptypages: summary FAILED" grep -qE "^$S: FAILED: " "$out"
# the first page, then HV_MAX_EMPTY_PAGES (10) empty pages are tolerated; the 11th fails
check_eq "emptypages: stopped after 1 + 11 pages" 12 "$(reqs emptypages True)"
check "emptypages: FAILED saying why" grep -qF "$S: FAILED: more than 10 empty pages in a row with resumption tokens" "$out"
check_eq "emptypages: the first page's 50 records are stored" 50 "$n"
run nrmtoken
check_eq "nrmtoken: the token on noRecordsMatch is not followed" 0 "$(reqs nrmtoken "'resumptionToken' in a")"
check_eq "nrmtoken: exit 1" 1 "$rc"
check "nrmtoken: FAILED saying why" grep -qF "$S: FAILED: the provider answered noRecordsMatch with a resumption token" "$out"
check_eq "nrmtoken: nothing stored" 0 "$n"

# -- broken XML: good records kept, the page quarantined, the record named ---------
for f in badutf8 ctrl entity; do
	run $f
	check_eq "$f: exit 1 (a bad record)" 1 "$rc"
	check "$f: summary line counts 199 new, 1 error" grep -qE "^$S: ok: 199 new, 0 changed, 0 deleted, 0 unchanged, 1 errors, 4 pages in" "$out"
	got=$(ids "$cfg" "$S")
	check_eq "$f: the 199 good records are stored" "$(echo "$ALL" | grep -v '^oai:test:2 ')" \
		"$(echo "$got" | grep -v '^oai:test:2 ')"
	check "$f: the bad page is kept in quarantine/$S" test "$(qfiles)" -ge 1
	check "$f: stderr names the record or the page" grep -qE "oai:test:2|/$f/oai" "$err"
done
# truncate: the first page ends inside its second record once; the page is
# fetched again (record 1, stored from the cut page, counts as unchanged)
run truncate
check_eq "truncated page once: exit 0 (the page is fetched again)" 0 "$rc"
check "truncate: summary ok, 200 new, 1 unchanged" grep -qE "^$S: ok: 200 new, 0 changed, 0 deleted, 1 unchanged, 0 errors, 4 pages in" "$out"
check "truncate: the retry is on stderr" grep -qF "attempt 1 of 3 failed: truncated page" "$err"
check_eq "truncate: the first page was asked twice" 2 "$(reqs truncate "$first_page")"
check "truncate: the page is kept in quarantine" test "$(qfiles)" -ge 1
check_eq "truncate: all 200 records, none twice" "$ALL" "$(ids "$cfg" "$S")"

# -- compression, expired token, lying size, slow pages: all arrive ---------------------
run gzip;    all_ok gzip "gzip Content-Encoding"
check "gzip: sent gzip" test "$(plog "$L" "e['path'] == '/gzip/oai' and e.get('ce') == 'gzip'")" -ge 4
run deflate; all_ok deflate "deflate Content-Encoding"
run expired
all_ok expired "badResumptionToken on the 3rd page"
check "expired: the list was restarted (a second request without token)" test "$(reqs expired "$first_page")" -ge 2
run liesize; all_ok liesize "completeListSize lies"
run slow=2500
all_ok slow=2500 "slow pages (2.5 s each, 10 pieces)"

# -- a 30 MB page streamed by the provider (never held in memory by either side) ----
S="f-huge"
printf '[source "%s"]\nname = Huge page\ntype = school\nurl = %s/huge=30/oai\nmetadata_prefix = marc21\n' \
	"$S" "$U" >>"$cfg"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f %M -o "$T/rss" "$MUCLUC" -c "$cfg" harvest --no-merge --source "$S" >"$T/out.$S" 2>"$T/err.$S"; rc=$?
else
	"$MUCLUC" -c "$cfg" harvest --no-merge --source "$S" >"$T/out.$S" 2>"$T/err.$S"; rc=$?
fi
k=$("$PYTHON" -c '
import json, sys
print(max([json.loads(l).get("records", 0) for l in open(sys.argv[1]) if "/huge=30/" in l] or [0]))' "$L")
check_eq "huge=30: exit 0" 0 "$rc"
check "huge=30: summary ok with every record of the page ($k)" grep -qE "^$S: ok: $k new, 0 changed, 0 deleted, 0 unchanged, 0 errors, 1 pages in" "$T/out.$S"
check_eq "huge=30: $k records stored" "$k" "$(ids "$cfg" "$S" | grep -c ' present$')"
if [ -s "$T/rss" ]; then
	check "huge=30: peak RSS $(( $(tail -1 "$T/rss") / 1024 )) MiB <= 100 MiB" test "$(tail -1 "$T/rss")" -le 102400
else
	skip "huge=30: peak RSS" "/usr/bin/time is not installed"
fi
mc_check_stores
done_testing
