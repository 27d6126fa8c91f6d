#!/usr/bin/env bash
# tests/torture/run.sh — allocation torture, as curl does it.
#
# For each case (a mucluc command run on a prepared data directory) and for
# N = 1, 2, ... the command is run by mucluc-torture with MUCLUC_TORTURE_FAIL=N
# (the Nth allocation fails; see alloc-fail.c) on a fresh copy of the data
# directory, until a run completes without the failure firing. Every run must:
#   - end with exit 0, 1 or 2: no signal, no sanitizer report, no leak (LSan);
#   - when the failure fired and it did not exit 0, say on stderr what failed
#     (a message naming the memory shortage, not a wrong reason);
#   - when it exited 0 anyway, have stored exactly what a run without failure
#     stores;
#   - leave a store that the normal build opens (stats, export) and that
#     `mucluc check` finds clean;
#   - let the same command, run again by the normal build, finish the job:
#     then the store holds exactly what a run without failure stores.
#
# Usage: tests/torture/run.sh [--all] [--libs LIST] [--case NAME]...
#   (default)     every N up to $TORTURE_DENSE (60), then every
#                 $TORTURE_STRIDE-th (7) above, and always the last N
#   --all         every N: the full torture
#   --libs LIST   route these libraries' allocations through the counter too
#                 (MUCLUC_TORTURE_LIBS): default libxml2,jansson; '' for only
#                 the allocations mucluc's own code makes
#   --case NAME   only this case (init, import-a, import-b, rebuild, index); repeatable
#   -j N          N runs at once (default: the number of CPUs; TORTURE_JOBS)
# Environment: MUCLUC (the normal build's mucluc), MUCLUC_TORTURE (the
# torture build's mucluc-torture, built with -Dtorture=true and ASan+UBSan).
# Prints one TAP line per case ("ok N - ..."); exits 1 if any run failed.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MUCLUC=${MUCLUC:-$SRCDIR/build/cli/mucluc}
MUCLUC_TORTURE=${MUCLUC_TORTURE:-$SRCDIR/build-asan/tests/torture/mucluc-torture}
DATA=$SRCDIR/tests/torture/data
dense=${TORTURE_DENSE:-60}
jobs=${TORTURE_JOBS:-$(nproc 2>/dev/null || echo 1)}
stride=${TORTURE_STRIDE:-7}
all=0
libs=libxml2,jansson
cases=()
while [ $# -gt 0 ]; do
	case $1 in
	--all) all=1 ;;
	--libs) libs=$2; shift ;;
	--case) cases+=("$2"); shift ;;
	-j) jobs=$2; shift ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "torture: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
[ ${#cases[@]} -gt 0 ] || cases=(init import-a import-b rebuild index)
for b in "$MUCLUC" "$MUCLUC_TORTURE"; do
	[ -x "$b" ] || { echo "torture: $b is missing (configure with -Dtorture=true)" >&2; exit 2; }
done

# `mucluc check` proves the store consistent once it exists; until then the
# store is at least re-opened and read through (stats, export).
have_check=0
"$MUCLUC" check --help >/dev/null 2>&1 && have_check=1

T=$(mktemp -d "${TMPDIR:-/tmp}/mucluc-torture.XXXXXX")
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=detect_leaks=1:exitcode=86:handle_abort=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
export MUCLUC_TORTURE_LIBS=$libs
# one index builder thread: the Nth allocation must be the same one in every run
export MUCLUC_INDEX_JOBS=1

# (the index stage is its own case: the imports and the merge leave it out)
a_args=(import --no-index --source nb-tv-tinh "$DATA/nb-tv-tinh.xml")
b_args=(import --no-index --source nb-tv-huyen-1 --format iso2709 "$DATA/nb-tv-huyen-1.mrc")

# case_args NAME: the command tortured, into the array cmd
case_args() {
	case $1 in
	init) cmd=(init) ;;
	import-a) cmd=("${a_args[@]}") ;;
	import-b) cmd=("${b_args[@]}") ;;
	rebuild) cmd=(merge --rebuild --no-index) ;;
	index) cmd=(index --rebuild) ;;
	esac
}

# the prepared directory a case starts from: $T/base.NAME/{mucluc.ini,data}
prepare() {
	local d=$T/base.$1
	mkdir -p "$d"
	cp "$DATA/mucluc.ini" "$d/"
	[ "$1" = init ] && return 0
	"$MUCLUC" -c "$d/mucluc.ini" init >/dev/null || return 1
	[ "$1" = import-a ] && return 0
	"$MUCLUC" -c "$d/mucluc.ini" "${a_args[@]}" >/dev/null 2>&1 || return 1
	[ "$1" = import-b ] && return 0
	"$MUCLUC" -c "$d/mucluc.ini" "${b_args[@]}" >/dev/null 2>&1 || return 1
}

