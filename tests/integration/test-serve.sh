#!/usr/bin/env bash
# `mucluc serve` over HTTP (issue 9, "HTTP API"): records in every format
# (MARCXML and oai_dc valid against ../shared/xsd, ISO 2709 read back by
# yaz-marcdump), 301 / 410 / 404 for merged, dissolved and restricted
# unions, every error status, ETag / Last-Modified / 304, gzip, CORS, the
# access log, SIGHUP reload with a connection open, SIGTERM with a request
# in flight; searches when the index is part of the build.
. "$(dirname "$0")/lib.sh"

dir=$T/cat
mkdir -p "$dir"
cat >"$dir/mucluc.ini" <<INI
[catalogue]
name = Thử nghiệm
data_dir = $dir/data
repository_identifier = test.mucluc.vn
admin_email = admin@example.org

[server]
listen = 127.0.0.1:0
threads = 2
access_log = $dir/access.log
max_body_bytes = 1024
max_uri_bytes = 2048
max_header_bytes = 4096

[source "l1"]
name = Thư viện tỉnh
type = provincial
province = Ninh Bình

[source "l2"]
name = Thư viện huyện
type = district
province = Ninh Bình

[source "l3"]
name = Thư viện kín
type = specialised
visibility = restricted
INI
cfg=$dir/mucluc.ini
m() { "$MUCLUC" -c "$cfg" "$@"; }

# oai_dc records in one ListRecords response: ID TITLE YEAR ISBN CREATOR
# ("-" for no ISBN; ID "del:X" writes a deleted header for X)
oai() {
	local out=$1; shift
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate>'
		echo '<request verb="ListRecords" metadataPrefix="oai_dc">http://x.example/oai</request><ListRecords>'
		while [ $# -gt 0 ]; do
			local id=$1 title=$2 year=$3 isbn=$4 creator=$5; shift 5
			if [ "${id#del:}" != "$id" ]; then
				echo "<record><header status=\"deleted\"><identifier>${id#del:}</identifier><datestamp>2024-01-02</datestamp></header></record>"
				continue
			fi
			echo "<record><header><identifier>$id</identifier><datestamp>2024-01-01</datestamp></header><metadata>"
			echo '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
			echo "<dc:title>$title</dc:title><dc:creator>$creator</dc:creator>"
			echo "<dc:publisher>Kim Đồng</dc:publisher><dc:date>$year</dc:date><dc:type>Book</dc:type><dc:language>vie</dc:language>"
			[ "$isbn" != "-" ] && echo "<dc:identifier>ISBN $isbn</dc:identifier>"
			echo '</oai_dc:dc></metadata></record>'
		done
		echo '</ListRecords></OAI-PMH>'
	} >"$out"
}

m init >/dev/null
oai "$T/l1.xml" a1 "Lịch sử Việt Nam" 2001 9786041234567 "Trần Văn Giàu" \
	a2 "Truyện Kiều" 1990 - "Nguyễn Du" \
	a3 "Sách sẽ bị xóa" 2005 - "Vô Danh" \
	a4 "Địa chí Ninh Bình" 2010 9786040000017 "Nhiều tác giả"
oai "$T/l2.xml" b1 "Lịch sử Việt Nam" 2001 978-604-123456-7 "Trần Văn Giàu" \
	b2 "Truyện Kiều (bản khác)" 1991 - "Nguyễn Du"
oai "$T/l3.xml" c1 "Tài liệu mật" 2020 - "Cơ quan" \
	c2 "Địa chí Ninh Bình" 2010 9786040000017 "Nhiều tác giả"
