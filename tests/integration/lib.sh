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
