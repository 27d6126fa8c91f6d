#!/usr/bin/env bash
# deploy/quickstart.sh — from a fresh Debian 12 machine to a running catalogue.
#
# Installs the missing Debian packages, builds mucluc (release), creates a
# data directory, imports the bundled sample catalogue (five libraries of a
# province), prints what it holds per library, builds the search index and
# ends serving it on 127.0.0.1 (schemas/api.md), printing example curl
# commands; Ctrl-C (or SIGTERM) stops the server and the script.
#
#   deploy/quickstart.sh [DATA_DIR]     (default: ./quickstart-data)
#
# MUCLUC_QUICKSTART_LISTEN=ADDR:PORT    where to serve (default 127.0.0.1:8080;
#                                       port 0: any free port)
# MUCLUC_QUICKSTART_SERVE=no            stop after loading (no server)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
. deploy/packages.sh
mc_ensure_packages $MC_PKGS_BUILD

echo "== building mucluc (release)"
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release -Dtests=false >/dev/null
fi
ninja -C build >/dev/null
mucluc=$src/build/cli/mucluc

data=${1:-$src/quickstart-data}
mkdir -p "$data"
data=$(cd "$data" && pwd)
sample=$src/tests/data/sample
conf=$data/mucluc.ini

# The sample config with data_dir pointing at this data directory.
sed "s|^data_dir *=.*|data_dir = $data|" "$sample/sample.ini" >"$conf"

echo "== creating the store in $data"
"$mucluc" -c "$conf" init

echo "== importing the sample catalogue"
status=0
# manifest.tsv: id, file, format, encoding, records (header line first)
while IFS=$'\t' read -r id file format encoding records; do
	[ "$id" = "id" ] && continue
	"$mucluc" -c "$conf" import --source "$id" --format "$format" --encoding "$encoding" \
		"$sample/$file" || status=$?
done <"$sample/manifest.tsv"

echo
echo "== the sample catalogue, per library"
"$mucluc" -c "$conf" sources
echo
echo "config: $conf   (try: $mucluc -c $conf stats)"
if [ "${MUCLUC_QUICKSTART_SERVE:-yes}" = "no" ]; then
	exit "$status"
fi

echo
echo "== indexing the sample catalogue for search"
"$mucluc" -c "$conf" index || status=$?

listen=${MUCLUC_QUICKSTART_LISTEN:-127.0.0.1:8080}
echo
echo "== serving on $listen (Ctrl-C stops)"
out=$data/serve.out
"$mucluc" -c "$conf" serve --listen "$listen" >"$out" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' INT TERM
trap 'kill -HUP "$pid" 2>/dev/null' HUP
url=
for _ in $(seq 1 100); do
	url=$(grep -o 'http://[^ ]*/' "$out" 2>/dev/null | head -1)
	[ -n "$url" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
cat "$out"
if [ -n "$url" ]; then
	cat <<EXAMPLES

Try:
  curl -s '${url}health'
  curl -s '${url}api/search?q=lich+su+viet+nam&size=3'
  curl -s '${url}api/search?q=truyen&library=nb-tv-tinh&sort=-year'
  curl -s '${url}api/suggest?q=lich+s'
  curl -s '${url}api/records/1'
  curl -s '${url}api/records/1?format=marcxml'
  curl -s '${url}api/libraries'
EXAMPLES
fi
# wait for the server (a trapped signal interrupts wait: wait again)
while :; do
	rc=0
	wait "$pid" || rc=$?
	kill -0 "$pid" 2>/dev/null || break
done
if [ "$status" -ne 0 ]; then
	echo "note: some imports reported problems (exit $status)" >&2
fi
exit "$rc"
