#!/usr/bin/env bash
# test-hostile.sh — one hostile record never costs its neighbours, and what the
# store accepts it can give back.
#
# Each file puts a hostile record between good ones: a 4 MB ISO 2709 record of
# 1,000 fields with 1,999 empty subfields each, a directory that lies, a
# MARCXML record past the per-record subfield cap, a MARCXML record larger than
# MC_MAX_RECORD_BYTES, an oai_dc record with too many elements. Each time the
# good records are stored, the hostile one is reported with file, offset and
# record id, quarantined and counted bad, and the exit status is 1.
# Then indicators and subfield codes MARC does not allow (bytes E9 E8, code FF,
# "A", "é", a missing code): indicators are repaired to blank and counted,
# records with a bad subfield code are refused (schemas/record.md). Last,
# "accepted means exportable": every stored record comes back through
# `show --json`, `export --format jsonl --with-metadata` and
# `export --format marcxml`, valid against ../shared/xsd/MARC21slim.xsd.
. "$(dirname "$0")/lib.sh"

cfg=$(mk_config <<'EOF'
[source "hx"]
name = Thư viện thử nghiệm
type = provincial
EOF
)
data=$(dirname "$cfg")/data
M() { timeout 120 "$MUCLUC" -c "$cfg" "$@"; }
XSD=$SHARED/xsd/MARC21slim.xsd

# gen WHAT OUT: write one of the test files (python3: exact bytes)
gen() {
	python3 - "$1" "$2" <<'EOF'
import sys
what, out = sys.argv[1], sys.argv[2]

def iso(fields, dir_entries=None):
    """An ISO 2709 record; fields: [(tag, bytes)]. dir_entries overrides the directory."""
    dirs, body = b'', b''
    for t, v in fields:
        v += b'\x1e'
        dirs += t.encode() + b'%04d%05d' % (min(len(v), 9999), min(len(body), 99999))
        body += v
    if dir_entries is not None:
        dirs = dir_entries
    base = 24 + len(dirs) + 1
    total = base + len(body) + 1
    leader = (b'%05d' % total if total < 100000 else b'99999') + b'nam a22' + b'%05d' % base + b' a 4500'
    return leader + dirs + b'\x1e' + body + b'\x1d'

def good(i):
    return iso([('001', b'%s' % i.encode()), ('245', b'00\x1faGood record ' + i.encode())])

def xrec(i, body='', ind='ind1="0" ind2="0"', code='code="a"'):
    return ('<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">%s</controlfield>'
            '<datafield tag="245" %s><subfield %s>Title %s</subfield></datafield>%s</record>\n'
            % (i, ind, code, i, body))

def coll(recs):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n'
            + ''.join(recs) + '</collection>\n').encode()

def dc(i, n):
    els = ''.join('<dc:subject>s%d</dc:subject>' % k for k in range(n))
    return ('<record><header><identifier>oai:hx:%s</identifier><datestamp>2024-01-01</datestamp></header>'
            '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>DC %s</dc:title>%s</oai_dc:dc>'
            '</metadata></record>\n' % (i, i, els))

if what == 'big-iso':
    big = [('001', b'big1')] + [('500', b'  ' + b'\x1fa' * 1999)] * 1000
    data = good('i1') + iso(big) + good('i3')
elif what == 'liar-iso':
    # a directory of five entries over a data area of two fields; then one
    # whose entries point past the end (lengths counted in characters):
    # the data area is split at 0x1E and the record read
    liar = iso([('001', b'liar1'), ('245', b'00\x1faLiar')],
               dir_entries=b'001000500000245001000005500000500010' + b'650000500020700000500030')
    past = iso([('001', b'past1'), ('245', b'00\x1faPast the end')],
               dir_entries=b'001009000000245009000090')
    data = good('l1') + liar + past + good('l3')
elif what == 'subs-xml':
    many = ('<datafield tag="500" ind1=" " ind2=" ">' + '<subfield code="a"/>' * 1999 + '</datafield>') * 60
    data = coll([xrec('s1'), xrec('s2', many), xrec('s3')])
elif what == 'huge-xml':
    huge = ('<datafield tag="500" ind1=" " ind2=" ">' + '<subfield code="a"/>' * 1999 + '</datafield>') * 1000
    data = coll([xrec('z1'), xrec('z2', huge), xrec('z3')])
elif what == 'dc-oai':
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            '<responseDate>2024-01-01T00:00:00Z</responseDate><request verb="ListRecords">http://x/oai</request>'
            '<ListRecords>' + dc('d1', 2) + dc('d2', 10001) + dc('d3', 2) + '</ListRecords></OAI-PMH>\n').encode()
elif what == 'odd-iso':
    data = (good('o0')
            + iso([('001', b'oddcode'), ('245', b'\xe9\xe8\x1faBad code \x1f\xffhere')])
            + iso([('001', b'oddind'), ('245', b'\xe9\xe8\x1faOdd indicators')])
            + iso([('001', b'oddleader'), ('245', b'10\x1faOdd leader')]).replace(b'nam a22', b'n\xe9m a22', 1)
            + good('o9'))
