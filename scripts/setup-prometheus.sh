#!/usr/bin/env bash
# Installs Prometheus from Debian's package (the `prometheus` .deb, unpacked into
# $NODERR_CACHE/prometheus; nothing is installed system-wide and no service is started), once,
# then reused. Prints the binary's path. The local testnet and its tests scrape the nodes with it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

root="$NODERR_CACHE/prometheus"
bin="$root/usr/bin/prometheus"
if ! "$bin" --version >/dev/null 2>&1; then
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
		echo "Prometheus is installed from Debian's package: this needs apt-get and dpkg-deb (a Debian or Ubuntu machine), or put a prometheus binary at $bin" >&2
		exit 1
	}
	step "installing Prometheus from Debian's package in $root (once)" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# `apt-get download` needs the package lists; a fresh machine may have none yet.
	if ! (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); then
		if [ "$(id -u)" -ne 0 ]; then
			echo "apt-get cannot download the prometheus package and refreshing the package lists needs root: run 'sudo apt-get update' once, then this again" >&2
			exit 1
		fi
		apt-get update -qq >&2
		(cd "$tmp" && apt-get download prometheus >/dev/null)
	fi
	rm -rf "$root.new"
	dpkg-deb -x "$tmp"/prometheus_*.deb "$root.new"
	"$root.new/usr/bin/prometheus" --version >/dev/null
	rm -rf "$root"
	mv "$root.new" "$root"
fi
echo "$bin"
