#!/usr/bin/env bash
# Searching over HTTP (issue 9, "Must show" 1): GET /api/search and
# /api/suggest of a real `mucluc serve` on the indexed sample catalogue:
# folded, NFD, accented and other-tone-placement queries find the same
# records; filters and facet counts against the store (export --union);
# paging without duplicates; sorts; grouping by work; suggest; a restricted
# library never found; searches while `mucluc index` applies changes.
. "$(dirname "$0")/lib.sh"

if ! "$MUCLUC" index --help >/dev/null 2>&1; then
	skip "search over HTTP" "this build has no 'mucluc index'"
	done_testing
fi
cfg=$(mc_sample_store "threads = 2") || { fail "sample store"; done_testing; }
# hn-dh-1 becomes restricted: it must vanish from every search
python3 - "$cfg" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
s = re.sub(r'(\[source "hn-dh-1"\][^\[]*?)visibility = public', r'\1visibility = restricted', s, flags=re.S)
open(p, "w", encoding="utf-8").write(s)
PY
check "hn-dh-1 is restricted in the config" grep -q 'visibility = restricted' "$cfg"
check "index --rebuild" "$MUCLUC" -c "$cfg" index --rebuild
"$MUCLUC" -c "$cfg" export --union >"$T/unions.jsonl"
if mc_serve_start "$cfg"; then ok "serve started"; else fail "serve started"; done_testing; fi
U=$MC_SERVE_URL
code=$(curl -s -o "$T/h" -w '%{http_code}' "$U/health")
check_eq "/health: 200 with the index" 200 "$code"
check_eq "/health: index lag 0 after the rebuild" 0 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["index"]["lag"])' "$T/h")"

# s QUERY-STRING: the search's JSON into $T/s, status into $code
s() { code=$(curl -s -o "$T/s" -w '%{http_code}' "$U/api/search?$1"); }
py() { python3 -c "import json,sys; o=json.load(open('$T/s')); $1"; }
ids() { s "$1"; py 'print(" ".join(sorted(str(r["id"]) for r in o["results"])))'; }

s 'q=lich+su+viet+nam&group=none&size=50'
check_eq "folded query: 200" 200 "$code"
folded=$(py 'print(" ".join(sorted(str(r["id"]) for r in o["results"])))')
check "folded query finds the accented titles" py 'assert any("Lịch sử Việt Nam" in r["title"] for r in o["results"])'
check_eq "accented (NFC) query: the same records" "$folded" "$(ids 'q=l%E1%BB%8Bch+s%E1%BB%AD+vi%E1%BB%87t+nam&group=none&size=50')"
nfd=$(python3 -c 'import unicodedata, urllib.parse; print(urllib.parse.quote_plus(unicodedata.normalize("NFD", "lịch sử việt nam")))')
check_eq "NFD query: the same records" "$folded" "$(ids "q=$nfd&group=none&size=50")"
a=$(ids 'q=h%C3%B2a&group=none&size=100')   # hòa
b=$(ids 'q=ho%C3%A0&group=none&size=100')   # hoà
check_eq "other tone placement (hoà / hòa): the same records" "$a" "$b"
check "  and some" test -n "$a"
a=$(ids 'q=th%E1%BB%A7y&group=none&size=100')   # thủy
b=$(ids 'q=thu%E1%BB%B7&group=none&size=100')   # thuỷ
check_eq "other tone placement (thuỷ / thủy): the same records" "$a" "$b"

# the restricted library is never found
s 'q=&library=hn-dh-1&size=10'
check "a restricted library as a filter: nothing" py 'assert o["total"] == 0 and not o["results"]'
s 'q=sinh+hoc&group=none&size=100'
check "a restricted library is in no result's holdings" py 'assert all(h["library"] != "hn-dh-1" for r in o["results"] for h in r["holdings"])'
check "  nor in the library facet" py 'assert all(v["value"] != "hn-dh-1" for v in o["facets"].get("library", []))'
only=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    u = json.loads(l)
    if u["members"] and all(m.startswith("hn-dh-1:") for m in u["members"]):
        print(u["id"]); break' "$T/unions.jsonl")
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/api/records/$only")
check_eq "a union held only by the restricted library: 404" 404 "$code"

