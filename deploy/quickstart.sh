#!/usr/bin/env bash
# deploy/quickstart.sh — from a fresh Debian 12 machine to a running catalogue.
#
# Installs the missing Debian packages, builds mucluc (release), creates a
# data directory, imports the bundled sample catalogue (five libraries of a
# province) and prints what it holds per library.
#
#   deploy/quickstart.sh [DATA_DIR]     (default: ./quickstart-data)
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
exit "$status"