# snapshot CFG OUT: what the store holds, in a form two equal stores share:
# union ids and datestamps depend on the order records arrived in and on the
# clock, so unions are compared by content (members, holdings, fields)
snapshot() {
	{
		"$MUCLUC" -c "$1" export --with-metadata 2>&1 || echo "export failed: $?"
		echo "--- unions"
		"$MUCLUC" -c "$1" export --union 2>&1 | python3 -c '
import json, sys
out = []
for line in sys.stdin:
    try:
        u = json.loads(line)
    except ValueError:
        out.append("not JSON: " + line.rstrip())
        continue
    u.pop("id", None)
    u.pop("datestamp", None)
    out.append(json.dumps(u, sort_keys=True, ensure_ascii=False))
print("\n".join(sorted(out)))' || echo "export --union failed"
		# the search index, when there is one (terms, values, data, spelling)
		if [ -e "$(dirname "$1")/data/index" ]; then
			echo "--- index"
			/usr/bin/python3 "$SRCDIR/tests/integration/ixdump.py" "$(dirname "$1")/data/index" 2>&1 ||
				echo "index dump failed"
		fi
	} >"$2"
}

# integrity CFG ERRFILE: the normal build opens and reads the store; check
# when present
integrity() {
	"$MUCLUC" -c "$1" stats >/dev/null 2>"$2" || { echo "stats failed: $(head -3 "$2")"; return 1; }
	"$MUCLUC" -c "$1" export >/dev/null 2>"$2" || { echo "export failed: $(head -3 "$2")"; return 1; }
	if [ "$have_check" -eq 1 ]; then
		"$MUCLUC" -c "$1" check >"$2" 2>&1 || { echo "check failed: $(head -5 "$2")"; return 1; }
	fi
	return 0
}

# symbolise the backtrace alloc-fail.c wrote into the log
trace() {
	sed -n '/^fail /,/^end$/p' "$1" | grep -oE '\(\+0x[0-9a-f]+\)' | tr -d '()+' |
		addr2line -f -i -p -e "$MUCLUC_TORTURE" 2>/dev/null | grep -v '^??' | sed -n '3,14p' | sed 's/^/#       /'
}

# next_n N: the N to try after N (every N, or dense then sampled)
next_n() {
	local last=$1 n
	if [ "$all" -eq 1 ] || [ "$last" -lt "$dense" ] || [ "$last" -gt "$count" ]; then
		n=$((last + 1))  # past the count-only run's total: one by one until nothing fires
	else
		n=$((last + stride))
		# always try the last allocation, then one past the end
		[ "$n" -gt "$count" ] && [ "$last" -lt "$count" ] && n=$count
		[ "$n" -gt $((count + 1)) ] && n=$((count + 1))
	fi
	echo "$n"
}

# one_run CASE N DIR: one tortured run of the case's command on a fresh copy of
# its data directory, all under DIR; leaves DIR/fired when the failure fired,
# DIR/absorbed when it fired and the command still exited 0, DIR/report (the
# lines to print) when the run broke a rule
one_run() {
	local c=$1 n=$2 d=$3 w=$3/run rc fired=0 why= msg
	rm -rf "$d"; mkdir -p "$d"; cp -a "$T/base.$c" "$w"
	MUCLUC_TORTURE_FAIL=$n MUCLUC_TORTURE_LOG=$d/log \
		"$MUCLUC_TORTURE" -c "$w/mucluc.ini" "${cmd[@]}" >"$d/out" 2>"$d/err"
	rc=$?
	grep -q "^fail $n\$" "$d/log" 2>/dev/null && { fired=1; : >"$d/fired"; }
	if [ "$rc" -ge 128 ]; then
		why="killed by signal $((rc - 128))"
	elif grep -qE 'Sanitizer|runtime error:' "$d/err"; then
		why="sanitizer report (exit $rc)"
	elif [ "$rc" -gt 2 ]; then
		why="exit $rc"
	elif [ "$fired" -eq 1 ] && [ "$rc" -ne 0 ] && ! grep -qiE 'memory|ENOMEM' "$d/err"; then
		why="exit $rc without naming the memory shortage"
	elif [ "$fired" -eq 0 ] && [ "$rc" -ne 0 ]; then
		why="exit $rc with no allocation failed"
	fi
	if [ -z "$why" ] && [ "$rc" -eq 0 ]; then
		if [ "$fired" -eq 1 ]; then
			: >"$d/absorbed"
			# TORTURE_VERBOSE=1: where the failures that change nothing are
			[ -n "${TORTURE_VERBOSE:-}" ] && { echo "# $c N=$n absorbed (exit 0)"; trace "$d/log"; } >"$d/report"
		fi
		snapshot "$w/mucluc.ini" "$d/snap"
		cmp -s "$T/ref.snap" "$d/snap" || why="exit 0 but the store differs from a clean run's"
	fi
	# a failed init may leave no store: nothing to open before the retry
	if [ -z "$why" ] && { [ "$c" != init ] || [ "$rc" -eq 0 ]; }; then
		msg=$(integrity "$w/mucluc.ini" "$d/int.err") || why="store left behind: $msg"
	fi
	if [ -z "$why" ] && [ "$rc" -ne 0 ]; then
		if ! "$MUCLUC" -c "$w/mucluc.ini" "${cmd[@]}" >/dev/null 2>"$d/retry.err"; then
			why="the normal build's retry fails: $(head -3 "$d/retry.err")"
		else
			snapshot "$w/mucluc.ini" "$d/snap"
			if ! cmp -s "$T/ref.snap" "$d/snap"; then
				why="after the retry the store differs from a clean run's"
			elif [ "$have_check" -eq 1 ] &&
				! "$MUCLUC" -c "$w/mucluc.ini" check >"$d/int.err" 2>&1; then
				why="check fails after the retry: $(head -5 "$d/int.err")"
			fi
		fi
	fi
	if [ -n "$why" ]; then
		{
			echo "# $c N=$n: $why"
			head -c 3000 "$d/err" | head -25 | sed 's/^/#     /'
			[ "$fired" -eq 1 ] && trace "$d/log"
		} >"$d/report"
	fi
	return 0
}

