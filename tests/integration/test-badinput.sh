#!/usr/bin/env bash
# test-badinput.sh — bad input never loses good records. A good file is
# imported first; then, into the same source, a truncated file, invalid UTF-8
# (ISO 2709 and MARCXML), a record with a 1 MB field and an XML bomb. For each:
# the good records in it are stored, each bad record is reported with file,
# line or offset and record id, the exit status is 1, the bad record is in the
# quarantine, and the records stored before are still there, unchanged.
. "$(dirname "$0")/lib.sh"

cfg=$(mk_config <<'EOF'
[source "ld"]
name = Thư viện tỉnh Lâm Đồng
type = provincial
province = Lâm Đồng
EOF
)
data=$(dirname "$cfg")/data
M() { timeout 60 "$MUCLUC" -c "$cfg" "$@"; }

# rec ID TITLE: one MARCXML record on one line
rec() {
	printf '<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">%s</controlfield>' "$1"
	printf '<datafield tag="245" ind1="0" ind2="0"><subfield code="a">%s</subfield></datafield></record>\n' "$2"
}
head_xml() { printf '<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n'; }
tail_xml() { printf '</collection>\n'; }

# snapshot: the good records as stored, to compare after each bad import
snapshot() { for i in 1 2 3 4 5; do M show --json "ld:g$i"; done; }

# still_there NAME: the good records are unchanged
still_there() {
	snapshot >"$T/snap.now" 2>&1
	if cmp -s "$T/snap.good" "$T/snap.now"; then ok "$1: records stored before are unchanged"
	else fail "$1: records stored before are unchanged"; diff "$T/snap.good" "$T/snap.now" | head -10 | sed 's/^/#   /'; fi
}

# quarantined NAME MARKER: a quarantine file of source ld holds MARKER
quarantined() {
	if grep -rqF -- "$2" "$data/quarantine/ld" 2>/dev/null; then ok "$1: the bad record is in the quarantine"
	else fail "$1: the bad record is in the quarantine"; ls -lR "$data/quarantine" 2>&1 | sed 's/^/#   /' | head; fi
}

check "init" M init

# -- the good file ----------------------------------------------------------
{ head_xml; for i in 1 2 3 4 5; do rec "g$i" "Sách tốt số $i"; done; tail_xml; } >"$T/good.xml"
M import --source ld "$T/good.xml" >"$T/out" 2>&1; rc=$?
check_eq "good file: exit 0" 0 "$rc"
check "good file: 5 new" grep -qF "5 read, 5 new, 0 changed, 0 unchanged, 0 deleted, 0 bad" "$T/out"
snapshot >"$T/snap.good"
check "good file: all five can be shown" test "$(grep -c '"status": "present"' "$T/snap.good")" -eq 5

# -- a truncated file ---------------------------------------------------------
{ head_xml; rec t1 "Trọn vẹn 1"; rec t2 "Trọn vẹn 2"
  printf '<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">t3</controlfield>'
  printf '<datafield tag="245" ind1="0" ind2="0"><subfield code="a">TRUNCATED-MARKER bị cắt'; } >"$T/trunc.xml"
M import --source ld "$T/trunc.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "truncated: exit 1" 1 "$rc"
check "truncated: the complete records are stored" M show ld:t2
check "truncated: reported with file and line/offset" grep -qE "^$T/trunc.xml(:[0-9]+)? \(offset [0-9]+\)" "$T/err"
check "truncated: the summary counts it" grep -qE "^$T/trunc.xml: 3 read, 2 new, .* 1 bad" "$T/out"
check "truncated: the report names the record" grep -qE "source ld record t3: " "$T/err"
quarantined "truncated" "TRUNCATED-MARKER"
still_there "truncated"

