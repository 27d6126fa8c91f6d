#!/usr/bin/env bash
# Hostile clients against a real `mucluc serve` (issue 9, "Bad input"): each
# gets a JSON 4xx or a bounded answer (a closed connection) while every
# other client is served, and the server never crashes (tests/run.sh also
# runs this script against the AddressSanitizer build).
. "$(dirname "$0")/lib.sh"

cfg=$(mc_sample_store "max_connections = 300" "request_timeout = 3" "idle_timeout = 5" \
	"max_uri_bytes = 65536") || { fail "sample store"; done_testing; }
if mc_serve_start "$cfg" --threads 2; then ok "serve started on $MC_SERVE_URL"; else
	fail "serve started"; cat "$MC_SERVE_ERR" | sed 's/^/#   /'; done_testing; fi

# status "description" expected-status curl-args...: the status and a JSON error body
status() {
	local d=$1 want=$2 code; shift 2
	code=$(curl -s -o "$T/body" -m 30 -w '%{http_code}' "$@")
	if [ "$code" = "$want" ] && python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert "error" in o and "message" in o' "$T/body" 2>/dev/null; then
		ok "$d: $want with a JSON error"
	else
		fail "$d: $want with a JSON error (got $code)"
		head -c 300 "$T/body" | sed 's/^/#   /'; echo
	fi
}
# a 4xx JSON error or, for searches the index would answer, 200/503 JSON
bounded() {
	local d=$1 code; shift
	code=$(curl -s -o "$T/body" -m 30 -w '%{http_code}' "$@")
	case $code in
	200|400|503) if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/body" 2>/dev/null; then
			ok "$d: $code, JSON"; else fail "$d: $code but not JSON"; fi ;;
	*) fail "$d: got $code" ;;
	esac
}
U=$MC_SERVE_URL

long=$(python3 -c 'print("lich%20su%20" * 900)')
status "a 10 kB query" 400 "$U/api/search?q=$long"
terms=$(python3 -c 'print("+".join("t%d" % i for i in range(10000)))')
status "10,000 terms (the query's byte limit first)" 400 "$U/api/search?q=$terms"
terms=$(python3 -c 'print("+".join("a" for i in range(300)))')
bounded "300 one-letter terms" "$U/api/search?q=$terms"
bounded "unbalanced quotes" "$U/api/search?q=%22lich+su"
bounded "unbalanced parentheses" "$U/api/search?q=((lich+su)"
bounded "closing parentheses" "$U/api/search?q=lich))+su"
deep=$(python3 -c 'print("(" * 200 + "a" + ")" * 200)')
bounded "deep nesting (200 levels)" "$U/api/search?q=$deep"
deep=$(python3 -c 'print("a" + "+AND+(a" * 50 + ")" * 50)')
bounded "deep boolean nesting" "$U/api/search?q=$deep"
status "invalid UTF-8" 400 "$U/api/search?q=l%E1%BB+%FF%FE"
status "a NUL byte (%00)" 400 "$U/api/search?q=a%00b"
status "a NUL byte in a filter" 400 "$U/api/search?q=a&library=x%00"
status "a bad %-escape" 400 "$U/api/search?q=%zz"
status "page=1000000000" 400 "$U/api/search?q=a&page=1000000000"
status "page=99999999999999999999" 400 "$U/api/search?q=a&page=99999999999999999999"
status "size=-1" 400 "$U/api/search?q=a&size=-1"
status "size=0" 400 "$U/api/search?q=a&size=0"
status "size=1000" 400 "$U/api/search?q=a&size=1000"
status "page=0" 400 "$U/api/search?q=a&page=0"
status "sort=bogus" 400 "$U/api/search?q=a&sort=bogus"
status "q given twice" 400 "$U/api/search?q=a&q=b"
status "40 filter values" 400 "$U/api/search?q=a$(python3 -c 'print("".join("&library=l%d" % i for i in range(40)))')"
status "a 300-byte filter value" 400 "$U/api/search?q=a&lang=$(python3 -c 'print("x" * 300)')"
status "too many arguments" 400 "$U/api/search?$(python3 -c 'print("&".join("k%d=1" % i for i in range(100)))')"
status "suggest without q" 400 "$U/api/suggest"
status "suggest with invalid UTF-8" 400 "$U/api/suggest?q=%C3"
status "a record id of 400 bytes" 404 "$U/api/records/$(python3 -c 'print("9" * 400)')"
status "a record id with %00" 404 "$U/api/records/1%00"
status "a record id past 64 bits" 404 "$U/api/records/99999999999999999999"
status "a library id with a slash" 404 "$U/api/libraries/a%2Fb"
status "a 100 kB request target" 414 "$U/api/search?q=$(python3 -c 'print("a" * 100000)')"
status "a 12 kB header" 431 -H "X-Big: $(python3 -c 'print("a" * 12000)')" "$U/health"

