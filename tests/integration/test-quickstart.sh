#!/usr/bin/env bash
# The README's first command: deploy/quickstart.sh builds, imports the bundled
# sample catalogue and ends by printing its counts per library.
. "$(dirname "$0")/lib.sh"

out=$T/quickstart.out
# it ends serving: on a port of the kernel's choice here, stopped by SIGTERM
MUCLUC_QUICKSTART_LISTEN=127.0.0.1:0 bash "$SRCDIR/deploy/quickstart.sh" "$T/qs" >"$out" 2>&1 &
qs=$!
url=
for _ in $(seq 1 6000); do
	url=$(grep -o '^mucluc: serving http://[^ ]*/' "$out" | sed 's/^mucluc: serving //')
	[ -n "$url" ] && break
	kill -0 "$qs" 2>/dev/null || break
	sleep 0.1
done
check "it ends serving on 127.0.0.1" test -n "$url"
check "  and prints example curl commands" grep -q "curl -s '${url}api/search?q=" "$out"
code=$(curl -s -o "$T/health" -w '%{http_code}' "${url}health")
check_eq "  the server answers /health" 200 "$code"
code=$(curl -s -o "$T/search" -w '%{http_code}' "${url}api/search?q=lich+su&size=1")
check_eq "  and searches the sample catalogue" 200 "$code"
kill -TERM "$qs"
if wait "$qs"; then
	ok "quickstart.sh exits 0"
else
	fail "quickstart.sh exits 0"
	tail -20 "$out" | sed 's/^/#   /'
fi
check "it printed the per-library table" grep -q '^ID  *NAME  *TYPE  *PROVINCE  *RECORDS' "$out"

# every library of the manifest is in the table with its record count
while IFS=$'\t' read -r id file format encoding records; do
	[ "$id" = "id" ] && continue
	got=$(awk -v id="$id" '$1 == id { print }' "$out" | grep -oE "  $records  +0  " | head -1)
	if [ -n "$got" ]; then
		ok "$id: $records records, 0 deleted"
	else
		fail "$id: $records records, 0 deleted"
		grep "^$id " "$out" | sed 's/^/#   /'
	fi
done <"$SRCDIR/tests/data/sample/manifest.tsv"

check "no record was reported bad" bash -c "! grep -E ' [1-9][0-9]* bad' '$out'"
check "a second run imports nothing new (unchanged records are not rewritten)" \
	bash -c "MUCLUC_QUICKSTART_SERVE=no bash '$SRCDIR/deploy/quickstart.sh' '$T/qs' | grep -E 'read, 0 new, 0 changed' | wc -l | grep -qx 5"
mc_check_stores
done_testing