# -- invalid UTF-8, ISO 2709 declared UTF-8 ---------------------------------
# yaz-marcdump writes ISO 2709; the placeholder is swapped for bytes that are
# not UTF-8, of the same length, so the directory stays right.
{ head_xml; rec u1 "Một"; rec u2 "XXBADUTF8-MARKER"; rec u3 "Ba"; tail_xml; } >"$T/u.xml"
yaz-marcdump -i marcxml -o marc -l 9=97 "$T/u.xml" >"$T/u.mrc" 2>/dev/null
LC_ALL=C sed -i 's/XXBADUTF8-MARKER/\xff\xfeBADUTF8-MARKER/' "$T/u.mrc"
check "invalid UTF-8: the test file holds the bad bytes" grep -qa $'\xff\xfeBADUTF8' "$T/u.mrc"
M import --source ld --encoding utf-8 "$T/u.mrc" >"$T/out" 2>"$T/err"; rc=$?
check_eq "invalid UTF-8 (ISO 2709): exit 1" 1 "$rc"
check "invalid UTF-8 (ISO 2709): the records around it are stored" bash -c '"$@" show ld:u1 >/dev/null && "$@" show ld:u3 >/dev/null' _ "$MUCLUC" -c "$cfg"
check "invalid UTF-8 (ISO 2709): the bad one is not" bash -c '! "$@" show ld:u2 >/dev/null 2>&1' _ "$MUCLUC" -c "$cfg"
check "invalid UTF-8 (ISO 2709): reported with file, offset and record id" grep -qE "^$T/u.mrc \(offset [0-9]+\): source ld record u2: " "$T/err"
check "invalid UTF-8 (ISO 2709): 3 read, 1 bad" grep -qE "^$T/u.mrc: 3 read, .* 1 bad" "$T/out"
quarantined "invalid UTF-8 (ISO 2709)" "BADUTF8-MARKER"
still_there "invalid UTF-8 (ISO 2709)"

# -- invalid UTF-8 in MARCXML: the XML parser cannot go past it ---------------
{ head_xml; rec x1 "Trước lỗi"; rec x2 $'X\xff\xfeXMLUTF8-MARKER'; rec x3 "Sau lỗi"; tail_xml; } >"$T/x.xml"
M import --source ld "$T/x.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "invalid UTF-8 (MARCXML): exit 1" 1 "$rc"
check "invalid UTF-8 (MARCXML): the record before it is stored" M show ld:x1
check "invalid UTF-8 (MARCXML): reported with file and line" grep -qE "^$T/x.xml:[0-9]+" "$T/err"
still_there "invalid UTF-8 (MARCXML)"

# -- a record with a 1 MB field ------------------------------------------------
big=$(head -c 1048576 /dev/zero | tr '\0' 'a')
{ head_xml; rec h1 "Trước"; rec h2 "HUGE-MARKER$big"; rec h3 "Sau"; tail_xml; } >"$T/huge.xml"
M import --source ld "$T/huge.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "1 MB field: exit 1" 1 "$rc"
check "1 MB field: the records around it are stored" bash -c '"$@" show ld:h1 >/dev/null && "$@" show ld:h3 >/dev/null' _ "$MUCLUC" -c "$cfg"
check "1 MB field: the big one is not" bash -c '! "$@" show ld:h2 >/dev/null 2>&1' _ "$MUCLUC" -c "$cfg"
check "1 MB field: reported with file, line, offset and record id" grep -qE "^$T/huge.xml:4 \(offset [0-9]+\): source ld record h2: " "$T/err"
quarantined "1 MB field" "HUGE-MARKER"
still_there "1 MB field"

# -- an XML bomb (entity expansion) -------------------------------------------
{
	printf '<?xml version="1.0"?>\n<!DOCTYPE collection [\n<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">\n'
	prev=a
	for e in b c d e f g h i j; do
		printf '<!ENTITY %s "&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;">\n' $e $prev $prev $prev $prev $prev $prev $prev $prev $prev $prev
		prev=$e
	done
	printf ']>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n'
	rec bomb1 "&j;"
	tail_xml
} >"$T/bomb.xml"
start=$(date +%s)
M import --source ld "$T/bomb.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "XML bomb: exit 1" 1 "$rc"
check "XML bomb: refused quickly (under 10 s)" test $(($(date +%s) - start)) -lt 10
check "XML bomb: the error names the file" grep -qF "$T/bomb.xml" "$T/err"
check "XML bomb: nothing of it is stored" bash -c '! "$@" show ld:bomb1 >/dev/null 2>&1' _ "$MUCLUC" -c "$cfg"
still_there "XML bomb"

# -- the sum of it all ----------------------------------------------------------
M stats --json >"$T/stats.json"
check "stats: the good records of every file are present" grep -qF '"present": 13' "$T/stats.json"

mc_check_stores
done_testing
