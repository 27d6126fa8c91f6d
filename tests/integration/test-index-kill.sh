#!/usr/bin/env bash
# A killed `mucluc index` leaves an index consistent with its cursors: kill
# it at several points of a first build and of incremental runs (the
# indexer's own _exit after K documents, MUCLUC_INDEX_CRASH_AFTER, with
# small batches so that kills land before, between and after commits; then
# a real kill -9), run it again each time, and the index equals a fresh
# --rebuild: document count, every document's terms with wdf and
# positions, values and data, and the spelling table.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DUMP="$SRCDIR/tests/integration/ixdump.py"
C=$T/corpus

"$SRCDIR/bench/gen-corpus" --libraries 6 --records 3000 --seed 19 --out "$C" --quiet ||
	{ fail "gen-corpus"; done_testing; }
cfg=$C/mucluc.ini
data=$C/data
m() { "$MUCLUC" -c "$cfg" "$@"; }
docs() { "$PY" -c 'import sys, xapian; print(xapian.Database(sys.argv[1]).get_doccount())' "$data/index"; }
cursor() { "$PY" -c 'import sys, xapian; print(xapian.Database(sys.argv[1]).get_metadata("mucluc.cursor").decode())' "$data/index"; }
# run the indexer killed after K documents: its exit status
crash() { MUCLUC_INDEX_BATCH=100 MUCLUC_INDEX_CRASH_AFTER=$1 "$MUCLUC" -c "$cfg" index >"$T/crash.out" 2>&1; echo $?; }

check "init" m init
bad=""
while IFS=$'\t' read -r id file fmt enc n; do
	m import --no-index --source "$id" "$C/$file" >/dev/null 2>&1 || bad="$bad $id"
done < <(tail -n +2 "$C/manifest.tsv")
check_eq "import every library (merged, not indexed)" "" "$bad"

# the first build, killed: no index is named yet, the next run builds it
check_eq "first build killed after 150 documents (exit 137)" 137 "$(crash 150)"
check "... no stub names a half-built database" test ! -e "$data/index"
check_eq "first build killed after 1000 documents (exit 137)" 137 "$(crash 1000)"
check "... still none" test ! -e "$data/index"
check "the next run builds it" bash -c "'$MUCLUC' -c '$cfg' index | grep -q '(rebuilt)'"
n0=$(docs)
check "... with documents" test "$n0" -gt 1000

# changes in two libraries (the MARCXML one and the oai_dc one): words of
# many titles; later the oai_dc library's records all deleted
lib_of() { tail -n +2 "$C/manifest.tsv" | awk -F'\t' -v f="$1" '$3 == f {print $1 "\t" $2; exit}'; }
IFS=$'\t' read -r l1 f1 < <(lib_of marcxml)
IFS=$'\t' read -r l2 f2 < <(lib_of oai_dc)
sed 's/Việt Nam/Việt Nam mới/g' "$C/$f1" >"$T/a.xml"
check "changed titles of $l1 (no index)" m import --no-index --source "$l1" "$T/a.xml"
sed 's/ và / và cùng /g' "$C/$f2" >"$T/b.xml"
check "changed titles of $l2 (no index)" m import --no-index --source "$l2" "$T/b.xml"
c0=$(cursor)
check_eq "incremental run killed after 50 documents (before its first commit)" 137 "$(crash 50)"
check_eq "... the cursor did not move (nothing committed with it)" "$c0" "$(cursor)"
check_eq "incremental run killed after 250 documents (after two commits)" 137 "$(crash 250)"
check_eq "incremental run killed after 420 documents" 137 "$(crash 420)"
check_eq "... and after 1 document" 137 "$(crash 1)"
check "then it runs to the end" bash -c "MUCLUC_INDEX_BATCH=100 '$MUCLUC' -c '$cfg' index | grep -q '^index: '"
"$PY" "$DUMP" "$data/index" >"$T/inc1.txt"
check "incremental (after the kills) equals a fresh rebuild" bash -c \
	"'$MUCLUC' -c '$cfg' index --rebuild >/dev/null && '$PY' '$DUMP' '$data/index' >'$T/reb1.txt' && diff -q '$T/inc1.txt' '$T/reb1.txt'"
check_eq "... same document count" "$(head -1 "$T/inc1.txt")" "$(head -1 "$T/reb1.txt")"

# change back, then a real kill -9 at some moment of the run
check "titles of $l1 back (no index)" m import --no-index --source "$l1" "$C/$f1"
{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2030-01-01T00:00:00Z</responseDate>'
	echo '<request verb="ListRecords" metadataPrefix="oai_dc">http://x.example/oai</request><ListRecords>'
	grep -o '<identifier>oai:[^<]*</identifier>' "$C/$f2" | sort -u | sed 's|.*|<record><header status="deleted">&<datestamp>2030-01-01</datestamp></header></record>|'
	echo '</ListRecords></OAI-PMH>'
} >"$T/del.xml"
check "every record of $l2 deleted (no index)" m import --no-index --source "$l2" --format oai_dc "$T/del.xml"
MUCLUC_INDEX_BATCH=50 "$MUCLUC" -c "$cfg" index >"$T/k.out" 2>&1 &
kp=$!
sleep 0.3
kill -9 "$kp" 2>/dev/null
wait "$kp"
echo "# kill -9 during the run: exit $? ($(cat "$T/k.out" | head -1))"
check "the next run ends" bash -c "'$MUCLUC' -c '$cfg' index | grep -q '^index: '"
"$PY" "$DUMP" "$data/index" >"$T/inc2.txt"
"$MUCLUC" -c "$cfg" index --rebuild >/dev/null
"$PY" "$DUMP" "$data/index" >"$T/reb2.txt"
check "after kill -9: equal to a fresh rebuild" diff -q "$T/inc2.txt" "$T/reb2.txt"
check "... which has fewer documents than before the deletion" test "$(docs)" -lt "$n0"
check "... and none held by $l2 alone" bash -c "! grep -q 'XFlibrary:$l2 ' '$T/reb2.txt'"
mc_check_stores
done_testing
