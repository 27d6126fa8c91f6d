# packages.sh — sourced by deploy/quickstart.sh and tests/run.sh.
# The Debian 12 packages mucluc needs, and a function that installs the
# missing ones (apt-get; via sudo when not root).

# To build and run.
MC_PKGS_BUILD="gcc libc6-dev pkg-config meson ninja-build libxml2-dev liblmdb-dev libicu-dev
 libjansson-dev libinih-dev libyaz-dev libcurl4-openssl-dev
 g++ libxapian-dev libevent-dev zlib1g-dev"
# g++ and libxapian-dev: the search index (indexer/, the only C++: a thin shim);
# libevent-dev: the HTTP server (api/); zlib1g-dev: gzip responses.
# To run the tests: cmocka, the real peers and reference data from Debian.
# python3: bench/gen-corpus and two comparison scripts in tests/integration.
MC_PKGS_TEST="libcmocka-dev libxml2-utils xsltproc yaz idzebra-2.0-examples lmdb-utils python3
 xapian-tools python3-xapian idzebra-2.0 wrk curl"
# xapian-tools (delve) and python3-xapian: reading our index independently in
# tests, and the plain-Xapian peer of bench/relevance; idzebra-2.0: the Zebra
# peer of the benchmarks; wrk: bench/search; curl: HTTP tests of mucluc serve.

# mc_ensure_packages PKG...: install whatever of PKG... is not installed.
mc_ensure_packages() {
	local missing=() p sudo=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || {
			echo "mucluc: missing packages (${missing[*]}) and no sudo: install them as root" >&2
			return 1
		}
		sudo="sudo"
	fi
	echo "mucluc: installing ${missing[*]}" >&2
	$sudo apt-get update -qq || return 1
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null || return 1
}