tap_n=0
any_failed=0
total_runs=0
for c in "${cases[@]}"; do
	case_args "$c"
	t0=$(date +%s)
	rm -rf "$T/base.$c"
	if ! prepare "$c"; then
		tap_n=$((tap_n + 1)); any_failed=1
		echo "not ok $tap_n - $c: preparing the data directory failed"
		continue
	fi
	# the reference: the command run by the normal build, then a count-only
	# run of the torture build (nothing fails: it must be clean too)
	rm -rf "$T/ref"; cp -a "$T/base.$c" "$T/ref"
	"$MUCLUC" -c "$T/ref/mucluc.ini" "${cmd[@]}" >/dev/null 2>&1
	snapshot "$T/ref/mucluc.ini" "$T/ref.snap"
	rm -rf "$T/cnt"; cp -a "$T/base.$c" "$T/cnt"; rm -f "$T/cnt.log"
	MUCLUC_TORTURE_FAIL=0 MUCLUC_TORTURE_LOG=$T/cnt.log \
		"$MUCLUC_TORTURE" -c "$T/cnt/mucluc.ini" "${cmd[@]}" >/dev/null 2>"$T/cnt.err"
	rc=$?
	count=$(sed -n 's/^count //p' "$T/cnt.log" 2>/dev/null | tail -1)
	if [ "$rc" -ne 0 ] || [ -z "$count" ]; then
		tap_n=$((tap_n + 1)); any_failed=1
		echo "not ok $tap_n - $c: the torture build fails with nothing failing (exit $rc)"
		head -20 "$T/cnt.err" | sed 's/^/#   /'
		continue
	fi
	runs=0 bad=0 fired_ok0=0 n=0 done_=0
	while [ "$done_" -eq 0 ]; do
		batch=()
		for ((j = 0; j < jobs; j++)); do
			n=$(next_n "$n")
			batch+=("$n")
			one_run "$c" "$n" "$T/s$j" &
		done
		wait
		for ((j = 0; j < jobs; j++)); do
			d=$T/s$j
			runs=$((runs + 1))
			[ -s "$d/report" ] && { bad=$((bad + 1)); cat "$d/report"; }
			[ -e "$d/absorbed" ] && fired_ok0=$((fired_ok0 + 1))
			[ -e "$d/fired" ] || done_=1
		done
	done
	total_runs=$((total_runs + runs))
	t1=$(date +%s)
	tap_n=$((tap_n + 1))
	summary="$c: $count allocations, $runs runs ($([ "$all" -eq 1 ] && echo every N || echo "N<=$dense, then every ${stride}th")), $fired_ok0 absorbed, $((t1 - t0)) s"
	[ "$have_check" -eq 1 ] || summary="$summary, no mucluc check yet"
	if [ "$bad" -eq 0 ]; then
		echo "ok $tap_n - $summary"
	else
		any_failed=1
		echo "not ok $tap_n - $summary: $bad runs failed"
	fi
done
echo "# torture: $total_runs runs${libs:+, libraries counted: $libs}"
exit "$any_failed"