# the restricted copy has a link of its own: it must not show either
sed -i 's|<dc:title>Địa chí Ninh Bình</dc:title>|&<dc:identifier>https://kin.example/c2</dc:identifier>|' "$T/l3.xml"
cat >"$T/l2-506.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<collection xmlns="http://www.loc.gov/MARC21/slim"><record>
<leader>00000nam a2200000 a 4500</leader><controlfield tag="001">b3</controlfield>
<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Hồ sơ hạn chế</subfield></datafield>
<datafield tag="506" ind1="1" ind2=" "><subfield code="a">Chỉ dành cho cán bộ</subfield></datafield>
</record></collection>
XML
m import --source l1 "$T/l1.xml" >/dev/null 2>&1
m import --source l2 "$T/l2.xml" >/dev/null 2>&1
m import --source l3 "$T/l3.xml" >/dev/null 2>&1
m import --source l2 --format marcxml "$T/l2-506.xml" >/dev/null 2>&1
union_of() { m export --union | python3 -c '
import json, sys
for l in sys.stdin:
    u = json.loads(l)
    if sys.argv[1] in u["members"]:
        print(u["id"])' "$1"; }
u_lsvn=$(union_of l1:a1); u_kieu1=$(union_of l1:a2); u_kieu2=$(union_of l2:b2)
u_del=$(union_of l1:a3); u_mat=$(union_of l3:c1); u_mixed=$(union_of l1:a4); u_506=$(union_of l2:b3)
check "the test catalogue has its unions" test -n "$u_lsvn" -a -n "$u_kieu1" -a -n "$u_kieu2" \
	-a -n "$u_del" -a -n "$u_mat" -a -n "$u_mixed" -a -n "$u_506"
check_eq "l1:a1 and l2:b1 share a union" "$u_lsvn" "$(union_of l2:b1)"
# merge the two Kiều unions (one becomes a tombstone), delete a3 (its union dissolves)
m dedup --join l1:a2 l2:b2 >/dev/null 2>&1
oai "$T/del.xml" del:a3 x x x x
m import --source l1 "$T/del.xml" >/dev/null 2>&1
u_kieu=$(union_of l1:a2)
if [ "$u_kieu" = "$u_kieu1" ]; then u_gone=$u_kieu2; else u_gone=$u_kieu1; fi

have_index=0
if m index >/dev/null 2>&1; then have_index=1; fi

"$MUCLUC" -c "$cfg" serve --listen 127.0.0.1:99999 >/dev/null 2>"$T/e"
check_eq "--listen with port 99999: exit 2" 2 "$?"
check "  saying why" grep -q "port 0-65535" "$T/e"
"$MUCLUC" -c "$cfg" serve --bogus >/dev/null 2>&1
check_eq "an unknown option: exit 2" 2 "$?"

if mc_serve_start "$cfg"; then ok "serve started ($MC_SERVE_URL)"; else
	fail "serve started"; sed 's/^/#   /' "$MC_SERVE_ERR"; done_testing; fi
U=$MC_SERVE_URL
check "it announced its address on stdout" grep -q '^mucluc: serving http://127\.0\.0\.1:[0-9]*/ (2 threads)$' "$MC_SERVE_OUT"

"$MUCLUC" -c "$cfg" serve --listen "${U#http://}" >/dev/null 2>"$T/e"
check_eq "a second server on the same address: exit 2" 2 "$?"
check "  address in use" grep -q "cannot listen on" "$T/e"

# get URL: status line code into $code, headers into $T/h, body into $T/b
get() { rm -f "$T/b"; code=$(curl -s -D "$T/h" -o "$T/b" -m 30 -w '%{http_code}' "$@"); }
jq_() { python3 -c "import json,sys; o=json.load(open('$T/b')); print($1)"; }
hdr() { grep -i "^$1:" "$T/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# ---- health
get "$U/health"
if [ "$have_index" = 1 ]; then check_eq "/health: 200 with an index" 200 "$code"
else check_eq "/health: 503 without an index" 503 "$code"; fi
check_eq "/health: the store is ok" "True" "$(jq_ 'o["store"]["ok"]')"
check_eq "/health: store records (present and deleted)" 9 "$(jq_ 'o["store"]["records"]')"

# ---- records
get "$U/api/records/$u_lsvn"
check_eq "record: 200" 200 "$code"
check_eq "record: JSON with its id" "$u_lsvn" "$(jq_ 'o["id"]')"
check_eq "record: both members" "l1:a1 l2:b1" "$(jq_ '" ".join(sorted(o["members"]))')"
check_eq "record: holdings with library names" "Thư viện huyện|Thư viện tỉnh" "$(jq_ '"|".join(sorted(h["name"] for h in o["holdings"]))')"
check_eq "record: provenance" "2" "$(jq_ 'len(o["provenance"])')"
check_eq "record: Content-Type" "application/json; charset=utf-8" "$(hdr Content-Type)"
etag=$(hdr ETag); lm=$(hdr Last-Modified)
check "record: ETag" test -n "$etag"
check "record: Last-Modified is an HTTP date" python3 -c 'import sys, email.utils; assert email.utils.parsedate_to_datetime(sys.argv[1])' "$lm"
check_eq "record: Vary" "Accept-Encoding" "$(hdr Vary)"
check_eq "record: CORS" "*" "$(hdr Access-Control-Allow-Origin)"
get -H "If-None-Match: $etag" "$U/api/records/$u_lsvn"
check_eq "If-None-Match with its ETag: 304" 304 "$code"
check "  304 has no body" test ! -s "$T/b"
get -H 'If-None-Match: W/"0000000000000000"' "$U/api/records/$u_lsvn"
check_eq "If-None-Match with another ETag: 200" 200 "$code"
get -H "If-Modified-Since: $lm" "$U/api/records/$u_lsvn"
check_eq "If-Modified-Since its Last-Modified: 304" 304 "$code"
get -H "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT" "$U/api/records/$u_lsvn"
check_eq "If-Modified-Since long ago: 200" 200 "$code"
get -H 'Accept-Encoding: gzip' "$U/api/records/$u_lsvn"
check_eq "gzip: Content-Encoding" "gzip" "$(hdr Content-Encoding)"
check "gzip: the body inflates to the record" bash -c "gzip -dc '$T/b' | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"id\"] == $u_lsvn'"
get -H 'Accept-Encoding: gzip;q=0, identity' "$U/api/records/$u_lsvn"
check_eq "gzip;q=0: not compressed" "" "$(hdr Content-Encoding)"
get -X OPTIONS -H 'Origin: https://thuvien.example.org' -H 'Access-Control-Request-Method: GET' "$U/api/search"
check_eq "OPTIONS preflight: 204" 204 "$code"
check_eq "  Access-Control-Allow-Methods" "GET, HEAD, OPTIONS" "$(hdr Access-Control-Allow-Methods)"
check_eq "  Access-Control-Allow-Origin" "*" "$(hdr Access-Control-Allow-Origin)"
get -I "$U/api/records/$u_lsvn"
check_eq "HEAD: 200" 200 "$code"
check "  HEAD: headers only (curl -I writes them to the body file)" bash -c "! grep -q '{' '$T/b'"

# formats
get "$U/api/records/$u_lsvn?format=marcxml"
check_eq "marcxml: 200" 200 "$code"
check_eq "marcxml: Content-Type" "application/marcxml+xml; charset=utf-8" "$(hdr Content-Type)"
cp "$T/b" "$T/rec.xml"
if [ -f "$SHARED/xsd/MARC21slim.xsd" ]; then
	check "marcxml: valid against MARC21slim.xsd" xmllint --noout --schema "$SHARED/xsd/MARC21slim.xsd" "$T/rec.xml"
else
	skip "marcxml: valid against MARC21slim.xsd" "$SHARED/xsd is absent"
fi
check "marcxml: 001 is the union id" grep -q "<controlfield tag=\"001\">$u_lsvn</controlfield>" "$T/rec.xml"
get "$U/api/records/$u_lsvn?format=dc"
check_eq "dc: 200" 200 "$code"
if [ -f "$SHARED/xsd/oai_dc.xsd" ]; then
	check "dc: valid against oai_dc.xsd" xmllint --noout --schema "$SHARED/xsd/oai_dc.xsd" "$T/b"
else
	skip "dc: valid against oai_dc.xsd" "$SHARED/xsd is absent"
fi
check "dc: the title" grep -q '<dc:title>Lịch sử Việt Nam</dc:title>' "$T/b"
get "$U/api/records/$u_lsvn?format=iso2709"
check_eq "iso2709: 200" 200 "$code"
check_eq "iso2709: Content-Type" "application/marc" "$(hdr Content-Type)"
check_eq "iso2709: leader/09 is 'a' (UTF-8)" "a" "$(head -c 10 "$T/b" | tail -c 1)"
check_eq "iso2709: the record length in the leader" "$(stat -c %s "$T/b")" "$(head -c 5 "$T/b" | sed 's/^0*//')"
yaz-marcdump "$T/b" >"$T/dump" 2>&1
check "iso2709: yaz-marcdump reads it back with the title" grep -q '245 .. \$a Lịch sử Việt Nam' "$T/dump"
yaz-marcdump -o marcxml "$T/b" >"$T/back.xml" 2>/dev/null
check_eq "iso2709: read back, the same fields as the MARCXML" \
	"$(grep -o 'tag="[0-9]*"' "$T/rec.xml" | tr '\n' ' ')" "$(grep -o 'tag="[0-9]*"' "$T/back.xml" | tr '\n' ' ')"
get "$U/api/records/$u_lsvn?format=pdf"
check_eq "format=pdf: 400" 400 "$code"

# every record of the sample catalogue's first unions in every format
s_cfg=$(mc_sample_store)
mc_serve_stop >/dev/null
"$MUCLUC" -c "$s_cfg" export --union | head -40 | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]' >"$T/ids"
mc_serve_start "$s_cfg" || fail "serve the sample catalogue"
bad_x=0; bad_d=0; bad_i=0
while read -r id; do
	curl -s -o "$T/s.xml" "$MC_SERVE_URL/api/records/$id?format=marcxml"
	if [ -f "$SHARED/xsd/MARC21slim.xsd" ]; then
		xmllint --noout --schema "$SHARED/xsd/MARC21slim.xsd" "$T/s.xml" 2>/dev/null || bad_x=$((bad_x + 1))
	fi
	curl -s -o "$T/s.dc" "$MC_SERVE_URL/api/records/$id?format=dc"
	if [ -f "$SHARED/xsd/oai_dc.xsd" ]; then
		xmllint --noout --schema "$SHARED/xsd/oai_dc.xsd" "$T/s.dc" 2>/dev/null || bad_d=$((bad_d + 1))
	fi
	curl -s -o "$T/s.mrc" "$MC_SERVE_URL/api/records/$id?format=iso2709"
	yaz-marcdump "$T/s.mrc" 2>&1 | grep -q '^001 '"$id"'$' || bad_i=$((bad_i + 1))
done <"$T/ids"
check_eq "sample: 40 unions as MARCXML valid against the schema (invalid ones)" 0 "$bad_x"
check_eq "sample: 40 unions as oai_dc valid against the schema (invalid ones)" 0 "$bad_d"
check_eq "sample: 40 unions as ISO 2709 that yaz-marcdump reads (unreadable ones)" 0 "$bad_i"
mc_serve_stop >/dev/null
mc_serve_start "$cfg" || fail "serve the test catalogue again"
U=$MC_SERVE_URL

# merged, dissolved, restricted
get "$U/api/records/$u_gone"
check_eq "a merged-away union: 301" 301 "$code"
check_eq "  Location: its survivor" "/api/records/$u_kieu" "$(hdr Location)"
get "$U/api/records/$u_gone?format=marcxml"
check_eq "  the format is kept in the Location" "/api/records/$u_kieu?format=marcxml" "$(hdr Location)"
get -L "$U/api/records/$u_gone"
check_eq "  followed: the survivor" "$u_kieu" "$(jq_ 'o["id"]')"
get "$U/api/records/$u_del"
check_eq "a dissolved union: 410" 410 "$code"
check_eq "  error gone" "gone" "$(jq_ 'o["error"]')"
get "$U/api/records/$u_mat"
check_eq "a union of restricted records only: 404" 404 "$code"
get "$U/api/records/$u_506"
check_eq "a union of a record restricted by its 506: 404" 404 "$code"
get "$U/api/records/$u_mixed"
check_eq "a union with a restricted member: 200" 200 "$code"
check_eq "  only the public member" "l1:a4" "$(jq_ '" ".join(o["members"])')"
check_eq "  only the public holdings" "l1" "$(jq_ '" ".join(h["library"] for h in o["holdings"])')"
check "  the restricted library is nowhere in it" bash -c "! grep -q 'l3\|Thư viện kín' '$T/b'"
check "  nor its link" bash -c "! grep -q 'kin.example' '$T/b'"
check "  (which the merged union has)" bash -c "m() { \"$MUCLUC\" -c '$cfg' \"\$@\"; }; m export --union | grep -q 'kin.example'"
get "$U/api/records/$u_mixed?format=marcxml"
check "  its MARCXML has no 852 of the restricted library" bash -c "! grep -q '>l3<' '$T/b'"
check "  nor the restricted member's 856" bash -c "! grep -q 'kin.example' '$T/b'"
if [ -f "$SHARED/xsd/MARC21slim.xsd" ]; then
	check "  and is still valid" xmllint --noout --schema "$SHARED/xsd/MARC21slim.xsd" "$T/b"
fi
get "$U/api/records/l2:b1"
check_eq "a member id: 301 to its union" "301 /api/records/$u_lsvn" "$code $(hdr Location)"
get "$U/api/records/l3:c1"
check_eq "a restricted member id: 404" 404 "$code"
get "$U/api/records/999999"
check_eq "an unknown union: 404" 404 "$code"

# libraries
get "$U/api/libraries"
check_eq "libraries: the public ones" "l1 l2" "$(jq_ '" ".join(l["id"] for l in o["libraries"])')"
check_eq "libraries: record counts from the store" "3 3" "$(jq_ '" ".join(str(l["records"]) for l in o["libraries"])')"
check_eq "libraries: l1's deleted count" "1" "$(jq_ 'o["libraries"][0]["deleted"]')"
get "$U/api/libraries/l1"
check_eq "library l1: name, type, province" "Thư viện tỉnh provincial Ninh Bình" "$(jq_ '" ".join([o["name"], o["type"], o["province"]])')"
get "$U/api/libraries/l3"
check_eq "a restricted library: 404" 404 "$code"

# every error status (410 and 503 above / below)
get "$U/api/nothing"; check_eq "unknown path: 404" 404 "$code"
check_eq "  JSON error and message" "not_found True" "$(jq_ 'o["error"] + " " + str(bool(o["message"]))')"
get -X DELETE "$U/api/records/1"; check_eq "DELETE: 405" 405 "$code"
check_eq "  with Allow" "GET, HEAD, OPTIONS" "$(hdr Allow)"
get -X POST --data-binary "@$T/l1.xml" "$U/api/search"; check_eq "a 2 kB body (max 1024): 413" 413 "$code"
get "$U/api/search?q=$(python3 -c 'print("a" * 3000)')"; check_eq "a 3 kB URI (max 2048): 414" 414 "$code"
get -H "X-Long: $(python3 -c 'print("a" * 5000)')" "$U/health"; check_eq "a 5 kB header (max 4096): 431" 431 "$code"
get "$U/api/search?q=a&size=-1"; check_eq "size=-1: 400" 400 "$code"
if [ "$have_index" = 0 ]; then
	get "$U/api/search?q=lich+su"; check_eq "search without an index: 503" 503 "$code"
	check_eq "  error index_unavailable" "index_unavailable" "$(jq_ 'o["error"]')"
fi

# access log: one combined-format line per request
n_before=$(wc -l <"$dir/access.log")
curl -s -o /dev/null -A 'test-agent/1' -e 'https://ref.example/' "$U/api/search?q=ph%E1%BB%9F&size=2"
sleep 0.2
check_eq "access log: one more line per request" $((n_before + 1)) "$(wc -l <"$dir/access.log")"
check "access log: combined format" bash -c "tail -1 '$dir/access.log' | grep -qE '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [+-][0-9]{4}\] \"GET /api/search\?q=ph%E1%BB%9F&size=2 HTTP/1\.1\" [0-9]{3} [0-9]+ \"https://ref.example/\" \"test-agent/1\"$'"

# SIGHUP with a connection open: the new library name shows, the connection stays
python3 - "$U" "$MC_SERVE_PID" "$cfg" >"$T/hup.out" 2>&1 <<'PY'
import json, os, signal, socket, sys, time
host, port = sys.argv[1][len("http://"):].split(":")
pid, cfg = int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, int(port)), timeout=10)
f = s.makefile("rb")
def req(path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode())
    status = f.readline()
    n = 0
    while True:
        l = f.readline()
        if l in (b"\r\n", b""):
            break
        if l.lower().startswith(b"content-length:"):
            n = int(l.split(b":")[1])
    return status, f.read(n)
