#!/usr/bin/env bash
# Searching the sample catalogue with `mucluc search` after import, merge and
# `mucluc index`: a known record found however its title is typed (folded,
# NFD, the other tone placement, a typo, an ISBN in every form), the field
# prefixes, filters and facet counts against the store's own union records,
# paging, sorting, grouping, suggestions, restricted records never found,
# and the hostile queries answered with a message. Then the fuzz-query
# corpus replayed against this index.
. "$(dirname "$0")/lib.sh"

S=$SRCDIR/tests/data/sample
cfg=$(
	{
		sed -n '/^\[source/,$p' "$S/libraries.ini"
		printf '\n[source "mat"]\nname = Thư viện mật\ntype = specialised\nvisibility = restricted\n'
		printf '\n[source "mo"]\nname = Thư viện mở\ntype = community\n'
	} | mk_config
)
m() { "$MUCLUC" -c "$cfg" "$@"; }
# js EXPR: a Python expression over the JSON on stdin (d), printed
js() { python3 -c 'import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if not isinstance(r, (list, dict, bool)) else json.dumps(r, ensure_ascii=False))' "$1"; }

oai() { # oai FILE ID TITLE CREATOR
	cat >"$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="oai_dc">http://x.example/oai</request><ListRecords>
<record><header><identifier>$2</identifier><datestamp>2024-01-01</datestamp></header><metadata>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>$3</dc:title><dc:creator>$4</dc:creator><dc:date>2001</dc:date><dc:type>Book</dc:type>
</oai_dc:dc></metadata></record></ListRecords></OAI-PMH>
EOF
}

check "init" m init
m search lich su >"$T/noidx.out" 2>&1
check_eq "no index yet: exit 2, saying what to run" "2 1" \
	"$? $(grep -c "run 'mucluc index' first" "$T/noidx.out")"
ok_all=1
while IFS=$'\t' read -r id file format encoding records; do
	[ "$id" = id ] && continue
	m import --no-merge --source "$id" --format "$format" --encoding "$encoding" "$S/$file" \
		>"$T/import.out" 2>&1 || ok_all=0
done <"$S/manifest.tsv"
check_eq "import the sample" 1 "$ok_all"
oai "$T/mat.xml" m1 "Zyxwv quyển sách mật" "Người Giấu Tên"
oai "$T/mo.xml" o1 "Qwerty quyển sách mở" "Người Công Khai"
check "import a restricted and a public record" \
	bash -c "'$MUCLUC' -c '$cfg' import --no-merge --source mat --format oai_dc '$T/mat.xml' &&
		'$MUCLUC' -c '$cfg' import --no-merge --source mo --format oai_dc '$T/mo.xml'"
check "merge" m merge
check "index" m index
m export --union >"$T/unions.jsonl"

# ---- known items, picked from the store by the test itself ----
python3 - "$T/unions.jsonl" >"$T/items" <<'EOF'
import json, sys, unicodedata, re
def fold(s):
    s = unicodedata.normalize('NFD', s.lower().replace('đ', 'd').replace('Đ', 'd'))
    return ''.join(c for c in s if not unicodedata.combining(c))
def other_tone(s):  # the "new" placement: hòa -> hoà, thủy -> thuỷ, khỏe -> khoẻ
    d = unicodedata.normalize('NFD', s)
    d = re.sub('([oOuU])([\u0300\u0301\u0303\u0309\u0323])([aAeEyY])(?!\\w)', '\\1\\3\\2', d)
    return unicodedata.normalize('NFC', d)
us = [json.loads(l) for l in open(sys.argv[1])]
pub = [u for u in us if any(not m.startswith('mat:') for m in u['members'])]
def words(u): return re.findall(r'\w+', u['title'].split(' : ')[0].split(' / ')[0])
plain = next(u for u in pub if len(words(u)) >= 4 and fold(u['title']) != u['title'].lower()
             and u.get('names'))
