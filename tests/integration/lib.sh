# lib.sh — sourced by every integration test script.
#
# Environment (set by tests/run.sh; defaults let a script run by hand):
#   MUCLUC   path to the mucluc binary
#   SRCDIR   the source tree
#   SHARED   ../shared beside the source tree (may not exist)
# Each check prints "ok N - text", "not ok N - text" or "ok N - text # SKIP why";
# the script exits 1 if any check failed. tests/run.sh counts these lines.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MUCLUC=${MUCLUC:-$SRCDIR/build/cli/mucluc}
SHARED=${SHARED:-$SRCDIR/../shared}
_t_n=0
_t_failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/mucluc-it.XXXXXX")
MC_SERVE_PIDS=""
# servers a test started and left running are stopped on exit
trap 'for p in $MC_SERVE_PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

ok()   { _t_n=$((_t_n + 1)); echo "ok $_t_n - $*"; }
fail() { _t_n=$((_t_n + 1)); _t_failed=$((_t_failed + 1)); echo "not ok $_t_n - $*"; }
skip() { _t_n=$((_t_n + 1)); echo "ok $_t_n - $1 # SKIP ${2:-}"; }
# check "description" command...: ok when the command exits 0
check() { local d=$1; shift; if "$@" >"$T/.out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/#   /' "$T/.out" | head -20; fi; }
# check_eq "description" expected actual
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1"; echo "#   expected: $2"; echo "#   actual:   $3"; fi; }
# done_testing: call last
done_testing() { [ "$_t_failed" -eq 0 ]; exit $?; }

# A fresh config + data directory under $T; prints the config path.
# Extra lines on stdin are appended (source sections).
mk_config() {
	local dir=$T/cat.$RANDOM
	mkdir -p "$dir"
	{
		printf '[catalogue]\nname = Test catalogue\ndata_dir = %s/data\n' "$dir"
		printf 'repository_identifier = test.mucluc.vn\nadmin_email = admin@example.org\n\n'
		printf '[server]\nlisten = 127.0.0.1:0\n\n'
		cat
	} >"$dir/mucluc.ini"
	echo "$dir/mucluc.ini"
}
shared_or_skip() { [ -d "$SHARED/data" ]; }

# mc_check_store CONFIG|DATA_DIR [what]: `mucluc check` on a store the test
# leaves, as one test case: ok when it exits 0 (consistent); its problem lines
# are shown otherwise. A data directory gets a minimal configuration of its own.
mc_check_store() {
	local arg=$1 what=${2:-$1} cfg out rc
	if [ -d "$arg" ]; then
		cfg=$T/.check.$RANDOM.ini
		printf '[catalogue]\nname = check\ndata_dir = %s\nrepository_identifier = check.invalid\nadmin_email = admin@example.org\n' \
			"$arg" >"$cfg"
	else
		cfg=$arg
	fi
	out=$("$MUCLUC" -c "$cfg" check 2>&1); rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "mucluc check: ${what#"$T"/} is consistent"
	else
		fail "mucluc check: ${what#"$T"/} is consistent (exit $rc)"
		printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
	fi
}
# mc_check_stores: mc_check_store on every store left under $T (call before
# done_testing).
mc_check_stores() {
	local s d
	while IFS= read -r s; do
		d=$(dirname "$(dirname "$s")")
		mc_check_store "$d"
	done < <(find "$T" -path '*/store/data.mdb' 2>/dev/null | sort)
}

# mc_serve_start CONFIG [serve options...]: start `mucluc serve` on
# 127.0.0.1 with a port the kernel picks, in the background. Sets
# MC_SERVE_PID, MC_SERVE_URL (http://127.0.0.1:PORT), MC_SERVE_OUT and
# MC_SERVE_ERR (its stdout/stderr files). Waits until it announced its
# address and answers /health (any status: 503 until an index exists).
# Returns 1 when it exited or never answered.
mc_serve_start() {
	local cfg=$1 i code; shift
	MC_SERVE_OUT=$T/serve.$RANDOM.out
	MC_SERVE_ERR=${MC_SERVE_OUT%.out}.err
	MC_SERVE_URL=
	"$MUCLUC" -c "$cfg" serve --listen 127.0.0.1:0 "$@" >"$MC_SERVE_OUT" 2>"$MC_SERVE_ERR" &
	MC_SERVE_PID=$!
	MC_SERVE_PIDS="$MC_SERVE_PIDS $MC_SERVE_PID"
	for i in $(seq 1 600); do
		MC_SERVE_URL=$(grep -o 'http://[^/]*' "$MC_SERVE_OUT" 2>/dev/null | head -1)
		[ -n "$MC_SERVE_URL" ] && break
		kill -0 "$MC_SERVE_PID" 2>/dev/null || { cat "$MC_SERVE_ERR" >&2; return 1; }
		sleep 0.05
	done
	[ -n "$MC_SERVE_URL" ] || return 1
	for i in $(seq 1 600); do
		code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$MC_SERVE_URL/health")
		[ "$code" != "000" ] && return 0
		kill -0 "$MC_SERVE_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# mc_serve_stop: SIGTERM to the server of mc_serve_start; returns its exit status.
mc_serve_stop() {
	local rc
	kill -TERM "$MC_SERVE_PID" 2>/dev/null
	wait "$MC_SERVE_PID"; rc=$?
	MC_SERVE_PIDS=${MC_SERVE_PIDS/ $MC_SERVE_PID/}
	return $rc
}
# mc_sample_store [server lines...]: a data directory under $T holding the
# bundled sample catalogue (tests/data/sample, five libraries), imported and
# merged; each argument is one more line for [server]. Prints the config path.
mc_sample_store() {
	local dir=$T/sample.$RANDOM sample=$SRCDIR/tests/data/sample line id file format encoding records
	mkdir -p "$dir"
	sed "s|^data_dir *=.*|data_dir = $dir/data|" "$sample/sample.ini" >"$dir/mucluc.ini"
	for line in "$@"; do
		sed -i "/^\[server\]/a $line" "$dir/mucluc.ini"
	done
	"$MUCLUC" -c "$dir/mucluc.ini" init >/dev/null || return 1
	while IFS=$'\t' read -r id file format encoding records; do
		[ "$id" = "id" ] && continue
		"$MUCLUC" -c "$dir/mucluc.ini" import --source "$id" --format "$format" \
			--encoding "$encoding" "$sample/$file" >/dev/null 2>&1 || return 1
	done <"$sample/manifest.tsv"
	echo "$dir/mucluc.ini"
}