elif what == 'odd-xml':
    data = coll([xrec('x0'),
                 xrec('xupper', ind='ind1="A" ind2="#"'),
                 xrec('xacute', ind='ind1="\u00e9" ind2="10"'),
                 xrec('xcode', code='code="\u00e9"'),
                 xrec('xnocode', code=''),
                 xrec('xspace', code='code=" "'),
                 xrec('xsym', code='code="$"'),
                 xrec('xamp', code='code="&amp;"'),
                 xrec('x9')])
open(out, 'wb').write(data)
EOF
}

# import_bad NAME FILE GOOD... -- BAD: FILE imports with exit 1; GOOD ids are
# stored, BAD is not, is reported with file, offset and id, and is quarantined
import_bad() {
	local name=$1 file=$2 rc id; shift 2
	local good=() bad
	while [ "$1" != "--" ]; do good+=("$1"); shift; done
	bad=$2
	M import --source hx --no-merge "$file" >"$T/out" 2>"$T/err"; rc=$?
	check_eq "$name: exit 1" 1 "$rc"
	for id in "${good[@]}"; do
		check "$name: good record $id is stored" M show "hx:$id"
	done
	check "$name: the hostile record $bad is not stored" bash -c '! "$@" show "hx:'"$bad"'" >/dev/null 2>&1' _ "$MUCLUC" -c "$cfg"
	check "$name: $bad reported with file, offset and record id" \
		grep -qE "^$file(:[0-9]+)? \(offset [0-9]+\): source hx record $bad: " "$T/err"
	check "$name: counted: ${#good[@]} stored, 1 bad" \
		grep -qE "^$file: $((${#good[@]} + 1)) read, .* 1 bad" "$T/out"
	check "$name: $bad is in the quarantine" grep -rqaF "record $bad:" "$data/quarantine/hx"
}

check "init" M init

# -- hostile sizes and structures ---------------------------------------------
gen big-iso "$T/big.mrc"
check "the 4 MB ISO 2709 file is over 4,000,000 bytes" test "$(stat -c %s "$T/big.mrc")" -gt 4000000
import_bad "4 MB ISO 2709 record (1,999,000 empty subfields)" "$T/big.mrc" i1 i3 -- big1
check "4 MB ISO 2709 record: the reason names the per-record subfield cap" \
	grep -qF "record big1: ISO 2709 record has more than 100000 subfields" "$T/err"
check "4 MB ISO 2709 record: the quarantine keeps its bytes" \
	test "$(cat "$data"/quarantine/hx/*big.mrc.bad | wc -c)" -gt 4000000

gen liar-iso "$T/liar.mrc"
M import --source hx --no-merge "$T/liar.mrc" >"$T/out" 2>"$T/err"; rc=$?
check_eq "lying directory: exit 1" 1 "$rc"
check "lying directory: the records around it are stored" bash -c '"$@" show hx:l1 >/dev/null && "$@" show hx:l3 >/dev/null' _ "$MUCLUC" -c "$cfg"
check "lying directory: five entries over two fields is refused" bash -c '! "$@" show hx:liar1 >/dev/null 2>&1' _ "$MUCLUC" -c "$cfg"
check "lying directory: reported with offset and id" grep -qE "^$T/liar.mrc \(offset [0-9]+\): source hx record liar1: ISO 2709 directory lists 5 fields but the data area holds 2" "$T/err"
check "lying directory: entries past the end are read from the data area" bash -c '"$@" show hx:past1 | grep -q "Past the end"' _ "$MUCLUC" -c "$cfg"
check "lying directory: 4 read, 1 bad" grep -qE "^$T/liar.mrc: 4 read, 3 new, .* 1 bad" "$T/out"

gen subs-xml "$T/subs.xml"
import_bad "MARCXML record of 119,940 subfields" "$T/subs.xml" s1 s3 -- s2
check "MARCXML subfields: the reason names the cap" grep -qF "the record has more than 100000 subfields" "$T/err"

gen huge-xml "$T/huge.xml"
import_bad "MARCXML record of 40 MB" "$T/huge.xml" z1 z3 -- z2

gen dc-oai "$T/dc.xml"
M import --source hx --no-merge "$T/dc.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "oai_dc record of 10,002 elements: exit 1" 1 "$rc"
check "oai_dc: the records around it are stored" bash -c '"$@" show hx:oai:hx:d1 >/dev/null && "$@" show hx:oai:hx:d3 >/dev/null' _ "$MUCLUC" -c "$cfg"
check "oai_dc: the big one is not" bash -c '! "$@" show hx:oai:hx:d2 >/dev/null 2>&1' _ "$MUCLUC" -c "$cfg"
check "oai_dc: reported with line, offset, id and the cap" grep -qE "^$T/dc.xml:[0-9]+ \(offset [0-9]+\): source hx record oai:hx:d2: .*more than 10000 dc elements" "$T/err"

