#!/usr/bin/env bash
# test-harvest-full.sh — `harvest --full` marks deleted what the provider no
# longer lists, but not more than full_delete_limit (default 50%) of a
# source's records in one run unless --force: a provider that suddenly lists
# a tenth of its records is more likely broken than weeded.
# The provider keeps no deletes (deletedRecord=no), 200 records in pages of
# 50; `n=K/` in a source's URL makes it list only records 1..K.
. "$(dirname "$0")/lib.sh"
. "$SRCDIR/tests/oai-provider/harvest-lib.sh"
hv_require

provider_start p --records 200 --page-size 50 --deleted no
U=$PV_URL
cfg=$(hv_config <<EOF
[source "a"]
name = Default limit
type = commune
url = $U/id=a/oai
metadata_prefix = marc21

[source "b"]
name = Own limit
type = commune
url = $U/id=b/oai
metadata_prefix = marc21
full_delete_limit = 95%

[source "c"]
name = Half gone
type = commune
url = $U/id=c/oai
metadata_prefix = marc21
EOF
)
"$MUCLUC" -c "$cfg" init >/dev/null 2>&1
H() { "$MUCLUC" -c "$cfg" harvest --no-merge "$@" >"$T/out" 2>"$T/err"; rc=$?; }
present() { ids "$cfg" "$1" | grep -c ' present$'; }
deleted() { ids "$cfg" "$1" | grep -c ' deleted$'; }
url() { sed -i "/^\[source \"$1\"\]/,/^\$/ s|^url = .*|url = $U/$2/oai|" "$cfg"; }

H --all
check_eq "first harvest: exit 0" 0 "$rc"
for s in a b c; do check_eq "$s: 200 records" 200 "$(present $s)"; done

# -- a: the provider suddenly lists 20 of 200 (10%): refused ---------------------------
url a "id=a/n=20"
H --source a --full
check_eq "a: --full seeing 10% of the records: exit 1" 1 "$rc"
check "a: FAILED saying how many, of how many, the limit and how to override" grep -qxF \
	"a: FAILED: --full refused to mark 180 of 200 records deleted (90%): more than the full_delete_limit of [harvest] (50%); nothing marked deleted. If the provider really dropped them, run again with --force (or raise full_delete_limit) (0 new, 0 changed, 0 deleted, 20 unchanged, 0 errors, 1 pages in $(sed -n 's/.* pages in \([0-9.]*\) s)$/\1/p' "$T/out") s)" "$T/out"
[ "$rc" -eq 1 ] || sed 's/^/#   /' "$T/out" "$T/err" | head -5
check_eq "a: nothing deleted" "200 0" "$(present a) $(deleted a)"
check "a: mucluc sources shows the refusal as the last error" \
	grep -qF "refused to mark 180 of 200 records deleted" <("$MUCLUC" -c "$cfg" sources 2>&1)
# the refusal is the same the next night: nothing deleted behind the operator's back
H --source a --full
check_eq "a: again: exit 1, still nothing deleted" "1 200 0" "$rc $(present a) $(deleted a)"
# an incremental run is not --full: it deletes nothing and succeeds
H --source a
check_eq "a: an incremental run: exit 0, nothing deleted" "0 200" "$rc $(present a)"

# -- --force: the operator says the provider really dropped them --------------------
H --source a --full --force
check_eq "a: --full --force: exit 0" 0 "$rc"
check "a: ok, 180 deleted" grep -qE "^a: ok: 0 new, 0 changed, 180 deleted, 20 unchanged, 0 errors, 1 pages in" "$T/out"
check "a: stderr says the limit was overridden" grep -qF \
	"a: --full --force: marking 180 of 200 records deleted (90%), more than the full_delete_limit of [harvest] (50%)" "$T/err"
check_eq "a: 20 present, 180 deleted in the store" "20 180" "$(present a) $(deleted a)"
check_eq "a: the 20 listed records are the ones kept" "$(seq 1 20 | sed 's/^/oai:test:/' | sort)" \
	"$(ids "$cfg" a | awk '$2 == "present" {print $1}')"
H --source a --force
check_eq "--force without --full: usage error, exit 2" 2 "$rc"
check "... saying so" grep -qF "mucluc harvest: --force goes with --full" "$T/err"

# -- b: its own full_delete_limit = 95%: 90% is under it ------------------------------
url b "id=b/n=20"
H --source b --full
check_eq "b: full_delete_limit = 95% in [source \"b\"]: exit 0" 0 "$rc"
check "b: ok, 180 deleted" grep -qE "^b: ok: 0 new, 0 changed, 180 deleted, 20 unchanged, 0 errors" "$T/out"
check_eq "b: 20 present, 180 deleted" "20 180" "$(present b) $(deleted b)"

# -- c: exactly half gone is not more than 50% --------------------------------------
url c "id=c/n=100"
H --source c --full
check_eq "c: 100 of 200 (50%, the limit itself): exit 0" 0 "$rc"
check "c: ok, 100 deleted" grep -qE "^c: ok: 0 new, 0 changed, 100 deleted, 100 unchanged, 0 errors" "$T/out"
# one more gone is 99 of 100 (99%) of what is left: refused, the limit named by source
sed -i '/^\[source "c"\]/,/^$/ s|^metadata_prefix = marc21$|metadata_prefix = marc21\nfull_delete_limit = 98|' "$cfg"
url c "id=c/n=1"
H --source c --full
check_eq "c: 99 of 100 with full_delete_limit = 98: exit 1" 1 "$rc"
check "c: the message names the source's own limit" grep -qF \
	"c: FAILED: --full refused to mark 99 of 100 records deleted (99%): more than the full_delete_limit of [source \"c\"] (98%)" "$T/out"
check_eq "c: still 100 present" 100 "$(present c)"

# -- [harvest] full_delete_limit = 0: no deletion at all without --force ----------------
sed -i 's|^retries = 3$|retries = 3\nfull_delete_limit = 0%|' "$cfg"
"$MUCLUC" -c "$cfg" harvest --no-merge --source a --full >"$T/out" 2>"$T/err"; rc=$?
check_eq "a: nothing more vanished, limit 0%: exit 0" 0 "$rc"
url a "id=a/n=19"
H --source a --full
check_eq "a: one of 20 vanished (5%), limit 0%: exit 1" 1 "$rc"
check "a: refused 1 of 20" grep -qF "a: FAILED: --full refused to mark 1 of 20 records deleted (5%): more than the full_delete_limit of [harvest] (0%)" "$T/out"
check_eq "a: still 20 present" 20 "$(present a)"
mc_check_stores
done_testing
