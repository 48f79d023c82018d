#!/bin/bash
# recovery-drill binlog shipper (runs in the MariaDB primary, started by the harness).
#
# Every second: if the active binlog has new events, rotate it (FLUSH BINARY LOGS), then
# copy each closed binlog that was never shipped into $ARCHIVE (as .part, then rename, so the
# archive never holds half a file). PostgreSQL's archive_timeout=1 does the same. Like
# PostgreSQL's archive_status/*.done files, a state directory remembers what was shipped: a
# file later lost from the archive stays lost (the shipper does not repair the archive).
# After the data directory is wiped, rotation fails and nothing more is shipped: the
# writes of the active binlog are lost, as they would be.
# Environment: MYSQL_PWD (root), CLIENT (mariadb), DATADIR, ARCHIVE.
client=("$CLIENT" -uroot -N -B)
state=/run/rd-binlog-shipper
mkdir -p "$state"
rotated=""
while sleep 1; do
    status=$("${client[@]}" -e 'SHOW MASTER STATUS' 2>/dev/null) || continue
    if [ -n "$status" ] && [ "$status" != "$rotated" ]; then
        "${client[@]}" -e 'FLUSH BINARY LOGS' 2>/dev/null || continue
        rotated=$("${client[@]}" -e 'SHOW MASTER STATUS' 2>/dev/null) || continue
    fi
    head -n -1 "$DATADIR/mysql-bin.index" 2>/dev/null | while read -r f; do
        b=$(basename "$f")
        [ -f "$state/$b.done" ] && continue
        cp "$DATADIR/$b" "$ARCHIVE/$b.part" && mv "$ARCHIVE/$b.part" "$ARCHIVE/$b" \
            && touch "$state/$b.done"
    done
done
