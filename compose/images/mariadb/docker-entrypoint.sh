#!/usr/bin/env bash
# Entrypoint of recovery-drill/mariadb:10.11-bookworm.
#
# A compact re-implementation of the official mariadb image's entrypoint
# behaviour (which cannot be pulled here), using Debian's binaries:
#   * first arg starts with '-'        -> run `mariadbd <args>`
#   * command is mariadbd / mysqld     -> empty datadir: mariadb-install-db, a
#                                         socket-only temporary server sets the
#                                         root password (root@'%' too), creates
#                                         MARIADB_DATABASE / MARIADB_USER and
#                                         runs /docker-entrypoint-initdb.d/*;
#                                         finally exec mariadbd --user=mysql
#                                         (PID 1) with the given options
#   * anything else (`sleep infinity`, `bash`, ...) is exec'd unchanged.
set -Eeo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# file_env VAR [DEFAULT]: VAR or VAR_FILE, as upstream.
file_env() {
    local var="$1" fileVar="${1}_FILE" def="${2:-}"
    if [[ -n "${!var:-}" && -n "${!fileVar:-}" ]]; then
        die "both $var and $fileVar are set (but are exclusive)"
    fi
    local val="$def"
    if [[ -n "${!var:-}" ]]; then
        val="${!var}"
    elif [[ -n "${!fileVar:-}" ]]; then
        val="$(<"${!fileVar}")"
    fi
    export "$var"="$val"
    unset "$fileVar"
}
# mariadb_env NAME: MARIADB_NAME, falling back to MYSQL_NAME (both also _FILE).
mariadb_env() {
    local legacy="MYSQL_$1"
    file_env "$legacy"
    file_env "MARIADB_$1" "${!legacy:-}"
}

if [[ "${1:0:1}" == '-' ]]; then
    set -- mariadbd "$@"
fi

case "$1" in
    mariadbd|mysqld|*/mariadbd|*/mysqld) ;;
    *) exec "$@" ;;
esac

[[ "$(id -u)" == '0' ]] || die "this entrypoint runs as root (mariadbd drops to --user=mysql itself)"

# Where the server will put its data and socket, honouring --datadir etc.
server_var() {
    # (--log-bin-index: keeps --help quiet when --log-bin is among the args)
    "$@" --verbose --help --log-bin-index="$(mktemp -u)" 2>/dev/null | awk -v k="$VAR" '$1 == k && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}
DATADIR="$(VAR=datadir server_var "$@")"; DATADIR="${DATADIR%/}"
SOCKET="$(VAR=socket server_var "$@")"
: "${DATADIR:=/var/lib/mysql}" "${SOCKET:=/run/mysqld/mysqld.sock}"

mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
chown mysql:mysql "$DATADIR" "$(dirname "$SOCKET")"
# Restored or copied data may belong to another uid: take it over.
find "$DATADIR" \! -user mysql -exec chown mysql:mysql '{}' +

mariadb_env ROOT_PASSWORD
mariadb_env ALLOW_EMPTY_ROOT_PASSWORD
mariadb_env RANDOM_ROOT_PASSWORD
mariadb_env ROOT_HOST
mariadb_env DATABASE
mariadb_env USER
mariadb_env PASSWORD
: "${MARIADB_ROOT_HOST:=%}"

# SQL string literal escaping ('...'), as upstream.
sql_escape() { local s="${1//\\/\\\\}"; printf '%s' "${s//\'/\\\'}"; }

temp_pid=""
client=(mariadb --protocol=socket --socket="$SOCKET" -uroot --batch --skip-column-names)

temp_server_start() {
    log "starting temporary server"
    "$@" --user=mysql --skip-networking --socket="$SOCKET" --default-time-zone=SYSTEM \
        --wsrep_on=OFF --expire-logs-days=0 --skip-slave-start \
        --loose-innodb_buffer_pool_load_at_startup=0 &
    temp_pid=$!
    local _
    for _ in $(seq 1 60); do
        if "${client[@]}" -e 'SELECT 1' >/dev/null 2>&1; then
            log "temporary server started"; return 0
        fi
        kill -0 "$temp_pid" 2>/dev/null || die "temporary server exited during start"
        sleep 1
    done
    die "unable to start the temporary server"
}

temp_server_stop() {
    log "stopping temporary server"
    kill "$temp_pid"
    wait "$temp_pid" || true
    log "temporary server stopped"
}

process_init_file() {
    local f="$1"
    case "$f" in
        *.sh)
            if [[ -x "$f" ]]; then log "running $f"; "$f"
            else log "sourcing $f"; # shellcheck disable=SC1090
                 . "$f"; fi ;;
        *.sql)    log "running $f"; "${client[@]}" "${dbarg[@]}" <"$f" ;;
        *.sql.gz) log "running $f"; gunzip -c "$f" | "${client[@]}" "${dbarg[@]}" ;;
        *)        log "ignoring $f" ;;
    esac
}

