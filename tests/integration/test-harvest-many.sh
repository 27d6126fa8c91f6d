#!/usr/bin/env bash
# test-harvest-many.sh — 30 sources harvested at once with --jobs 8, five of
# them failing in different ways (always 500, an HTML page, a looping token,
# connection refused, a format the provider does not offer): the other 25
# complete, the exit code is 1, the summary names each failure.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"
hv_require

provider_start p --records 400 --page-size 40
U=$PV_URL; L=$PV_LOG
cfg=$({
	for k in $(seq 1 25); do
		printf '[source "ok-%02d"]\nname = Library %d\ntype = commune\nurl = %s/id=%d/n=%d/oai\nmetadata_prefix = %s\n\n' \
			"$k" "$k" "$U" "$k" $((100 + k * 10)) "$([ $((k % 2)) = 0 ] && echo marc21 || echo oai_dc)"
	done
	printf '[source "bad-500"]\nname = B1\ntype = school\nurl = %s/500=always/oai\nmetadata_prefix = marc21\n\n' "$U"
	printf '[source "bad-html"]\nname = B2\ntype = school\nurl = %s/html/oai\nmetadata_prefix = marc21\n\n' "$U"
	printf '[source "bad-loop"]\nname = B3\ntype = school\nurl = %s/sametoken/oai\nmetadata_prefix = marc21\n\n' "$U"
	printf '[source "bad-refused"]\nname = B4\ntype = school\nurl = http://127.0.0.1:1/oai\nmetadata_prefix = marc21\n\n'
	printf '[source "bad-format"]\nname = B5\ntype = school\nurl = %s/id=fmt/oai\nmetadata_prefix = mods\n\n' "$U"
} | hv_config)
"$MUCLUC" -c "$cfg" init >/dev/null 2>&1

t0=$(date +%s)
"$MUCLUC" -c "$cfg" harvest --all --jobs 8 >"$T/out" 2>"$T/err"; rc=$?
t1=$(date +%s)
check_eq "30 sources, 5 failing: exit 1" 1 "$rc"
check_eq "one summary line per source" 30 "$(grep -cE '^(ok|bad)-[a-z0-9]+: (ok|FAILED): ' "$T/out")"
good=0 bad=""
for k in $(seq 1 25); do
	s=$(printf 'ok-%02d' "$k"); want=$((100 + k * 10))
	if grep -qE "^$s: ok: $want new, 0 changed, 0 deleted, 0 unchanged, 0 errors, [0-9]+ pages in" "$T/out" &&
		[ "$(ids "$cfg" "$s" | grep -c ' present$')" = "$want" ]; then
		good=$((good + 1))
	else
		bad="$bad $s"
	fi
done
check_eq "the 25 good sources complete with every record" "25" "$good"
[ -n "$bad" ] && echo "#   not complete:$bad"
for s in bad-500 bad-html bad-loop bad-refused bad-format; do
	check "the summary names the failure of $s" grep -qE "^$s: FAILED: .+" "$T/out"
done
check "bad-500: reason mentions 500" grep -qE "^bad-500: FAILED: .*500" "$T/out"
check "bad-html: reason mentions HTML" grep -qiE "^bad-html: FAILED: .*html" "$T/out"
check "bad-loop: reason says the provider loops, naming the token" grep -qE "^bad-loop: FAILED: the provider loops: 3 pages in a row brought nothing new \(resumption token '[A-Za-z0-9_-]+' again with the same 40 identifiers\)" "$T/out"
check "bad-refused: reason mentions the connection" grep -qiE "^bad-refused: FAILED: .*(connect|refused)" "$T/out"
check "bad-format: reason names the format" grep -qiE "^bad-format: FAILED: .*(mods|cannotDisseminateFormat|format)" "$T/out"
echo "# the whole run took $((t1 - t0)) s"
"$MUCLUC" -c "$cfg" sources >"$T/src" 2>&1
check "mucluc sources shows the last error of bad-500" \
	bash -c "grep -A1 -E '^bad-500 ' '$T/src' | grep -qE '^  harvest: last success never.*; last error '"
check "... and a last success for ok-01" \
	bash -c "grep -A1 -E '^ok-01 ' '$T/src' | grep -qE '^  harvest: last success 20'"
mc_check_stores
done_testing