# -- indicators, subfield codes and leader bytes ---------------------------------
gen odd-iso "$T/odd.mrc"
M import --source hx --no-merge "$T/odd.mrc" >"$T/out" 2>"$T/err"; rc=$?
check_eq "odd bytes (ISO 2709): exit 1 (one record refused)" 1 "$rc"
check "odd bytes (ISO 2709): subfield code FF refused, named" grep -qE "source hx record oddcode: field 245: subfield code 0xFF is not a MARC subfield code" "$T/err"
check "odd bytes (ISO 2709): 5 read, 4 new, 1 bad, 2 repaired" grep -qE "^$T/odd.mrc: 5 read, 4 new, .* 1 bad.*; 2 repaired" "$T/out"
check "odd bytes (ISO 2709): the refused record is quarantined" grep -rqaF "record oddcode:" "$data/quarantine/hx"
M show --json hx:oddind >"$T/oddind.json" 2>&1
check "indicators E9 E8: show --json works" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/oddind.json"
check "indicators E9 E8: stored as blanks" python3 -c '
import json,sys
f=[x for x in json.load(open(sys.argv[1]))["marc"]["fields"] if x[0]=="245"][0]
assert f[1]==" " and f[2]==" ", f' "$T/oddind.json"
check "leader byte E9: repaired to a blank" bash -c '"$@" show --json hx:oddleader | grep -qF "\"leader\": \"00" ' _ "$MUCLUC" -c "$cfg"
check "leader byte E9: its other bytes are kept" bash -c '"$@" show --json hx:oddleader | grep -qE "\"leader\": \"[0-9]{5}n m a22"' _ "$MUCLUC" -c "$cfg"

gen odd-xml "$T/odd.xml"
M import --source hx --no-merge "$T/odd.xml" >"$T/out" 2>"$T/err"; rc=$?
check_eq "odd bytes (MARCXML): exit 1 (three records refused)" 1 "$rc"
check "odd bytes (MARCXML): 9 read, 6 new, 3 bad, 2 repaired" grep -qE "^$T/odd.xml: 9 read, 6 new, .* 3 bad.*; 2 repaired" "$T/out"
for id in xcode xnocode xspace; do
	check "odd bytes (MARCXML): $id (code \"é\", none, \" \") refused" grep -qE "source hx record $id: field 245: subfield code 0x[0-9A-F]{2} is not a MARC subfield code" "$T/err"
done
for id in xupper xacute xsym xamp; do M show "hx:$id" >"$T/$id.txt" 2>&1; done
check "odd bytes (MARCXML): ind1=\"A\" ind2=\"#\" become blanks" grep -qF '245    $a Title xupper' "$T/xupper.txt"
check "odd bytes (MARCXML): ind1=\"é\" ind2=\"10\" become blanks" grep -qF '245    $a Title xacute' "$T/xacute.txt"
check "odd bytes (MARCXML): code \"\$\" is a MARC code and is kept" grep -qF '245 00 $$ Title xsym' "$T/xsym.txt"
check "odd bytes (MARCXML): code \"&amp;\" is the code & and is kept" grep -qF '245 00 $& Title xamp' "$T/xamp.txt"

# -- accepted means exportable -----------------------------------------------
M export --format jsonl --with-metadata >"$T/all.jsonl" 2>"$T/err"; rc=$?
check_eq "export --format jsonl --with-metadata: exit 0" 0 "$rc"
check "export jsonl: every line is a JSON object with its metadata" python3 -c '
import json,sys
n=0
for line in open(sys.argv[1], encoding="utf-8"):
    o=json.loads(line); n+=1
    assert ("marc" in o) or ("dc" in o) or o["status"]=="deleted", o["id"]
print(n)' "$T/all.jsonl"
nstored=$(wc -l <"$T/all.jsonl")
check_eq "export jsonl: every record stored (21)" 21 "$nstored"
bad=0
while read -r id; do
	M show --json "$id" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "# show --json $id failed"; }
done < <(python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$T/all.jsonl")
check_eq "show --json works for every stored record" 0 "$bad"
M export --format marcxml >"$T/all.xml" 2>"$T/err"; rc=$?
check_eq "export --format marcxml: exit 0" 0 "$rc"
check "export marcxml: one record per stored record" test "$(grep -c '<record>' "$T/all.xml")" -eq 21
if [ -f "$XSD" ]; then
	check "export marcxml: valid against MARC21slim.xsd" xmllint --noout --schema "$XSD" "$T/all.xml"
else
	skip "export marcxml: valid against MARC21slim.xsd" "$SHARED is absent"
fi

# the imports above ran with --no-merge: merge, then the store must be consistent
check "merge after the hostile imports" M merge
mc_check_stores
done_testing