tone = next((u for u in pub if other_tone(u['title']) != u['title']), plain)
isbn = next(u for u in pub if u.get('ids', {}).get('isbn', [''])[0].startswith('978'))
long_word = max(words(plain), key=len)
i = len(long_word) // 2
typo = long_word[:i - 1] + long_word[i] + long_word[i - 1] + long_word[i + 1:]
print('ID', plain['id'])
print('TITLE', ' '.join(words(plain)))
print('FOLDED', fold(' '.join(words(plain))))
print('NFD', unicodedata.normalize('NFD', ' '.join(words(plain))))
print('TYPO', fold(' '.join(words(plain)).replace(long_word, typo, 1)))
print('AUTHOR', fold(re.findall(r'\w+', plain['names'][0])[-1]))
print('THREE', fold(' '.join(words(plain)[:3] + re.findall(r'\w+', plain['names'][0])[-1:])))
print('YEAR', plain.get('year', 0))
print('TONE_ID', tone['id'])
print('TONE_A', ' '.join(words(tone)))
print('TONE_B', other_tone(' '.join(words(tone))))
print('ISBN_ID', isbn['id'])
print('ISBN13', isbn['ids']['isbn'][0])
print('PREFIX', fold(' '.join(words(plain)[:2]))[:-1])
# two accented words of titles that fold the same ("thể" / "thế")
forms = {}
for u in pub:
    for w in words(u):
        w = unicodedata.normalize('NFC', w.lower())
        if fold(w) != w and len(w) > 2:
            forms.setdefault(fold(w), set()).add(w)
pair = next(sorted(v) for k, v in sorted(forms.items()) if len(v) >= 2)
print('MARKS_A', pair[0])
print('MARKS_B', pair[1])
EOF
get() { sed -n "s/^$1 //p" "$T/items"; }
ID=$(get ID)
# the work key of a union id (from a search that lists every record)
work_of() { m search --json --group none --size 100 "$2" | js "[r['work'] for r in d['results'] if r['id'] == $1][0]"; }
WORK=$(work_of "$ID" "$(get FOLDED)")
check "the known item's work key" test -n "$WORK"
# found: the work is among the first 10 results
found() { # found DESCRIPTION WORK QUERY...
	local d=$1 w=$2; shift 2
	local works
	works=$(m search --json --no-facets "$@" | js "' '.join(r['work'] for r in d['results'][:10])")
	case " $works " in *" $w "*) ok "$d" ;; *) fail "$d"; echo "#   query: $*"; echo "#   works: $works" ;; esac
}
found "title with its diacritics" "$WORK" "$(get TITLE)"
found "title without diacritics" "$WORK" "$(get FOLDED)"
found "title in NFD" "$WORK" "$(get NFD)"
found "title with one swapped letter" "$WORK" "$(get TYPO)"
found "three title words and the author" "$WORK" "$(get THREE)"
found "title: and author: prefixes" "$WORK" "title:($(get FOLDED))" "author:$(get AUTHOR)"
found "nhande: and tacgia: prefixes" "$WORK" "nhande:($(get FOLDED))" "tacgia:$(get AUTHOR)"
found "a phrase" "$WORK" "\"$(get FOLDED)\""
ids() { m search --json --no-facets --group none --size 100 "$@" | js "sorted(r['id'] for r in d['results'])"; }
check_eq "NFD and NFC give the same results" "$(ids "$(get TITLE)")" "$(ids "$(get NFD)")"
check_eq "the other tone placement gives the same results" \
	"$(ids "$(get TONE_A)")" "$(ids "$(get TONE_B)")"
check_eq "folded and accented find the same records" "$(ids "$(get TITLE)")" "$(ids "$(get FOLDED)")"
# the marks typed rank the records with exactly those marks first
top_has() { m search --json --no-facets "$1" | js "'$1' in [w.lower() for w in __import__('re').findall(r'\w+', __import__('unicodedata').normalize('NFC', d['results'][0]['title']))]"; }
check_eq "'$(get MARKS_A)' ranks a title with '$(get MARKS_A)' first" "true" "$(top_has "$(get MARKS_A)")"
check_eq "'$(get MARKS_B)' ranks a title with '$(get MARKS_B)' first" "true" "$(top_has "$(get MARKS_B)")"
TWORK=$(work_of "$(get TONE_ID)" "$(get TONE_A)")
found "the other tone placement finds the record" "$TWORK" "$(get TONE_B)"
check_eq "a typo gives a did-you-mean" "true" \
	"$(m search --json "$(get TYPO)" | js "d['did_you_mean'] is not None and d['corrected']")"

