#!/usr/bin/env bash
# Installs the Noderr node as a system service: the release binary and the libtorch libraries
# it links (found with ldd, copied beside it, the binary's run path pointed at them), a
# non-root service user, the sandboxed systemd unit and its arguments file.
#   scripts/install.sh [--root DIR] [--prefix /opt/noderr] [--user noderr] [--config /etc/noderr]
# --root DIR installs into a directory tree (a package root, or a test) instead of /: no user
# is created and systemd is not told. The node must be built (scripts/run-dev.sh or
# scripts/build.sh builds it). A system install needs root (without it the script stops before
# touching anything and says so). Run again with the same build, it changes nothing; with a new
# build, it replaces what differs and keeps the arguments file.
# Then: edit CONFIG/noderr-node.env, `systemctl enable --now noderr-node`.
set -euo pipefail
here="$PWD"

root=""
prefix=/opt/noderr
user=noderr
config=/etc/noderr
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=$(cd "$here" && realpath -m "$2"); shift 2 ;;
	--prefix) prefix="$2"; shift 2 ;;
	--user) user="$2"; shift 2 ;;
	--config) config="$2"; shift 2 ;;
	*) echo "usage: scripts/install.sh [--root DIR] [--prefix DIR] [--user NAME] [--config DIR]" >&2; exit 2 ;;
	esac
done
# Before anything is read or written: a system install needs root.
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
	echo "installing into the system needs root: it writes $prefix, $config and /etc/systemd/system and creates the service user $user." >&2
	echo "Run it with sudo (sudo scripts/install.sh), or install into a directory tree you own with --root DIR." >&2
	exit 1
fi
cd "$(dirname "$0")/.."
# Under sudo, the build is the invoking user's (root's home has none).
if [ -z "${NODERR_CACHE:-}" ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
	NODERR_CACHE="$(getent passwd "$SUDO_USER" | cut -d: -f6)/.cache/noderr"
	export NODERR_CACHE
fi
source scripts/env.sh

case "$prefix$config" in *' '*) echo "paths with spaces are not supported" >&2; exit 2 ;; esac
[ -x "$NODERR_NODE" ] || { echo "no node at $NODERR_NODE: build it first with scripts/build.sh" >&2; exit 1; }
command -v patchelf >/dev/null || { echo "patchelf is needed (apt-get install patchelf; scripts/setup.sh installs it)" >&2; exit 1; }

bin="$root$prefix/bin"
lib="$root$prefix/lib"
doc="$root$prefix/share/doc/noderr"
unit="$root/etc/systemd/system/noderr-node.service"
mkdir -p "$bin" "$lib" "$doc" "$root$config" "$root/etc/systemd/system"

# Everything is prepared in a staging directory and then put in place only where it differs
# from what is installed, so a second run with the same build changes nothing.
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
changed=0
# put FILE DEST MODE: installs FILE as DEST unless DEST already holds the same bytes and mode.
put() {
	if [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c %a "$2")" = "${3#0}" ]; then
		return
	fi
	install -m "$3" "$1" "$2"
	changed=$((changed + 1))
}

step "node and libraries into $root$prefix"
mkdir -p "$staging/bin" "$staging/lib"
cp "$NODERR_NODE" "$staging/bin/noderr-node"
# Every library the node resolves from the libtorch directory (libtorch's own dependencies
# included: ldd lists the whole closure).
count=0
while read -r so; do
	cp "$so" "$staging/lib/"
	count=$((count + 1))
done < <(ldd "$NODERR_NODE" | awk -v dir="$LIBTORCH/lib/" 'index($3, dir) == 1 { print $3 }')
[ "$count" -gt 0 ] || { echo "ldd found no libtorch library for $NODERR_NODE" >&2; exit 1; }
patchelf --set-rpath '$ORIGIN/../lib' "$staging/bin/noderr-node"
for so in "$staging/lib"/*.so*; do
	patchelf --set-rpath '$ORIGIN' "$so"
	put "$so" "$lib/$(basename "$so")" 0644
done
# Libraries an earlier install put there (its list) that this build no longer links; nothing
# else in the directory is touched.
list="$root$prefix/share/noderr/libraries"
(cd "$staging/lib" && ls) >"$staging/libraries"
if [ -f "$list" ]; then
	while read -r name; do
		if [ -n "$name" ] && [ "${name#*/}" = "$name" ] && [ ! -e "$staging/lib/$name" ] && [ -e "$lib/$name" ]; then
			rm -f "$lib/$name"
			changed=$((changed + 1))
		fi
	done <"$list"
fi
mkdir -p "$(dirname "$list")"
put "$staging/libraries" "$list" 0644
put "$staging/bin/noderr-node" "$bin/noderr-node" 0755
echo "$count libraries, $(du -sh "$lib" | cut -f1)"
put README.md "$doc/README.md" 0644
put OPERATOR_GUIDE.md "$doc/OPERATOR_GUIDE.md" 0644

step "systemd unit and arguments"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@USER@|$user|g" -e "s|@CONFIG@|$config|g" \
	deploy/noderr-node.service >"$staging/noderr-node.service"
put "$staging/noderr-node.service" "$unit" 0644
if [ -e "$root$config/noderr-node.env" ]; then
	echo "keeping the existing $root$config/noderr-node.env"
else
	put deploy/noderr-node.env "$root$config/noderr-node.env" 0644
fi
if [ "$changed" -eq 0 ]; then
	echo "nothing changed: this build is installed already"
else
	echo "$changed files installed or replaced"
fi

if [ -n "$root" ]; then
	echo "installed into $root (no user created, systemd not reloaded)"
	exit 0
fi
step "service user $user"
if id "$user" >/dev/null 2>&1; then
	echo "exists"
else
	useradd --system --user-group --home-dir /var/lib/noderr --no-create-home --shell /usr/sbin/nologin "$user"
	echo "created"
fi
if ! getent group "$user" >/dev/null; then
	echo "the unit runs with Group=$user, and no such group exists: create it or edit the unit" >&2
	exit 1
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	echo "edit $config/noderr-node.env, then: systemctl enable --now noderr-node"
else
	echo "systemd is not running here: start the node as the service user with"
	echo "  runuser -u $user -- $prefix/bin/noderr-node --base-path /var/lib/noderr <args>"
fi
