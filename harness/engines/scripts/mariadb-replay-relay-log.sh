#!/bin/bash
# recovery-drill: stop a delayed MariaDB replica just before a time, from its own relay log.
#
# Stops replication, then applies the relay log from where the SQL thread stopped through
# mariadb-binlog --stop-datetime into the server itself: every transaction received before
# the target, none at or after it. It needs nothing from the primary (which may be gone;
# restarting replication in GTID mode would discard the relay log and fetch it again).
# Environment: WANT ("YYYY-MM-DD HH:MM:SS" UTC), DATADIR, PORT, DB_USER, MYSQL_PWD, CLIENT.
set -o pipefail
client=("$CLIENT" --protocol=tcp -h 127.0.0.1 -P "$PORT" -u "$DB_USER")
"${client[@]}" -e 'STOP SLAVE' || exit 1
status=$("${client[@]}" -E -e 'SHOW SLAVE STATUS') || exit 1
file=$(awk '$1 == "Relay_Log_File:" { print $2 }' <<<"$status")
pos=$(awk '$1 == "Relay_Log_Pos:" { print $2 }' <<<"$status")
delay=$(awk '$1 == "SQL_Delay:" { print $2 }' <<<"$status")
file=${file##*/}
if [ -z "$file" ] || [ -z "$pos" ]; then
    echo "not a replica: no relay log position in SHOW SLAVE STATUS" >&2; exit 1
fi
cd "$DATADIR" || exit 1
run=()
for f in $(ls | grep -E 'relay-bin\.[0-9]+$' | sort); do
    [[ "$f" < "$file" ]] && continue
    run+=("$f")
done
if (( ${#run[@]} == 0 )); then
    echo "relay log $file is gone: nothing to apply" >&2; exit 1
fi
mariadb-binlog --start-position="$pos" --stop-datetime="$WANT" "${run[@]}" \
    | "${client[@]}" --binary-mode || exit 1
echo "applied relay logs ${run[0]}..${run[-1]} from position $pos (delay was ${delay:-?} s)"
echo "recovery stopping before the first event at or after $WANT UTC (binlog events carry whole seconds)"