# ISBN in every form
I13=$(get ISBN13)
IWORK=$(work_of "$(get ISBN_ID)" "isbn:$I13")
I10=$(python3 -c "s='$I13'[3:12]; c=(11-sum((10-i)*int(x) for i,x in enumerate(s))%11)%11; print(s+('X' if c==10 else str(c)))")
IH="${I13:0:3}-${I13:3:3}-${I13:6:2}-${I13:8:4}-${I13:12:1}"
check "the ISBN's work key" test -n "$IWORK"
found "ISBN-13" "$IWORK" "$I13"
found "ISBN-13 hyphenated" "$IWORK" "$IH"
found "ISBN-10" "$IWORK" "$I10"
found "isbn: ISBN-10 hyphenated" "$IWORK" "isbn:${I10:0:1}-${I10:1:3}-${I10:4:5}-${I10:9:1}"

# year ranges
check_eq "year:1990..2000: every result in range" "true" \
	"$(m search --json --group none --size 100 "year:1990..2000" | js "all(1990 <= r['year'] <= 2000 for r in d['results']) and d['total'] > 0")"
check_eq "namxb:..1950: every result in range" "true" \
	"$(m search --json --group none --size 100 "namxb:..1950" | js "all(r['year'] <= 1950 for r in d['results'])")"

# ---- filters and facets against the store ----
python3 - "$T/unions.jsonl" >"$T/lib-counts" <<'EOF'
import json, sys, collections
c = collections.Counter()
for l in open(sys.argv[1]):
    u = json.loads(l)
    if u.get('material') != 'book':
        continue
    libs = {m.split(':', 1)[0] for m in u['members']} - {'mat'}
    for s in libs:
        c[s] += 1
print(json.dumps(dict(sorted(c.items()))))
EOF
check_eq "library facet counts (material=book) equal the store's union records" "$(cat "$T/lib-counts")" \
	"$(m search --json --group none --size 1 --filter material=book | js "dict(sorted((v['value'], v['count']) for v in d['facets']['library']))" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')"
LIB=$(head -2 "$S/manifest.tsv" | tail -1 | cut -f1)
check_eq "filter library=$LIB: every result held there" "true" \
	"$(m search --json --group none --size 100 --filter "library=$LIB" "$(get AUTHOR)" | js "all(any(h['library'] == '$LIB' for h in r['holdings']) for r in d['results'])")"
check_eq "filters of one facet OR, of two facets AND" "true" \
	"$(m search --json --group none --size 1 --filter material=book --filter material=thesis --filter lang=vie | js "d['total'] == sum(v['count'] for v in d['facets']['material'] if v['value'] in ('book', 'thesis'))")"
check_eq "library facet labels are the libraries' names" "true" \
	"$(m search --json --filter material=book | js "any(v['label'].startswith('Thư viện') for v in d['facets']['library'])")"

# ---- paging, sorting, grouping ----
p1=$(m search --json --group none --size 5 --page 1 "$(get AUTHOR)" | js "[r['id'] for r in d['results']]")
p2=$(m search --json --group none --size 5 --page 2 "$(get AUTHOR)" | js "[r['id'] for r in d['results']]")
all=$(m search --json --group none --size 10 "$(get AUTHOR)" | js "[r['id'] for r in d['results']]")
check_eq "pages 1 and 2 are the first 10, without duplicates" "$all" \
	"$(python3 -c "import json; print(json.dumps(json.loads('$p1') + json.loads('$p2')))")"
check_eq "sort=year: years go up" "true" \
	"$(m search --json --group none --size 100 --sort year "$(get AUTHOR)" | js "[r['year'] for r in d['results'] if r.get('year')] == sorted(r['year'] for r in d['results'] if r.get('year'))")"
check_eq "sort=-year: years go down" "true" \
	"$(m search --json --group none --size 100 --sort -year "$(get AUTHOR)" | js "[r['year'] for r in d['results'] if r.get('year')] == sorted((r['year'] for r in d['results'] if r.get('year')), reverse=True)")"
