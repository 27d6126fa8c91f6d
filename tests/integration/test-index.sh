#!/usr/bin/env bash
# `mucluc index` with the real CLI and a real Xapian database: the index
# after import (merge, then index), restricted sources and records leave no
# trace, exact terms, a change of 1% of the records touches only their
# unions, --no-index, --rebuild swaps the stub while a reader keeps its
# view, a second indexer waits for the lock and says so, and the
# incremental index equals a rebuild.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DUMP="$SRCDIR/tests/integration/ixdump.py"

cfg=$(mk_config <<'EOF'
[source "l1"]
name = Thư viện tỉnh Một
type = provincial
province = Hà Nội

[source "l2"]
name = Thư viện trường Hai
type = school
province = Ninh Bình

[source "sec"]
name = Thư viện mật
type = specialised
visibility = restricted
EOF
)
data=$(dirname "$cfg")/data
m() { "$MUCLUC" -c "$cfg" "$@"; }

# MARCXML records: marc FILE then ID TITLE YEAR ISBN NAME SUBJECT R506 per record
# (ISBN "-" for none; R506 1 writes 506 with first indicator 1)
marc() {
	local out=$1; shift
	{
		echo '<collection xmlns="http://www.loc.gov/MARC21/slim">'
		while [ $# -gt 0 ]; do
			local id=$1 title=$2 year=$3 isbn=$4 name=$5 subj=$6 r506=$7; shift 7
			echo "<record><leader>00000nam a2200000 a 4500</leader>"
			echo "<controlfield tag=\"001\">$id</controlfield>"
			echo "<controlfield tag=\"008\">240101s${year}    vm            000 0 vie d</controlfield>"
			[ "$isbn" != "-" ] && echo "<datafield tag=\"020\" ind1=\" \" ind2=\" \"><subfield code=\"a\">$isbn</subfield></datafield>"
			echo "<datafield tag=\"100\" ind1=\"0\" ind2=\" \"><subfield code=\"a\">$name</subfield></datafield>"
			echo "<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">$title</subfield></datafield>"
			echo "<datafield tag=\"260\" ind1=\" \" ind2=\" \"><subfield code=\"a\">Hà Nội</subfield><subfield code=\"b\">Kim Đồng</subfield><subfield code=\"c\">$year</subfield></datafield>"
			echo "<datafield tag=\"650\" ind1=\" \" ind2=\"7\"><subfield code=\"a\">$subj</subfield></datafield>"
			[ "$r506" = 1 ] && echo '<datafield tag="506" ind1="1" ind2=" "><subfield code="a">Hạn chế truy cập</subfield></datafield>'
			echo "<datafield tag=\"852\" ind1=\" \" ind2=\" \"><subfield code=\"h\">895.9 T$id</subfield></datafield>"
			echo "</record>"
		done
		echo '</collection>'
	} >"$out"
}

# 100 records of l1 (t1..t100), 20 of l2 sharing ISBNs with t1..t20
args=()
for i in $(seq 1 100); do
	args+=("t$i" "Lịch sử làng số $i" $((1900 + i)) - "Nguyễn Văn Tác$i" "Địa chí Hà Nội" 0)
done
marc "$T/l1.xml" "${args[@]}"
args=()
for i in $(seq 1 20); do
	args+=("s$i" "Lịch sử làng số $i" $((1900 + i)) - "Nguyễn Văn Tác$i" "Địa chí Hà Nội" 0)
done
args+=(k1 "Truyện Kiều" 2005 0306406152 "Nguyễn Du" "Thơ" 0)
args+=(h1 "Hồi ký riêng tư xyzzy" 2001 - "Trần Quỳnh" "Hồi ký" 1)
marc "$T/l2.xml" "${args[@]}"
marc "$T/sec.xml" z1 "Tài liệu plugh mật" 1999 - "Lê Bí" "Quân sự" 0 \
	z2 "Truyện Kiều" 2005 0306406152 "Nguyễn Du" "Thơ plover" 0

terms() { "$PY" -c '
import sys, xapian
db = xapian.Database(sys.argv[1])
for t in db.allterms(sys.argv[2].encode()):
    print(t.term.decode(), t.termfreq)' "$data/index" "${1:-}"; }
docs() { "$PY" -c 'import sys, xapian; print(xapian.Database(sys.argv[1]).get_doccount())' "$data/index"; }

check "init" m init
m import --source l1 "$T/l1.xml" >"$T/o1" 2>&1
check_eq "import l1: exit 0" 0 "$?"
check "... merges, then indexes: 100 documents added (a new index)" \
	grep -q '^index: 100 documents added, 0 replaced, 0 deleted (rebuilt)' "$T/o1"
check_eq "the stub names index.d/1" "auto index.d/1" "$(cat "$data/index")"
check "import l2 and the restricted source" bash -c "'$MUCLUC' -c '$cfg' import --source l2 '$T/l2.xml' >'$T/o2' && '$MUCLUC' -c '$cfg' import --source sec '$T/sec.xml' >'$T/o3'"
check "... l2: 1 new document (Truyện Kiều), 20 unions re-indexed with their second library" \
	grep -q '^index: 1 documents added, 20 replaced, 0 deleted in' "$T/o2"
check "... the restricted source: only the union it joined is re-indexed (its document unchanged)" \
	grep -q '^index: 0 documents added, 1 replaced, 0 deleted in' "$T/o3"
check_eq "101 documents: 506 ind1 1 and the restricted source are not in" 101 "$(docs)"
check_eq "no term from the restricted records (plugh, xyzzy, plover, the members)" "" \
	"$(terms | grep -E 'plugh|xyzzy|plover|XLsec|XLz[12]|XLl2:h1|XLh1|XFlibrary:sec|XFtype:specialised|quan')"
check_eq "the shared edition lists both libraries" "XFlibrary:l1 100
XFlibrary:l2 21" "$(terms XFlibrary)"
check_eq "ISBN-10 indexed as ISBN-13" "XI9780306406157 1" "$(terms XI)"
check "... the union's holdings name public libraries only" "$PY" -c '
import json, sys, xapian
db = xapian.Database(sys.argv[1])
d = db.get_document(next(iter(db.postlist(b"XI9780306406157"))).docid)
j = json.loads(d.get_data())
assert [h["library"] for h in j["holdings"]] == ["l2"], j
assert j["isbn"] == ["9780306406157"] and j["title"] == "Truyện Kiều", j
' "$data/index"
check_eq "province facet (folded, dashes)" "XFprovince:ha-noi 100
XFprovince:ninh-binh 21" "$(terms XFprovince)"
check "category dia-chi from the subject; rare before 1945" bash -c \
	"'$PY' -c 'import sys,xapian; db=xapian.Database(sys.argv[1]); print(db.get_termfreq(b\"XFcategory:dia-chi\"), db.get_termfreq(b\"XFcategory:rare\"))' '$data/index' | grep -qx '100 44'"
check "folded and accented forms, prefixed and not" bash -c \
	"terms() { :; }; '$PY' -c 'import sys,xapian; db=xapian.Database(sys.argv[1]); print(*(db.get_termfreq(t) for t in (\"XTlang\", \"XTlàng\", \"lang\", \"làng\", \"XAnguyen\", \"XBlich su\")))' '$data/index' | grep -qx '100 100 100 100 101 100'"
check_eq "mucluc check reports the index's state" "index: 101 documents, at the end of the change feeds" \
	"$(m check 2>&1 | sed -n 's/^mucluc check: \(index: .*\) (.*/\1/p')"

# one record in a hundred changes (t50's title, held by l1 alone)
args=()
for i in $(seq 1 100); do
	t="Lịch sử làng số $i"
	[ "$i" = 50 ] && t="Lịch sử làng số bảy"
	args+=("t$i" "$t" $((1900 + i)) - "Nguyễn Văn Tác$i" "Địa chí Hà Nội" 0)
done
marc "$T/l1b.xml" "${args[@]}"
m import --source l1 "$T/l1b.xml" >"$T/o4" 2>&1
check "1% of l1 changed: 1 document replaced, nothing else touched" \
	grep -q '^index: 0 documents added, 1 replaced, 0 deleted in' "$T/o4"
check_eq "... the new title word is found" "XTbay 1" "$(terms XTbay)"
# a record becomes restricted by itself: its union's document goes
args=()
for i in $(seq 1 20); do
	args+=("s$i" "Lịch sử làng số $i" $((1900 + i)) - "Nguyễn Văn Tác$i" "Địa chí Hà Nội" 0)
done
args+=(k1 "Truyện Kiều" 2005 0306406152 "Nguyễn Du" "Thơ" 1)
args+=(h1 "Hồi ký riêng tư xyzzy" 2001 - "Trần Quỳnh" "Hồi ký" 1)
marc "$T/l2b.xml" "${args[@]}"
m import --no-index --source l2 "$T/l2b.xml" >"$T/o5" 2>&1
check "--no-index: merged, not indexed" bash -c "grep -q '^merge: ' '$T/o5' && ! grep -q '^index:' '$T/o5'"
check_eq "... the index still has 101 documents" 101 "$(docs)"
check_eq "mucluc check sees the index behind the feeds" "index: 101 documents, behind the change feeds" \
	"$(m check 2>&1 | sed -n 's/^mucluc check: \(index: .*\) (.*/\1/p')"
m index -v >"$T/o6" 2>&1
check "index: Truyện Kiều's last public member restricted itself: deleted" \
	grep -q '^index: 0 documents added, 0 replaced, 1 deleted in' "$T/o6"
check_eq "... 100 documents" 100 "$(docs)"
check_eq "... no ISBN term left" "" "$(terms XI)"

# the incremental index equals a rebuild
"$PY" "$DUMP" "$data/index" >"$T/inc.txt"
# a reader opened before the rebuild keeps answering from its own view
exec 8< <("$PY" -u -c '
import sys, time, xapian
db = xapian.Database(sys.argv[1])
print(db.get_doccount(), flush=True)
sys.stdin.readline()
print(db.get_doccount(), db.get_document(next(iter(db.postlist(b"XTbay"))).docid).get_data()[:6].decode(), flush=True)
' "$data/index" < <(sleep 3; echo go))
read -r before <&8
m index --rebuild >"$T/o7" 2>&1
check "--rebuild: 100 documents added into a new database" \
	grep -q '^index: 100 documents added, 0 replaced, 0 deleted (rebuilt)' "$T/o7"
check_eq "... the stub now names index.d/2" "auto index.d/2" "$(cat "$data/index")"
check "... the old directory is removed" test ! -e "$data/index.d/1"
read -r after <&8
check_eq "a reader of the old database kept answering through the swap" "100 100 {\"id\":" "$before $after"
exec 8<&-
"$PY" "$DUMP" "$data/index" >"$T/reb.txt"
check "the rebuilt index equals the incremental one (terms, positions, values, data, spelling)" \
	diff "$T/inc.txt" "$T/reb.txt"

# one writer at a time: a second indexer waits and says so
exec 9>>"$data/locks/index.lock"
flock 9
printf '%s test\n' "$$" >"$data/locks/index.lock"
m index >"$T/o8" 2>"$T/e8" 9>&- &
ip=$!
for _ in $(seq 1 100); do grep -q waiting "$T/e8" && break; sleep 0.1; done
check "a second indexer waits, naming the lock's holder" \
	grep -q "waiting for the index held by pid $$ (test)" "$T/e8"
check "... and is still waiting" kill -0 "$ip"
exec 9>&-
wait "$ip"
check_eq "... then runs when the lock is free: exit 0" 0 "$?"
check "... finding nothing to do" grep -q '^index: 0 documents added, 0 replaced, 0 deleted' "$T/o8"

check "merge runs the index too; --no-index does not" bash -c \
	"'$MUCLUC' -c '$cfg' merge | grep -q '^index: ' && ! '$MUCLUC' -c '$cfg' merge --no-index | grep -q '^index: '"
mc_check_stores
done_testing
