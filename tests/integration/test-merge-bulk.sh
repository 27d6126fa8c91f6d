#!/usr/bin/env bash
# The merge stage's two ways of finding candidates give the same result: a
# large run keeps the match keys in memory and writes mg_key back in key
# order (--bulk), a small one looks each key up in the store (--no-bulk).
# Generated corpus (bench/gen-corpus: 4,000 records, 8 libraries, every
# format and legacy encoding, ~1/3 duplicates), imported twice with
# --no-merge, merged both ways, then a second round (two libraries re-export
# with other content under the same local ids: changed records, splits and
# merges), then compared: union exports (datestamps aside) and mg_key byte
# for byte.
. "$(dirname "$0")/lib.sh"

GEN="$SRCDIR/bench/gen-corpus"
"$GEN" --libraries 8 --records 4000 --seed 7 --out "$T/corpus" --quiet ||
	{ fail "gen-corpus"; done_testing; }

setup() { # DIR
	sed "s|^data_dir.*|data_dir = $1|" "$T/corpus/mucluc.ini" >"$1.ini"
	"$MUCLUC" -c "$1.ini" init >/dev/null
	tail -n +2 "$T/corpus/manifest.tsv" | while IFS=$'\t' read -r lid file fmt enc cnt; do
		"$MUCLUC" -c "$1.ini" import --no-merge --source "$lid" --format "$fmt" \
			--encoding "$enc" "$T/corpus/$file" >/dev/null 2>&1
	done
}
unions() { # DIR: union export without datestamps
	"$MUCLUC" -c "$1.ini" export --union | python3 -c '
import json, sys
for line in sys.stdin:
    u = json.loads(line)
    u.pop("datestamp", None)
    print(json.dumps(u, sort_keys=True, ensure_ascii=False))'
}
dump() { mdb_dump -s "$2" "$1/store"; }

setup "$T/a"
setup "$T/b"
check "merge --bulk" bash -c "'$MUCLUC' -c '$T/a.ini' merge --bulk -v | grep -q '^merge: match keys in memory'"
check "merge --no-bulk" bash -c "'$MUCLUC' -c '$T/b.ini' merge --no-bulk -v | grep -qv 'keys in memory'"
check "some records were merged" test "$(unions "$T/a" | wc -l)" -lt 4000
check_eq "same union records" "$(unions "$T/b" | md5sum)" "$(unions "$T/a" | md5sum)"
check_eq "same mg_key" "$(dump "$T/b" mg_key | md5sum)" "$(dump "$T/a" mg_key | md5sum)"

# second round: two libraries re-export, other content under the same ids
"$GEN" --libraries 8 --records 4000 --seed 8 --out "$T/corpus2" --quiet ||
	{ fail "gen-corpus"; done_testing; }
for n in 2 3; do
	IFS=$'\t' read -r lid file fmt enc cnt < <(sed -n "${n}p" "$T/corpus2/manifest.tsv")
	for d in a b; do
		"$MUCLUC" -c "$T/$d.ini" import --no-merge --source "$lid" --format "$fmt" \
			--encoding "$enc" "$T/corpus2/$file" >/dev/null 2>&1
	done
done
check "second merge --bulk" bash -c "'$MUCLUC' -c '$T/a.ini' merge --bulk -v | grep -q '^merge: match keys in memory'"
check "second merge --no-bulk" "$MUCLUC" -c "$T/b.ini" merge --no-bulk
check_eq "same union records after the changes" "$(unions "$T/b" | md5sum)" "$(unions "$T/a" | md5sum)"
check_eq "same mg_key after the changes" "$(dump "$T/b" mg_key | md5sum)" "$(dump "$T/a" mg_key | md5sum)"
check "rebuild both" bash -c "'$MUCLUC' -c '$T/a.ini' merge --rebuild >/dev/null && '$MUCLUC' -c '$T/b.ini' merge --rebuild --no-bulk >/dev/null"
check_eq "same union records after rebuilds" "$(unions "$T/b" | md5sum)" "$(unions "$T/a" | md5sum)"
check_eq "same mg_key after rebuilds" "$(dump "$T/b" mg_key | md5sum)" "$(dump "$T/a" mg_key | md5sum)"
mc_check_stores
done_testing
