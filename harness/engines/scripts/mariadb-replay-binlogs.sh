#!/bin/bash
# recovery-drill: replay archived binlogs into a server restored from a mariadb-backup copy.
#
# Reads the backup's binlog position (xtrabackup_binlog_info), takes the contiguous run of
# archived binlogs from that file on, and pipes them through mariadb-binlog into the server.
# With a time target (WANT, "YYYY-MM-DD HH:MM:SS" UTC) it stops before the first event at or
# after it (--stop-datetime), and fails, like PostgreSQL's "recovery ended before configured
# recovery target was reached", when the run holds no event at or after the target (a binlog
# is missing, or the archive ends too early). With a position target (STOP_AT, "file:offset",
# the primary's binlog end read just before the incident) it replays up to that file and stops
# at the offset (--stop-position), failing if that file is not in the run. Without a target
# it replays what is there.
# Environment: BACKUP, ARCHIVE, TARGET_HOST, PORT, DB_USER, MYSQL_PWD, CLIENT, WANT, STOP_AT.
set -o pipefail
read -r start pos gtid < "$BACKUP/xtrabackup_binlog_info" || {
    echo "no binlog position in $BACKUP/xtrabackup_binlog_info" >&2; exit 1; }
cd "$ARCHIVE" || exit 1
run=() missing=""
for f in $(ls | grep -E '^mysql-bin\.[0-9]{6}$' | sort); do
    [[ "$f" < "$start" ]] && continue
    if (( ${#run[@]} )); then
        next=$(printf 'mysql-bin.%06d' $((10#${run[-1]##*.} + 1)))
        if [ "$f" != "$next" ]; then missing=$next; break; fi
    elif [ "$f" != "$start" ]; then
        missing=$start; break
    fi
    run+=("$f")
done
stop=()
if [ -n "$STOP_AT" ]; then
    stop_file=${STOP_AT%:*} stop_pos=${STOP_AT##*:}
    upto=()
    for f in "${run[@]}"; do
        upto+=("$f")
        [ "$f" == "$stop_file" ] && break
    done
    if [ "${upto[-1]:-}" != "$stop_file" ]; then
        echo "FATAL: recovery ended before the target $STOP_AT was reached: binlog ${missing:-$stop_file} is missing from the archive" >&2
        exit 1
    fi
    run=("${upto[@]}") missing=""
    stop=(--stop-position="$stop_pos")
fi
if [ -n "$WANT" ]; then
    stop=(--stop-datetime="$WANT")
    reached=0
    if (( ${#run[@]} )); then
        reached=$(mariadb-binlog --start-datetime="$WANT" "${run[@]}" 2>/dev/null \
            | grep -cE 'GTID [0-9]+-[0-9]+-[0-9]+')
    fi
    if (( reached == 0 )); then
        if [ -n "$missing" ]; then
            echo "FATAL: recovery ended before the target $WANT was reached: binlog $missing is missing from the archive" >&2
        else
            echo "FATAL: recovery ended before the target $WANT was reached: the archive ends at ${run[-1]:-$start}" >&2
        fi
        exit 1
    fi
fi
if (( ${#run[@]} == 0 )); then
    echo "binlog $start is not archived: restored to the backup's position $start:$pos"
    exit 0
fi
mariadb-binlog --start-position="$pos" "${stop[@]}" "${run[@]}" \
    | "$CLIENT" --binary-mode --protocol=tcp -h "$TARGET_HOST" -P "$PORT" -u "$DB_USER" || exit 1
echo "replayed archived binlogs ${run[0]}..${run[-1]} from position $pos (after GTID $gtid)"
if [ -n "$WANT" ]; then
    echo "recovery stopping before the first event at or after $WANT UTC (binlog events carry whole seconds)"
fi
if [ -n "$STOP_AT" ]; then
    echo "recovery stopping at binlog position $STOP_AT (the primary's binlog end before the incident)"
fi
if [ -n "$missing" ]; then
    echo "binlog $missing is missing from the archive: replay stopped after ${run[-1]}"
fi
