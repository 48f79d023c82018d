#!/bin/sh
# mmdebstrap --customize-hook for recovery-drill/debian-base:trixie.
# Same job as ../../base/customize.sh (bookworm), for PostgreSQL 17: the engine
# images initialise their data directories at container start, like the
# official images, so the clusters the maintainer scripts created are dropped.
set -eu
root="$1"

chroot "$root" pg_dropcluster 17 main 2>/dev/null || true
rm -rf "$root/var/lib/postgresql/17" "$root/etc/postgresql/17/main"

if [ -d "$root/var/lib/mysql" ]; then
    find "$root/var/lib/mysql" -mindepth 1 -delete
fi

rm -rf "$root/var/log/mysql/"* "$root/var/log/postgresql/"* "$root/var/cache/debconf/"*-old
