#!/usr/bin/env bash
# `mucluc check [--repair]` with the real CLI: a merged store is clean (exit
# 0, nothing on stdout); damages written with mdb_load are reported one line
# each (exit 1); --repair fixes what can be derived and says so, and reports
# what cannot be derived; usage and store errors exit 2.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/cat"
cp "$SRCDIR/tests/data/sample/sample.ini" "$T/cat/"
cfg=$T/cat/sample.ini
m() { "$MUCLUC" -c "$cfg" "$@"; }
S=$T/cat/data/store

check "init" m init
check "import nb-tv-tinh (and merge)" m import --source nb-tv-tinh "$SRCDIR/tests/data/sample/nb-tv-tinh.xml"
check "import hn-dh-1 (and merge)" m import --source hn-dh-1 "$SRCDIR/tests/data/sample/hn-dh-1.oai.xml"

m check >"$T/out" 2>"$T/err"; rc=$?
check_eq "a merged store: exit 0" 0 "$rc"
check_eq "... nothing on stdout" "" "$(cat "$T/out")"
check "... the summary says 0 problems" grep -qE "^mucluc check: 0 problems; [0-9]+ records" "$T/err"

m check --bogus >/dev/null 2>&1; check_eq "an unknown option: exit 2" 2 "$?"
m check extra >/dev/null 2>&1; check_eq "an argument: exit 2" 2 "$?"
printf '[catalogue]\nname = x\ndata_dir = %s/nowhere\nrepository_identifier = x.invalid\nadmin_email = a@example.org\n' \
	"$T" >"$T/none.ini"
"$MUCLUC" -c "$T/none.ini" check >/dev/null 2>"$T/err"; rc=$?
check_eq "no store: exit 2" 2 "$rc"
check "... saying so" grep -q "no store" "$T/err"

# records not merged yet are not problems
cat >"$T/one.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="oai_dc">http://x.example/oai</request><ListRecords>
<record><header><identifier>oai:x:new-1</identifier><datestamp>2024-01-01</datestamp></header><metadata>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>Một cuốn sách mới</dc:title><dc:date>2024</dc:date></oai_dc:dc></metadata></record>
</ListRecords></OAI-PMH>
EOF
check "import one record without merging" m import --no-merge --source hn-dh-1 --format oai_dc "$T/one.xml"
m check >"$T/out" 2>"$T/err"; rc=$?
check_eq "a record not merged yet: exit 0" 0 "$rc"
check "... counted as not merged yet" grep -qE " 1 not merged yet;" "$T/err"
check "merge" m merge

# damages, written straight into LMDB
load() { # load DB KEYHEX VALHEX
	printf 'VERSION=3\nformat=bytevalue\ndatabase=%s\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n' "$1" "$2" "$3" |
		mdb_load -s "$1" "$S"
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
if command -v mdb_load >/dev/null; then
	# counts of hn-dh-1: 99 present, 0 deleted, last change kept at 0
	load sources "$(hex hn-dh-1)" 01630000000000000000000000000000000000000000000000
	# a merger cursor far past the feed's end
	load state "$(hex merger)00$(hex cursor)" "$(hex 999999)"
	# an mg_key entry (FNV-1a hash 0x0123...) for a record that is no member
	load mg_key "0123456789abcdef$(hex hn-dh-1:nobody)" ""
	# a tombstone 5000 whose survivor 6000 does not exist (union record v2:
	# status 1, survivor varint 6000 = f0 2e, created 0, datestamp 0, 0 members, epoch 0)
	load mg_union 0000000000001388 0201f02e00000000
	m check >"$T/out" 2>"$T/err"; rc=$?
	check_eq "damaged: exit 1" 1 "$rc"
	check "... the count" grep -qx "source hn-dh-1: counts say 99 present, 0 deleted; the records are [0-9]* present, 0 deleted" "$T/out"
	check "... the cursor" grep -qE "^cursor merger/cursor: 999999 is past the feed's end \([0-9]+\)$" "$T/out"
	check "... the stray key" grep -qx "mg_key: key 0123456789abcdef lists hn-dh-1:nobody, which is not a member" "$T/out"
	check "... the tombstone" grep -qx "union 5000: tombstone's survivor 6000 (reached from 5000) does not exist" "$T/out"
	check "... the union counter behind it" grep -qE "^counter mg_union: [0-9]+ is behind the largest union id \(5000\)" "$T/out"
	check_eq "... one line per problem" 5 "$(wc -l <"$T/out")"
	check "... the summary counts them" grep -qE "^mucluc check: 5 problems;" "$T/err"

	m check --repair >"$T/out" 2>"$T/err"; rc=$?
	check_eq "--repair: exit 1 (the tombstone cannot be derived)" 1 "$rc"
	check "... recounted" grep -qE "^repaired: source hn-dh-1: counts set to [0-9]+ present, 0 deleted \(were 99, 0\)$" "$T/out"
	check "... the cursor clamped" grep -qE "^repaired: cursor merger/cursor: set to [0-9]+ \(the feed's end\), was 999999$" "$T/out"
	check "... the stray key removed" grep -qx "repaired: mg_key: removed key 0123456789abcdef of hn-dh-1:nobody" "$T/out"
	check "... the counter raised" grep -qE "^repaired: counter mg_union: raised from [0-9]+ to 5000$" "$T/out"
	check "... checked again" grep -q "4 repaired; checking again" "$T/err"
	m check >"$T/out" 2>"$T/err"; rc=$?
	check_eq "after the repair: exit 1" 1 "$rc"
	check_eq "... only the tombstone is left" \
		"union 5000: tombstone's survivor 6000 (reached from 5000) does not exist" "$(cat "$T/out")"
	# make it final (dissolved: survivor 0): consistent
	load mg_union 0000000000001388 02010000000000
	check "a dissolved tombstone is consistent" m check
else
	skip "damages written with mdb_load" "mdb_load is not installed"
fi

# checks while imports and their merges run: each sees one consistent snapshot
mkdir -p "$T/conc"
cp "$SRCDIR/tests/data/sample/sample.ini" "$T/conc/"
ccfg=$T/conc/sample.ini
"$MUCLUC" -c "$ccfg" init >/dev/null
(
	for f in nb-tv-tinh:nb-tv-tinh.xml nb-tv-huyen-1:nb-tv-huyen-1.mrc hn-dh-1:hn-dh-1.oai.xml \
		nb-thpt-1:nb-thpt-1.utf-8-nfd.xml nb-tv-cong-dong-1:nb-tv-cong-dong-1.tcvn3.mrc; do
		"$MUCLUC" -c "$ccfg" import --source "${f%%:*}" "$SRCDIR/tests/data/sample/${f#*:}" >/dev/null 2>&1
	done
	"$MUCLUC" -c "$ccfg" merge --rebuild >/dev/null 2>&1
) &
bg=$!
runs=0 bad=0
while kill -0 "$bg" 2>/dev/null; do
	"$MUCLUC" -c "$ccfg" check >"$T/cout" 2>&1 || { bad=$((bad + 1)); cp "$T/cout" "$T/cbad"; }
	runs=$((runs + 1))
done
wait "$bg"
check_eq "$runs checks while 5 imports and a rebuild ran: all consistent" 0 "$bad"
[ "$bad" -eq 0 ] || sed 's/^/#   /' "$T/cbad" | head -20

mc_check_stores
done_testing
