# shellcheck shell=bash
# harvest-lib.sh — sourced by tests/integration/test-harvest-*.sh after lib.sh.
#
#   hv_require                 skip the whole script (TAP "# SKIP") when
#                              `$MUCLUC harvest --help` fails (no harvester yet)
#   provider_start NAME ARGS   start tests/oai-provider/provider.py on a free
#                              127.0.0.1 port; sets PV_URL (http://127.0.0.1:PORT)
#                              and PV_LOG (its JSON-lines request log)
#   provider_stop              stop every provider this script started
#   ctl URL OP [QUERY]         POST /control/OP?QUERY to a provider
#   hv_config                  mk_config with a [harvest] section for quick
#                              tests prepended to the source sections on stdin
#   plog LOG EXPR              count log entries for which the Python
#                              expression EXPR is true (the entry is `e`)
#   ids CFG SRC                "local_id status" lines of SRC's records, sorted
#   summary OUT SRC            the summary line of SRC in a harvest's stdout
PROVIDER=${PROVIDER:-$SRCDIR/tests/oai-provider/provider.py}
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3; [ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3  # Debian's: a pyenv shim costs 0.3 s a start
fi
_pv_pids=""
trap 'provider_stop; rm -rf "$T"' EXIT

hv_require() {
	if ! "$MUCLUC" harvest --help >/dev/null 2>&1; then
		skip "$(basename "$0" .sh)" "no harvester: '$MUCLUC harvest --help' fails"
		exit 0
	fi
	if ! command -v "$PYTHON" >/dev/null; then
		skip "$(basename "$0" .sh)" "python3 is not installed"
		exit 0
	fi
}

provider_start() {
	local name=$1 i; shift
	rm -f "$T/$name.port"
	"$PYTHON" "$PROVIDER" --port 0 --port-file "$T/$name.port" --log "$T/$name.log" "$@" \
		2>>"$T/$name.err" &
	_pv_pids="$_pv_pids $!"
	for i in $(seq 100); do
		[ -s "$T/$name.port" ] && break
		sleep 0.1
	done
	PV_URL="http://127.0.0.1:$(cat "$T/$name.port" 2>/dev/null)"
	PV_LOG=$T/$name.log
	touch "$PV_LOG"
}

provider_stop() {
	local p
	for p in $_pv_pids; do kill "$p" 2>/dev/null; done
	for p in $_pv_pids; do wait "$p" 2>/dev/null; done
	_pv_pids=""
}

ctl() {
	"$PYTHON" -c 'import sys, urllib.request as u
u.urlopen(u.Request(sys.argv[1], data=b"", method="POST"), timeout=10).read()' \
		"$1/control/$2${3:+?$3}"
}

hv_config() {
	{
		printf '[harvest]\nconnect_timeout = 5\nlow_speed_time = 2\nretries = 3\n'
		printf 'retry_wait = 0.2\nretry_max_wait = 3\n\n'
		cat
	} | mk_config
}

plog() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    a = e.get("args") or {}
    if eval(sys.argv[2], {"e": e, "a": a}):
        n += 1
print(n)
EOF
}

ids() {
	"$MUCLUC" -c "$1" export --source "$2" --format jsonl 2>/dev/null | "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(r["local_id"], r["status"])' | sort
}

summary() { grep -E "^$2: " "$1" | head -1; }