check_eq "sort=year: records without a year last" "true" \
	"$(m search --json --group none --size 100 --sort year "$(get AUTHOR)" | js "(lambda y: y == sorted(y, key=lambda v: v is None))([r.get('year') for r in d['results']])")"
check_eq "sort=-year: records without a year last" "true" \
	"$(m search --json --group none --size 100 --sort -year "$(get AUTHOR)" | js "(lambda y: y == sorted(y, key=lambda v: v is None))([r.get('year') for r in d['results']])")"
check "sort=title" m search --sort title "$(get AUTHOR)"
# a work with several editions: its count, and --work lists them
m search --json --size 100 --filter material=book >"$T/works.json"
W=$(js "[r['work'] for r in d['results'] if r['editions'] > 1][0]" <"$T/works.json")
N=$(js "[r['editions'] for r in d['results'] if r['editions'] > 1][0]" <"$T/works.json")
check_eq "--work lists the work's editions" "$N" \
	"$(m search --json --work "$W" "" | js "len(d['results'])")"
check_eq "--work with the query: the editions that match it" "true" \
	"$(m search --json --work "$W" --filter material=book | js "0 < len(d['results']) <= $N and all(r['work'] == '$W' for r in d['results'])")"
check_eq "group=none counts records, group=work works" "True" \
	"$(a=$(m search --json --filter material=book | js "d['total']"); b=$(m search --json --group none --filter material=book | js "d['total']"); [ "$a" -lt "$b" ] && echo True)"

# ---- suggestions ----
check_eq "suggest: the title from its first letters" "true" \
	"$(m search --json --suggest "$(get PREFIX)" | js "any(s['kind'] == 'title' for s in d['suggestions']) and len(d['suggestions']) <= 10")"

# ---- restricted records are never found ----
check_eq "a public record is found" "1" "$(m search --json qwerty | js "d['total']")"
check_eq "a restricted record is not" "0" "$(m search --json zyxwv | js "d['total']")"
check_eq "nor by its author" "0" "$(m search --json author:giau | js "d['total']")"

# ---- hostile input: a message and exit 1, or an answer ----
refuses() { # refuses DESCRIPTION PATTERN ARGS...
	local d=$1 p=$2 rc; shift 2
	m search "$@" >"$T/h.out" 2>"$T/h.err"; rc=$?
	if [ "$rc" -eq 1 ] && grep -q "$p" "$T/h.err"; then ok "$d"; else fail "$d (exit $rc)"; head -3 "$T/h.err" | sed 's/^/#   /'; fi
}
refuses "a 10 kB query" "longer than 1024 bytes" "$(head -c 10000 /dev/zero | tr '\0' a)"
refuses "10,000 terms" "longer than\|more than 32 words" "$(yes w | head -10000 | paste -sd' ')"
refuses "33 words" "more than 32 words" "$(seq 1 33 | sed 's/^/w/' | paste -sd' ')"
refuses "deep nesting" "nests" "$(printf '(%.0s' $(seq 20))a"
refuses "invalid UTF-8" "not valid UTF-8" "$(printf 'a \xff b')"
refuses "size=0" "size must be" --size 0 a
refuses "size=1000" "size must be" --size 1000 a
refuses "page=1000000000" "cannot be paged" --page 1000000000 a
refuses "an unknown facet" "unknown facet" --filter colour=red a
refuses "an empty query" "nothing to search for" ""
refuses "a bad year" "year: expects" "year:abc"
check "unbalanced quotes and parentheses are repaired" m search "\"$(get FOLDED)" "((a OR b"
refuses "operators alone" "nothing to search for" "AND OR NOT ) ("

# ---- the fuzz corpus against this index ----
FUZZ=$(dirname "$MUCLUC")/../tests/fuzz/fuzz-query
if [ -x "$FUZZ" ]; then
	data_dir=$(sed -n 's/^data_dir = //p' "$cfg")
	check "fuzz-query corpus through ix_search on this index" \
		env MUCLUC_FUZZ_INDEX="$data_dir" "$FUZZ" "$SRCDIR/tests/fuzz/corpus/fuzz-query"
else
	skip "fuzz-query corpus through ix_search" "no $FUZZ"
fi

mc_check_store "$cfg"
done_testing
