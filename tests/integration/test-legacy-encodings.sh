#!/usr/bin/env bash
# test-legacy-encodings.sh — the same records written in six encodings (UTF-8
# NFC, UTF-8 NFD, TCVN3, VNI, VISCII, Windows-1258) import to identical text.
#
# The input is six ISO 2709 files holding the same records (same 001s), made
# by bench/gen-corpus --same-records-in-all-encodings, whose encoders are
# written independently of the C decoders. With python3 the files are
# generated afresh; without it the committed copies in
# tests/data/sample/encodings/ are used. Each file is imported into its own
# source, first with --encoding auto, then (fresh store) with the encoding
# declared; the jsonl exports must agree byte for byte once "id", "source"
# and "encoding" are taken out, and the titles must be those of titles.tsv.
# No python in the checks themselves: grep, sed, sort, cmp.
. "$(dirname "$0")/lib.sh"

ENCS="utf-8 utf-8-nfd tcvn3 vni viscii cp1258"
K=42
SEED=11

if [ ! -x "$MUCLUC" ]; then
	skip "legacy encodings" "no mucluc binary at $MUCLUC"
	done_testing
fi

in=$SRCDIR/tests/data/sample/encodings
if command -v python3 >/dev/null 2>&1 && [ -d "$SHARED/data/vi" ]; then
	gen=$T/gen
	if python3 "$SRCDIR/bench/gen-corpus" --quiet --shared "$SHARED" \
		--same-records-in-all-encodings "$K" --seed "$SEED" --out "$gen" >"$T/gen.log" 2>&1; then
		ok "gen-corpus wrote the six files"
		in=$gen
		python3 "$SRCDIR/bench/gen-corpus" --quiet --shared "$SHARED" \
			--same-records-in-all-encodings "$K" --seed "$SEED" --out "$T/gen2" >/dev/null 2>&1
		same=yes
		for e in $ENCS; do cmp -s "$gen/$e.mrc" "$T/gen2/$e.mrc" || same=no; done
		check_eq "gen-corpus is deterministic for a seed" yes "$same"
	else
		fail "gen-corpus wrote the six files"
		sed 's/^/#   /' "$T/gen.log" | head -20
	fi
else
	skip "generate the input" "python3 or $SHARED/data/vi absent: using $in"
fi

for e in $ENCS; do
	[ -f "$in/$e.mrc" ] || { fail "input $in/$e.mrc exists"; done_testing; }
done
K=$(grep -c . "$in/titles.tsv")

# The six files hold the same records, in different bytes.
check "legacy files differ from the UTF-8 one" \
	sh -c '! cmp -s "$1/utf-8.mrc" "$1/tcvn3.mrc" && ! cmp -s "$1/vni.mrc" "$1/cp1258.mrc" &&
		! cmp -s "$1/utf-8.mrc" "$1/utf-8-nfd.mrc"' sh "$in"

# normalise FILE: one line per record, without id/source/encoding, sorted
normalise() {
	sed -e 's/^{"id":"[^"]*","source":"[^"]*",/{/' -e 's/,"encoding":"[^"]*"//' "$1" | LC_ALL=C sort
}

# run MODE: import each file into its own source, export, compare
run() {
	local mode=$1 conf e enc n
	conf=$(mk_config <"$in/libraries.ini")
	check "$mode: mucluc init" "$MUCLUC" -c "$conf" init
	for e in $ENCS; do
		enc=auto
		if [ "$mode" = declared ]; then
			enc=$e
			[ "$e" = utf-8-nfd ] && enc=utf-8
		fi
		check "$mode: import $e.mrc with --encoding $enc" \
			"$MUCLUC" -c "$conf" import --source "enc-$e" --format iso2709 --encoding "$enc" "$in/$e.mrc"
		"$MUCLUC" -c "$conf" export --source "enc-$e" --format jsonl >"$T/$mode.$e.jsonl" 2>"$T/$mode.$e.err" ||
			{ fail "$mode: export enc-$e"; sed 's/^/#   /' "$T/$mode.$e.err" | head -5; }
		n=$(grep -c '"status":"present"' "$T/$mode.$e.jsonl")
		check_eq "$mode: $e: $K records exported" "$K" "$n"
		normalise "$T/$mode.$e.jsonl" >"$T/$mode.$e.norm"
	done
	for e in $ENCS; do
		[ "$e" = utf-8 ] && continue
		if cmp -s "$T/$mode.utf-8.norm" "$T/$mode.$e.norm"; then
			ok "$mode: $e records are identical to the UTF-8 ones"
		else
			fail "$mode: $e records are identical to the UTF-8 ones"
			diff "$T/$mode.utf-8.norm" "$T/$mode.$e.norm" | head -6 | cut -c1-300 | sed 's/^/#   /'
		fi
		# the same, field by field, so a failure says which field
		for key in title responsibility publisher place; do
			grep -o "\"$key\":\"[^\"]*\"" "$T/$mode.utf-8.jsonl" | LC_ALL=C sort >"$T/a"
			grep -o "\"$key\":\"[^\"]*\"" "$T/$mode.$e.jsonl" | LC_ALL=C sort >"$T/b"
			cmp -s "$T/a" "$T/b" || fail "$mode: $e: \"$key\" values differ from UTF-8"
		done
		grep -o '"name":"[^"]*"' "$T/$mode.utf-8.jsonl" | LC_ALL=C sort >"$T/a"
		grep -o '"name":"[^"]*"' "$T/$mode.$e.jsonl" | LC_ALL=C sort >"$T/b"
		cmp -s "$T/a" "$T/b" || fail "$mode: $e: names differ from UTF-8"
	done
}

run auto

# Detection: every record of a file is recognised as its encoding.
for e in $ENCS; do
	case $e in
	utf-8-nfd) want="utf-8 (nfd)" ;;
	*) want=$e ;;
	esac
	n=$(grep -c "\"encoding\":\"$want\"" "$T/auto.$e.jsonl")
	check_eq "auto: $e.mrc detected as \"$want\" in every record" "$K" "$n"
done

# The titles are the ones written (245 $a, NFC), not just the same six times.
bad=0
while IFS=$'\t' read -r id title; do
	line=$(grep -F "\"local_id\":\"$id\"," "$T/auto.utf-8.jsonl" || true)
	case $line in
	*"\"title\":\"$title"*) ;;
	*) bad=$((bad + 1)); [ "$bad" -le 3 ] && echo "#   $id: expected title '$title'" ;;
	esac
done <"$in/titles.tsv"
check_eq "auto: titles are those of titles.tsv" 0 "$bad"

run declared
if cmp -s "$T/auto.utf-8.norm" "$T/declared.utf-8.norm"; then
	ok "declared encodings give the same records as detection"
else
	fail "declared encodings give the same records as detection"
fi

mc_check_stores
done_testing
