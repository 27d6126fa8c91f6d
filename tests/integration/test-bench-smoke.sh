#!/usr/bin/env bash
# test-bench-smoke.sh — bench/relevance and bench/search still run (2,000
# records, a few queries, one-second wrk runs). Figures are not checked (no
# timing assertions): only that each script ends, writes its table, and
# measured each side it could.
. "$(dirname "$0")/lib.sh"

if ! command -v zebraidx >/dev/null || ! command -v wrk >/dev/null; then
	skip "bench smoke" "zebraidx or wrk missing"
	done_testing
fi
if [ ! -d "$SRCDIR/../shared/data/vi" ]; then
	skip "bench smoke" "gen-corpus needs ../shared/data/vi"
	done_testing
fi
export BENCH_OUT=$T/out
if ! "$MUCLUC" index --help >/dev/null 2>&1; then
	skip "bench smoke" "this mucluc has no index command yet"
	done_testing
fi

check "bench/relevance --records 2000 runs" \
	"$SRCDIR/bench/relevance" --records 2000 --libraries 4 --queries 10 --show-failures 1 \
	--mucluc "$MUCLUC" --keep
f=$(ls "$BENCH_OUT"/relevance-*.txt 2>/dev/null | head -1)
check "bench/relevance wrote its table" test -s "$f"
check "relevance table has mucluc, zebra and xapian columns" \
	grep -Eq '^kind +mucluc +zebra +xapian' "$f"
check "relevance table prints work@1" grep -q '^work@1' "$f"
mc_check_store "$BENCH_OUT/relevance-run-l4-r2000-s1/mucluc.ini" "relevance store"

if "$MUCLUC" serve --help >/dev/null 2>&1; then
	check "bench/search --records 2000 runs" \
		"$SRCDIR/bench/search" --records 2000 --libraries 4 --duration 1 --connections 2 \
		--paths 200 --mucluc "$MUCLUC" --keep
	f=$(ls "$BENCH_OUT"/search-*.txt 2>/dev/null | head -1)
	check "bench/search wrote its table" test -s "$f"
	check "search table has requests/s for both" grep -Eq '^requests/s +[0-9]+ +[0-9]+' "$f"
	mc_check_store "$BENCH_OUT/search-run-l4-r2000-s1/mucluc.ini" "search store"
else
	skip "bench/search" "this mucluc has no serve command yet"
fi
done_testing
