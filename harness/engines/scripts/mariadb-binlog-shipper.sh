#!/bin/bash
# recovery-drill binlog shipper (runs in the MariaDB primary, started by the harness).
#
# Every second: if the active binlog has new events, rotate it (FLUSH BINARY LOGS), then
# copy each closed binlog that is not archived yet into $ARCHIVE (as .part, then rename,
# so the archive never holds half a file). PostgreSQL's archive_timeout=1 does the same.
# After the data directory is wiped, rotation fails and nothing more is shipped: the
# writes of the active binlog are lost, as they would be.
# Environment: MYSQL_PWD (root), CLIENT (mariadb), DATADIR, ARCHIVE.
client=("$CLIENT" -uroot -N -B)
shipped=""
while sleep 1; do
    status=$("${client[@]}" -e 'SHOW MASTER STATUS' 2>/dev/null) || continue
    if [ -n "$status" ] && [ "$status" != "$shipped" ]; then
        "${client[@]}" -e 'FLUSH BINARY LOGS' 2>/dev/null || continue
        shipped=$("${client[@]}" -e 'SHOW MASTER STATUS' 2>/dev/null) || continue
    fi
    head -n -1 "$DATADIR/mysql-bin.index" 2>/dev/null | while read -r f; do
        b=$(basename "$f")
        [ -f "$ARCHIVE/$b" ] || { cp "$DATADIR/$b" "$ARCHIVE/$b.part" && mv "$ARCHIVE/$b.part" "$ARCHIVE/$b"; }
    done
done
