#!/usr/bin/env bash
# tests/run.sh — the one command that runs every test.
#
# Installs the Debian packages that are missing, builds with -Werror, runs the
# unit tests (cmocka), the fuzz-corpus replays and the integration tests
# (real mucluc processes, real peers), then the unit tests again under
# AddressSanitizer + UBSan. Ends with "N passed, N failed"; exits non-zero
# when anything failed.
#
#   tests/run.sh            everything
#   tests/run.sh --quick    skip the sanitizer build
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src" || exit 2
. deploy/packages.sh

quick=0
[ "${1:-}" = "--quick" ] && quick=1

passed=0
failed=0
failures=()

mc_ensure_packages $MC_PKGS_BUILD $MC_PKGS_TEST || { echo "0 passed, 1 failed"; exit 1; }

build() { # build DIR [meson options...]
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -50 "$dir.ninja.log"; return 1; }
}

# run_tap NAME CMD...: run one test program printing TAP lines; count its cases.
run_tap() {
	local name=$1 out rc ok nok; shift
	out=$(mktemp)
	timeout 900 "$@" >"$out" 2>&1
	rc=$?
	ok=$(grep -cE '^ok [0-9]+' "$out")
	# cmocka's TAP writes a skipped case as "not ok N # SKIP": that is a skip
	nok=$(grep -E '^not ok [0-9]+' "$out" | grep -vc '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1  # crashed, timed out or failed outside a case
	fi
	if [ "$rc" -eq 0 ] && [ "$ok" -eq 0 ]; then
		ok=1   # a plain program that exits 0 is one passing check
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	if [ "$nok" -gt 0 ]; then
		failures+=("$name")
		echo "--- $name: FAILED (exit $rc)"
		grep -vE '^ok [0-9]+' "$out" | tail -40
	else
		echo "--- $name: $ok passed$(grep -c '# SKIP' "$out" | sed 's/^0$//; s/^\(.\+\)$/, \1 skipped/')"
	fi
	rm -f "$out"
}

echo "=== build (warnings are errors)"
if ! build build-test; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

echo "=== unit tests"
for t in build-test/tests/unit/test-*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	pushd tests/unit >/dev/null
	CMOCKA_MESSAGE_OUTPUT=TAP MUCLUC_SRCDIR="$src" run_tap "unit/$(basename "$t")" "$src/$t"
	popd >/dev/null
done

echo "=== fuzz corpus replays"
for t in build-test/tests/fuzz/fuzz-*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	n=$(basename "$t")
	MUCLUC_SRCDIR="$src" run_tap "fuzz/$n" "$src/$t" "$src/tests/fuzz/corpus/$n"
done

echo "=== integration tests"
export MUCLUC="$src/build-test/cli/mucluc" SRCDIR="$src" SHARED="$src/../shared"
[ -d "$SHARED" ] || echo "note: $SHARED is absent: tests that need it are skipped"
for t in tests/integration/test-*.sh; do
	[ -f "$t" ] || continue
	run_tap "integration/$(basename "$t")" bash "$t"
done

if [ "$quick" -eq 0 ]; then
	echo "=== unit tests under AddressSanitizer + UBSan"
	# a build-asan from before the torture option: switch it on
	[ -f build-asan/build.ninja ] && [ ! -d build-asan/tests/torture ] &&
		meson setup --reconfigure build-asan -Dtorture=true >/dev/null
	if build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dtorture=true; then
		for t in build-asan/tests/unit/test-*; do
			[ -x "$t" ] && [ -f "$t" ] || continue
			pushd tests/unit >/dev/null
			ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
				CMOCKA_MESSAGE_OUTPUT=TAP MUCLUC_SRCDIR="$src" \
				run_tap "asan/$(basename "$t")" "$src/$t"
			popd >/dev/null
		done
		for t in build-asan/tests/fuzz/fuzz-*; do
			[ -x "$t" ] && [ -f "$t" ] || continue
			n=$(basename "$t")
			ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
				run_tap "asan/$n" "$src/$t" "$src/tests/fuzz/corpus/$n"
		done
		# the mucluc binary itself (two threads per import) on hostile input
		# ... and the HTTP server under hostile clients (test-serve-hostile.sh)
		for t in tests/integration/test-cli.sh tests/integration/test-badinput.sh \
			tests/integration/test-serve-hostile.sh; do
			MUCLUC="$src/build-asan/cli/mucluc" ASAN_OPTIONS=detect_leaks=1 \
				UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
				run_tap "asan/$(basename "$t")" bash "$t"
		done
		# allocation torture (tests/torture/run.sh --all for every N)
		MUCLUC="$src/build-test/cli/mucluc" MUCLUC_TORTURE="$src/build-asan/tests/torture/mucluc-torture" \
			SRCDIR="$src" run_tap "torture" bash tests/torture/run.sh
	else
		failed=$((failed + 1))
		failures+=("asan build")
	fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
