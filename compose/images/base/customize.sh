#!/bin/sh
# mmdebstrap --customize-hook for recovery-drill/debian-base:bookworm.
# Runs on the build host after all packages are installed; $1 = the chroot dir.
# Undoes what the Debian maintainer scripts did for a *host* install, because
# the engine images initialise their data directories at container start,
# exactly like the official postgres/mariadb images do.
set -eu
root="$1"

# postgresql-common created a default cluster 15/main: drop it (the image uses
# PGDATA=/var/lib/postgresql/data, initialised by its entrypoint).
chroot "$root" pg_dropcluster 15 main 2>/dev/null || true
rm -rf "$root/var/lib/postgresql/15" "$root/etc/postgresql/15/main"

# mariadb-server's postinst ran mariadb-install-db into /var/lib/mysql: empty
# it so the entrypoint sees an uninitialised datadir on first start.
if [ -d "$root/var/lib/mysql" ]; then
    find "$root/var/lib/mysql" -mindepth 1 -delete
fi

# Logs and caches written during installation.
rm -rf "$root/var/log/mysql/"* "$root/var/log/postgresql/"* "$root/var/cache/debconf/"*-old