if [[ ! -d "$DATADIR/mysql" ]]; then
    if [[ -z "$MARIADB_ROOT_PASSWORD" && -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" && -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]]; then
        die "Database is uninitialized and password option is not specified
	You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"
    fi
    if [[ -n "$MARIADB_USER" && -z "$MARIADB_PASSWORD" ]]; then
        die "MARIADB_USER is set but MARIADB_PASSWORD is empty"
    fi
    if [[ "$MARIADB_USER" == root ]]; then
        die "MARIADB_USER=root: use MARIADB_ROOT_PASSWORD for the root user"
    fi
    if [[ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]]; then
        MARIADB_ROOT_PASSWORD="$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32)"
        log "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
    fi

    log "initialising database files in $DATADIR"
    # "${@:2}" lets options such as --innodb-page-size shape the new datadir.
    mariadb-install-db --user=mysql --datadir="$DATADIR" --rpm \
        --auth-root-authentication-method=normal "${@:2}" \
        --skip-test-db --default-time-zone=SYSTEM --enforce-storage-engine= \
        --skip-log-bin --expire-logs-days=0 \
        --loose-innodb_buffer_pool_load_at_startup=0 \
        --loose-innodb_buffer_pool_dump_at_shutdown=0 >/dev/null
    log "database files initialised"

    temp_server_start "$@"

    rootpw="$(sql_escape "$MARIADB_ROOT_PASSWORD")"
    roothost="$(sql_escape "$MARIADB_ROOT_HOST")"
    sql="SET @@SESSION.SQL_LOG_BIN=0;
SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
DELETE FROM mysql.user WHERE user='';
DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$rootpw');"
    if [[ "$MARIADB_ROOT_HOST" != localhost ]]; then
        sql+="
CREATE USER IF NOT EXISTS 'root'@'$roothost' IDENTIFIED BY '$rootpw';
GRANT ALL ON *.* TO 'root'@'$roothost' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@'$roothost' WITH GRANT OPTION;"
    fi
    if [[ -n "$MARIADB_DATABASE" ]]; then
        db="${MARIADB_DATABASE//\`/\`\`}"
        sql+="
CREATE DATABASE IF NOT EXISTS \`$db\`;"
    fi
    if [[ -n "$MARIADB_USER" ]]; then
        u="$(sql_escape "$MARIADB_USER")"; p="$(sql_escape "$MARIADB_PASSWORD")"
        sql+="
CREATE USER '$u'@'%' IDENTIFIED BY '$p';"
        if [[ -n "$MARIADB_DATABASE" ]]; then
            sql+="
GRANT ALL ON \`$db\`.* TO '$u'@'%';"
        fi
    fi
    log "securing system users and creating database/user"
    "${client[@]}" <<<"$sql"

    # From now on root needs its password; keep it out of the process list.
    passfile="$(mktemp)"
    printf '[client]\npassword="%s"\n' "${MARIADB_ROOT_PASSWORD//\"/\\\"}" >"$passfile"
    client=(mariadb --defaults-extra-file="$passfile" --protocol=socket --socket="$SOCKET" -uroot --batch --skip-column-names)
    dbarg=()
    [[ -n "$MARIADB_DATABASE" ]] && dbarg=(--database="$MARIADB_DATABASE")

    shopt -s nullglob
    for f in /docker-entrypoint-initdb.d/*; do
        process_init_file "$f"
    done
    shopt -u nullglob
    rm -f "$passfile"

    temp_server_stop
    log "MariaDB init process done. Ready for start up."
else
    log "MariaDB database directory appears to contain a database; skipping initialization"
fi

# mariadbd drops privileges itself; our --user comes first so a --user given
# in the command still wins. It becomes PID 1 and handles SIGTERM gracefully.
exec "$1" --user=mysql "${@:2}"
