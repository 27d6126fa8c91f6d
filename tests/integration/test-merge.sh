#!/usr/bin/env bash
# The merge stage with the real CLI: union records across libraries, a
# bridging record, a split after a change, deletion of the last member, an
# unchanged re-import, overrides surviving --rebuild, rebuild = incremental.
. "$(dirname "$0")/lib.sh"

cfg=$(mk_config <<'EOF'
[source "l1"]
name = Thư viện tỉnh Một
type = provincial

[source "l2"]
name = Thư viện huyện Hai
type = district

[source "l3"]
name = Thư viện xã Ba
type = commune
EOF
)
m() { "$MUCLUC" -c "$cfg" "$@"; }

# oai_dc records in one ListRecords response: oai ID TITLE YEAR ISBN CREATOR...
# ("-" for no ISBN; ID "del:X" writes a deleted header for X)
oai() {
	local out=$1; shift
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate>'
		echo '<request verb="ListRecords" metadataPrefix="oai_dc">http://x.example/oai</request><ListRecords>'
		while [ $# -gt 0 ]; do
			local id=$1 title=$2 year=$3 isbn=$4 creators=$5; shift 5
			if [ "${id#del:}" != "$id" ]; then
				echo "<record><header status=\"deleted\"><identifier>${id#del:}</identifier><datestamp>2024-01-02</datestamp></header></record>"
				continue
			fi
			echo "<record><header><identifier>$id</identifier><datestamp>2024-01-01</datestamp></header><metadata>"
			echo '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
			echo "<dc:title>$title</dc:title>"
			local IFS=';'
			for c in $creators; do echo "<dc:creator>$c</dc:creator>"; done
			unset IFS
			echo "<dc:publisher>Kim Đồng</dc:publisher><dc:date>$year</dc:date><dc:type>Book</dc:type>"
			[ "$isbn" != "-" ] && echo "<dc:identifier>ISBN $isbn</dc:identifier>"
			echo '</oai_dc:dc></metadata></record>'
		done
		echo '</ListRecords></OAI-PMH>'
	} >"$out"
}

# live unions as sorted member lists, one union a line
members() { m export --union | python3 -c '
import json, sys
print("\n".join(sorted(" ".join(sorted(json.loads(l)["members"])) for l in sys.stdin)))'; }
# the same with each union's id first
with_ids() { m export --union | python3 -c '
import json, sys
print("\n".join(sorted("%d %s" % (u["id"], " ".join(sorted(u["members"])))
                        for u in map(json.loads, sys.stdin))))'; }

oai "$T/l1.xml" a1 "Dế mèn phiêu lưu ký" 2010 9786042000000 "Tô Hoài"
oai "$T/l3.xml" c3 "De men phieu luu ky" 2010 - "Tô Hoài Nguyễn Sen"
oai "$T/l2.xml" b2 "Dế Mèn phiêu lưu ký : truyện" 2010 9786042000000 "Tô Hoài;Tô Hoài Nguyễn Sen"
oai "$T/l2b.xml" b2 "Dế Mèn phiêu lưu ký : truyện" 2010 9786042000000 "Tô Hoài"
oai "$T/l3del.xml" del:c3 - - - -

check "init" m init
check "import l1 (merges afterwards)" bash -c "'$MUCLUC' -c '$cfg' import --source l1 --format oai_dc '$T/l1.xml' | grep -q '^merge: 1 records'"
check "import l3 --no-merge" m import --no-merge --source l3 --format oai_dc "$T/l3.xml"
check "merge" m merge
check_eq "two unions: no identifier and no name in common" "c3|a1" \
	"$(members | sed 's/l[0-9]://g' | sort -r | paste -sd'|')"
id_a=$(m export --union | python3 -c 'import json,sys
for l in sys.stdin:
    u=json.loads(l)
    if "l1:a1" in u["members"]: print(u["id"])')

check "import the bridging record l2:b2" m import --source l2 --format oai_dc "$T/l2.xml"
check_eq "the bridge merges both unions" "l1:a1 l2:b2 l3:c3" "$(members)"
check_eq "the older union id survives" "$id_a" \
	"$(m export --union | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')"
check "holdings name the libraries from the config" bash -c "'$MUCLUC' -c '$cfg' export --union | grep -q '\"name\":\"Thư viện xã Ba\"'"

before=$(m export --union)
check "re-import of an unchanged record" m import --source l1 --format oai_dc "$T/l1.xml"
check_eq "unchanged re-import: same union record, same datestamp" "$before" "$(m export --union)"

sleep 1 # datestamps have one-second resolution
check "l2:b2 changes (loses its second creator)" m import --source l2 --format oai_dc "$T/l2b.xml"
check_eq "c3 splits off" "l1:a1 l2:b2
l3:c3" "$(members)"
check "the union's datestamp moved on" test "$before" != "$(m export --union | head -1)"

check "delete l3:c3, the last member of its union" m import --source l3 --format oai_dc "$T/l3del.xml"
check_eq "only one live union left" "l1:a1 l2:b2" "$(members)"

check "dedup --never l1:a1 l2:b2" m dedup --never l1:a1 l2:b2
check_eq "never: two unions" "l1:a1
l2:b2" "$(members)"
check "dedup --explain shows the rule" bash -c "'$MUCLUC' -c '$cfg' dedup --explain l1:a1 | grep -q 'l1:a1'"
inc=$(members)
inc_ids=$(with_ids)
check "merge --rebuild" m merge --rebuild
check_eq "rebuild gives what incremental gave, override kept" "$inc" "$(members)"
check_eq "rebuild keeps every union's id" "$inc_ids" "$(with_ids)"
check "merge --rebuild --no-bulk" m merge --rebuild --no-bulk
check_eq "rebuild without the keys in memory: same ids" "$inc_ids" "$(with_ids)"
check "dedup --join l1:a1 l2:b2" m dedup --join l1:a1 l2:b2
check_eq "join: one union" "l1:a1 l2:b2" "$(members)"
check "export --union --format marcxml is well-formed" bash -c \
	"'$MUCLUC' -c '$cfg' export --union --format marcxml | xmllint --noout -"
check "dedup without an action is a usage error" bash -c "! '$MUCLUC' -c '$cfg' dedup"
check_eq "no library duplicates yet" "dedup: 0 records in 0 groups duplicate another record of their own library" \
	"$(m dedup --source-dups)"
oai "$T/l1dup.xml" a9 "Dế mèn phiêu lưu ký" 2010 9786042000000 "Tô Hoài"
check "import a second copy of a1 in l1" m import --source l1 --format oai_dc "$T/l1dup.xml"
check "dedup --source-dups names the library's own duplicates" bash -c \
	"'$MUCLUC' -c '$cfg' dedup --source-dups | grep -q '^[0-9]* l1: l1:a1 l1:a9\$'"
mc_check_stores
done_testing
