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
trap 'rm -rf "$T"' EXIT

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