# The raw-socket cases: huge headers, slowloris, a thousand idle connections.
python3 - "$U" >"$T/py.out" 2>&1 <<'PY'
import json, resource, socket, sys, threading, time
host, port = sys.argv[1][len("http://"):].split(":")
port = int(port)
n = 0
def ok(cond, what):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, what), flush=True)

def get(path="/health", timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    return data

def served():
    try:
        r = get()
        return r.startswith(b"HTTP/1.1 200") or r.startswith(b"HTTP/1.1 503")
    except OSError:
        return False

def answer_or_close(payload, timeout=20):
    """Send payload; the server must answer 4xx or close within the timeout."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(payload)
    except OSError:
        return "closed"
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except ConnectionResetError:
        pass
    except socket.timeout:
        return "hung"
    finally:
        s.close()
    if not data:
        return "closed"
    return data.split(b"\r\n", 1)[0].decode("latin-1")

# huge headers: 1 MB in one header, and 5,000 small headers
r = answer_or_close(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 1000000 + b"\r\n\r\n")
ok(r == "closed" or r.startswith("HTTP/1.1 4"), "a 1 MB header: 4xx or closed (%s)" % r)
ok(served(), "  and other clients are served")
r = answer_or_close(b"GET /health HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(5000)) + b"\r\n")
ok(r == "closed" or r.startswith("HTTP/1.1 4"), "5,000 headers: 4xx or closed (%s)" % r)
ok(served(), "  and other clients are served")
r = answer_or_close(b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 100000)
ok(r == "closed" or r.startswith("HTTP/1.1 4"), "a 100 MB body announced: 4xx or closed (%s)" % r)
r = answer_or_close(b"GARBAGE\r\n\r\n")
ok(r == "closed" or r.startswith("HTTP/1.1 4"), "a garbage request line: 4xx or closed (%s)" % r)
r = answer_or_close(b"GET /health HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n")
ok(r == "closed" or r.startswith("HTTP/1.1 4") or r.startswith("HTTP/1.1 200") or r.startswith("HTTP/1.1 503"),
   "a header line without a colon: bounded (%s)" % r)

# slowloris: one byte a second; the server must close it (request_timeout = 3)
closed = {}
def slow(i):
    s = socket.create_connection((host, port), timeout=60)
    s.sendall(b"GET /health HTTP/1.1\r\n")
    t0 = time.monotonic()
    try:
        for k in range(60):
            s.sendall(b"X")
            s.settimeout(1)
            try:
                if s.recv(1) == b"":
                    break
            except socket.timeout:
                pass
    except OSError:
        pass
    closed[i] = time.monotonic() - t0
    s.close()
slows = [threading.Thread(target=slow, args=(i,)) for i in range(5)]
for t in slows:
    t.start()
time.sleep(1.5)
ok(served(), "while 5 clients send one byte a second, others are served")
for t in slows:
    t.join()
ok(len(closed) == 5 and max(closed.values()) < 55,
   "the slow clients were disconnected (after %s s)" % sorted(round(v) for v in closed.values()))

# a thousand idle connections (max_connections = 300): new clients are still served
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
idle = []
for i in range(1000):
    try:
        idle.append(socket.create_connection((host, port), timeout=10))
    except OSError as e:
        break
ok(len(idle) == 1000, "1,000 idle connections opened (%d)" % len(idle))
time.sleep(0.5)
good = sum(1 for i in range(20) if served())
ok(good == 20, "with them open, 20 of 20 new clients served (%d)" % good)
try:
    h = json.loads(get().split(b"\r\n\r\n", 1)[1])
    ok(h["connections"] <= 300, "open connections at most max_connections (%d)" % h["connections"])
except Exception as e:
    ok(False, "health while full: %s" % e)
for s in idle:
    s.close()
# idle connections are closed by idle_timeout too
s = socket.create_connection((host, port), timeout=30)
t0 = time.monotonic()
gone = s.recv(1) == b""
ok(gone, "an idle connection is closed by the server (after %.0f s)" % (time.monotonic() - t0))
s.close()
PY
# renumber the python checks into this script's sequence
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) fail "${line#not ok * - }" ;;
	*) echo "#   $line" ;;
	esac
done <"$T/py.out"

code=$(curl -s -o /dev/null -w '%{http_code}' "$U/health")
case $code in 200|503) ok "after all that, /health answers ($code)" ;; *) fail "after all that, /health answers ($code)" ;; esac
check "the server is still running" kill -0 "$MC_SERVE_PID"
if mc_serve_stop; then ok "SIGTERM: exit 0"; else fail "SIGTERM: exit 0"; sed 's/^/#   /' "$MC_SERVE_ERR" | tail -20; fi
if grep -q "ERROR: AddressSanitizer\|runtime error" "$MC_SERVE_ERR"; then
	fail "no sanitizer report"; sed 's/^/#   /' "$MC_SERVE_ERR" | head -40
else
	ok "no sanitizer report"
fi
mc_check_stores
done_testing