st, body = req("/api/libraries/l1")
print("before", json.loads(body)["name"])
text = open(cfg, encoding="utf-8").read().replace("name = Thư viện tỉnh\n", "name = Thư viện tỉnh Ninh Bình\n")
open(cfg, "w", encoding="utf-8").write(text)
os.kill(pid, signal.SIGHUP)
time.sleep(1)
st, body = req("/api/libraries/l1")
print("after", json.loads(body)["name"], "same connection")
PY
check_eq "SIGHUP: the same connection sees the reloaded name" \
	"before Thư viện tỉnh|after Thư viện tỉnh Ninh Bình same connection" "$(paste -sd'|' "$T/hup.out")"
check "SIGHUP: it says so on stderr" grep -q 'configuration reloaded' "$MC_SERVE_ERR"
printf '[catalogue\n' >>"$cfg.bad"
cp "$cfg" "$cfg.good"; printf 'bogus line\n' >>"$cfg"
kill -HUP "$MC_SERVE_PID"; sleep 0.5
check "SIGHUP with a broken configuration: the old one is kept" grep -q 'keeping the old configuration' "$MC_SERVE_ERR"
get "$U/api/libraries/l1"; check_eq "  and it still serves" 200 "$code"
cp "$cfg.good" "$cfg"

# CORS for listed origins only (and its reload)
sed -i '/^\[server\]/a cors_origins = https://a.example https://b.example' "$cfg"
kill -HUP "$MC_SERVE_PID"
for _ in $(seq 1 100); do [ "$(grep -c 'configuration reloaded' "$MC_SERVE_ERR")" -ge 2 ] && break; sleep 0.05; done
get -H 'Origin: https://b.example' "$U/api/libraries"
check_eq "cors_origins list: a listed Origin is echoed" "https://b.example" "$(hdr Access-Control-Allow-Origin)"
check "  with Vary: Origin" grep -qi '^Vary: Origin' "$T/h"
get -H 'Origin: https://evil.example' "$U/api/libraries"
check_eq "  an unlisted Origin gets no Access-Control-Allow-Origin" "" "$(hdr Access-Control-Allow-Origin)"
cp "$cfg.good" "$cfg"

# SIGTERM with a request in flight: it is answered, then the server exits 0
python3 - "$U" "$MC_SERVE_PID" >"$T/term.out" 2>&1 <<'PY'
import os, signal, socket, sys, time
host, port = sys.argv[1][len("http://"):].split(":")
pid = int(sys.argv[2])
s = socket.create_connection((host, int(port)), timeout=20)
s.sendall(b"GET /api/libraries HTTP/1.1\r\nHost: t\r\n")
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
s.sendall(b"Accept: */*\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.split(b"\r\n")[0].decode())
print("close" if b"Connection: close" in data else "keep")
try:
    socket.create_connection((host, int(port)), timeout=2).close()
    print("still accepting")
except OSError:
    print("not accepting")
PY
wait "$MC_SERVE_PID"; rc=$?
MC_SERVE_PIDS=${MC_SERVE_PIDS/ $MC_SERVE_PID/}
check_eq "SIGTERM with a request in flight: answered, Connection: close, no new connections" \
	"HTTP/1.1 200 OK|close|not accepting" "$(paste -sd'|' "$T/term.out")"
check_eq "SIGTERM: exit 0" 0 "$rc"

mc_check_stores
done_testing
