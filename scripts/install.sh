#!/usr/bin/env bash
# Installs the Noderr node as a system service: the release binary and the libtorch libraries
# it links (found with ldd, copied beside it, the binary's run path pointed at them), a
# non-root service user, the sandboxed systemd unit and its arguments file.
#   scripts/install.sh [--root DIR] [--prefix /opt/noderr] [--user noderr] [--config /etc/noderr]
# --root DIR installs into a directory tree (a package root, or a test) instead of /: no user
# is created and systemd is not told. The node must be built (scripts/run-dev.sh or
# scripts/build.sh builds it). Run as root for a real
# install. Then: edit CONFIG/noderr-node.env, `systemctl enable --now noderr-node`.
set -euo pipefail
here="$PWD"
cd "$(dirname "$0")/.."
source scripts/env.sh

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
case "$prefix$config" in *' '*) echo "paths with spaces are not supported" >&2; exit 2 ;; esac
[ -x "$NODERR_NODE" ] || { echo "no node at $NODERR_NODE: build it first with scripts/build.sh" >&2; exit 1; }
command -v patchelf >/dev/null || { echo "patchelf is needed (apt-get install patchelf; scripts/setup.sh installs it)" >&2; exit 1; }

bin="$root$prefix/bin"
lib="$root$prefix/lib"
mkdir -p "$bin" "$lib" "$root$prefix/share/doc/noderr" "$root$config" "$root/etc/systemd/system"

step "node and libraries into $root$prefix"
install -m 0755 "$NODERR_NODE" "$bin/noderr-node"
# Every library the node resolves from the libtorch directory (libtorch's own dependencies
# included: ldd lists the whole closure).
count=0
while read -r so; do
	install -m 0644 "$so" "$lib/"
	count=$((count + 1))
done < <(ldd "$NODERR_NODE" | awk -v dir="$LIBTORCH/lib/" 'index($3, dir) == 1 { print $3 }')
[ "$count" -gt 0 ] || { echo "ldd found no libtorch library for $NODERR_NODE" >&2; exit 1; }
patchelf --set-rpath '$ORIGIN/../lib' "$bin/noderr-node"
for so in "$lib"/*.so*; do
	patchelf --set-rpath '$ORIGIN' "$so"
done
echo "$count libraries, $(du -sh "$lib" | cut -f1)"
install -m 0644 README.md "$root$prefix/share/doc/noderr/README.md"
[ -f OPERATOR_GUIDE.md ] && install -m 0644 OPERATOR_GUIDE.md "$root$prefix/share/doc/noderr/"

step "systemd unit and arguments"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@USER@|$user|g" -e "s|@CONFIG@|$config|g" \
	deploy/noderr-node.service >"$root/etc/systemd/system/noderr-node.service"
chmod 0644 "$root/etc/systemd/system/noderr-node.service"
if [ -e "$root$config/noderr-node.env" ]; then
	echo "keeping the existing $root$config/noderr-node.env"
else
	install -m 0644 deploy/noderr-node.env "$root$config/noderr-node.env"
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