# filters and facet counts, against the store
lib=nb-tv-tinh
want=$(python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    u = json.loads(l)
    if any(m.startswith(sys.argv[2] + ":") for m in u["members"]):
        n += 1
print(n)' "$T/unions.jsonl" "$lib")
s "q=&library=$lib&group=none&size=1"
check_eq "filter library=$lib: total = its unions in the store" "$want" "$(py 'print(o["total"])')"
s "q=&group=none&size=1&province=ninh-binh"
check "facet library: its count = that filter's total" py "
v = [x for x in o['facets']['library'] if x['value'] == '$lib']
assert v and v[0]['count'] == $want, v"
check "facet library: labels are the libraries' names" py "
v = [x for x in o['facets']['library'] if x['value'] == '$lib']
assert v[0]['label'] == 'Thư viện tỉnh Ninh Bình', v"
s "q=&library=$lib&library=nb-thpt-1&group=none&size=100"
check "two values of one facet: either library" py '
assert o["results"] and all({h["library"] for h in r["holdings"]} & {"nb-tv-tinh", "nb-thpt-1"} for r in o["results"])'
s "q=&library=$lib&lang=vie&group=none&size=100"
check "two facets: both hold (ANDed)" py '
assert o["results"] and all({h["library"] for h in r["holdings"]} & {"nb-tv-tinh"} for r in o["results"])'
s "q=&library=$lib&type=school&group=none&size=100"
n_school=$(py 'print(o["total"])')
s "q=&library=$lib&library=nb-thpt-1&type=school&group=none&size=1"
check_eq "library OR library, AND type=school: the school library's unions only" \
	"$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if any(m.startswith("nb-thpt-1:") for m in json.loads(l)["members"])))' "$T/unions.jsonl")" \
	"$(py 'print(o["total"])')"
s 'q=&year_from=2000&year_to=2005&group=none&size=100'
check "year_from / year_to: years in range" py 'assert o["results"] and all(2000 <= r["year"] <= 2005 for r in o["results"])'

# paging without duplicates
for p in 1 2 3 4 5; do
	s "q=sach&group=none&size=10&page=$p"
	py 'print("\n".join(str(r["id"]) for r in o["results"]))'
done >"$T/pages"
s 'q=sach&group=none&size=50'
py 'print("\n".join(str(r["id"]) for r in o["results"]))' >"$T/one"
check_eq "five pages of 10: no duplicates" "$(wc -l <"$T/pages")" "$(sort -u "$T/pages" | wc -l)"
check_eq "five pages of 10 = one page of 50" "$(cat "$T/one")" "$(cat "$T/pages")"

# sorts
s 'q=sach&group=none&size=100&sort=year'
check "sort=year: ascending" py '
y = [r["year"] for r in o["results"] if r.get("year")]
assert y and y == sorted(y)'
s 'q=sach&group=none&size=100&sort=-year'
check "sort=-year: descending" py '
y = [r["year"] for r in o["results"] if r.get("year")]
assert y and y == sorted(y, reverse=True)'
s 'q=sach&group=none&size=100&sort=title'
check_eq "sort=title: 200" 200 "$code"

# grouping
s 'q=sach&size=100'
check "group=work (default): each result has editions >= 1 and a work key" py '
assert o["group"] == "work" and all(r["editions"] >= 1 and r["work"] for r in o["results"])'
check "group=work: one result per work" py '
w = [r["work"] for r in o["results"]]
assert len(w) == len(set(w))'
work=$(py 'print(max(o["results"], key=lambda r: r["editions"])["work"])')
n=$(py 'print(max(o["results"], key=lambda r: r["editions"])["editions"])')
s "q=&work=$work&group=none&size=100"
check_eq "work=KEY lists that work's editions" "$n" "$(py 'print(len(o["results"]))')"

# suggest, did-you-mean
code=$(curl -s -o "$T/s" -w '%{http_code}' "$U/api/suggest?q=lich+s")
check_eq "suggest: 200" 200 "$code"
check "suggest: titles starting so" py '
import unicodedata
def fold(s): return "".join(c for c in unicodedata.normalize("NFD", s.lower()) if not unicodedata.combining(c)).replace("đ", "d")
assert o["suggestions"] and all(fold(x["text"]).startswith("lich s") for x in o["suggestions"] if x["kind"] == "title")'
s 'q=lihc+su'
check "did_you_mean is there (a typo)" py 'assert "did_you_mean" in o'
s 'q=%22lich+su&size=5'
check_eq "an unbalanced quote: an answer" 200 "$code"

# searches while `mucluc index` applies a changing store: never an error
python3 - "$U" >"$T/during.out" 2>&1 <<'PY' &
import json, sys, time, urllib.request
u = sys.argv[1]
bad = 0; n = 0; t0 = time.time()
while time.time() - t0 < 6:
    try:
        with urllib.request.urlopen(u + "/api/search?q=sach&size=5", timeout=10) as r:
            json.load(r); n += 1
    except Exception as e:
        bad += 1; print("error", e)
print("searches", n, "errors", bad)
PY
spid=$!
sed 's/Lịch sử/Lịch sử mới/' "$SRCDIR/tests/data/sample/nb-tv-tinh.xml" >"$T/changed.xml"
"$MUCLUC" -c "$cfg" import --source nb-tv-tinh "$T/changed.xml" >/dev/null 2>&1
"$MUCLUC" -c "$cfg" index >/dev/null 2>&1
wait "$spid"
check "searches during import + index: no errors ($(tail -1 "$T/during.out"))" grep -q 'errors 0$' "$T/during.out"
s 'q=lich+su+moi&group=none&size=100'
check "after the index run the changed titles are found" py 'assert o["total"] > 0'

# ... and while `mucluc index --rebuild` builds a new database and swaps it in
python3 - "$U" >"$T/rebuild.out" 2>&1 <<'PY' &
import json, sys, time, urllib.request
u = sys.argv[1]
bad = 0; n = 0; uuids = set(); t0 = time.time()
while time.time() - t0 < 8:
    try:
        with urllib.request.urlopen(u + "/api/search?q=lich+su&size=5", timeout=10) as r:
            json.load(r); n += 1
    except Exception as e:
        bad += 1; print("error", e)
print("searches", n, "errors", bad)
PY
spid=$!
sleep 0.5
"$MUCLUC" -c "$cfg" index --rebuild >/dev/null 2>&1
wait "$spid"
check "searches during index --rebuild: no errors ($(tail -1 "$T/rebuild.out"))" grep -q 'errors 0$' "$T/rebuild.out"
sleep 1.1
code=$(curl -s -o "$T/h2" -w '%{http_code}' "$U/health")
check "after the rebuild /health shows the new database" python3 -c '
import json, sys
a, b = (json.load(open(p))["index"] for p in sys.argv[1:])
assert b["uuid"] != a["uuid"], (a, b)' "$T/h" "$T/h2"

check "SIGTERM: exit 0" mc_serve_stop
mc_check_stores
done_testing
