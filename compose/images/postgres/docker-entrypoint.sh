#!/usr/bin/env bash
# Entrypoint of recovery-drill/postgres:15-bookworm.
#
# A compact re-implementation of the official postgres image's entrypoint
# behaviour (which cannot be pulled here), using Debian's binaries and
# util-linux `setpriv` instead of gosu:
#   * first arg starts with '-'     -> run `postgres <args>`
#   * command is `postgres`         -> as root: fix ownership of PGDATA and the
#                                      socket dir, then re-exec as postgres;
#                                      empty PGDATA: initdb, create the db,
#                                      run /docker-entrypoint-initdb.d/*;
#                                      finally exec postgres (PID 1)
#   * anything else (`sleep infinity`, `bash`, ...) is exec'd unchanged.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR or VAR_FILE (docker secrets), as upstream.
file_env() {
    local var="$1" fileVar="${1}_FILE" def="${2:-}"
    if [[ -n "${!var:-}" && -n "${!fileVar:-}" ]]; then
        echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
        exit 1
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

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }

if [[ "${1:0:1}" == '-' ]]; then
    set -- postgres "$@"
fi

if [[ "$1" != 'postgres' ]]; then
    exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# --- as root: prepare directories, then drop to the postgres user -----------
if [[ "$(id -u)" == '0' ]]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    mkdir -p /var/run/postgresql
    chown postgres:postgres /var/run/postgresql
    chmod 3777 /var/run/postgresql
    if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
        mkdir -p "$POSTGRES_INITDB_WALDIR"
        chown postgres:postgres "$POSTGRES_INITDB_WALDIR"
        chmod 0700 "$POSTGRES_INITDB_WALDIR"
    fi
    # Restored or copied data may belong to another uid: take it over.
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

# --- as postgres ---------------------------------------------------------------
file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

process_init_file() {
    local f="$1"
    local -a psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname "$POSTGRES_DB")
    case "$f" in
        *.sh)
            if [[ -x "$f" ]]; then log "running $f"; "$f"
            else log "sourcing $f"; # shellcheck disable=SC1090
                 . "$f"; fi ;;
        *.sql)    log "running $f"; "${psql[@]}" -f "$f"; echo ;;
        *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}"; echo ;;
        *)        log "ignoring $f" ;;
    esac
}

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    if [[ -z "$POSTGRES_PASSWORD" && "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]]; then
        cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
       (or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a
       password; NOT recommended)
EOE
        exit 1
    fi

    log "initialising database cluster in $PGDATA"
    initdb_args=(--username="$POSTGRES_USER" --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD")
    if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
        initdb_args+=(--waldir="$POSTGRES_INITDB_WALDIR")
    fi
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is word-split on purpose
    if [[ -n "$POSTGRES_PASSWORD" ]]; then
        # (the process substitution must live in the initdb command itself)
        initdb "${initdb_args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
    else
        initdb "${initdb_args[@]}" $POSTGRES_INITDB_ARGS
    fi

    # Any address may connect over TCP, with a password (a wrong one is
    # rejected) - the same line the official image appends.
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

    # Temporary server on the Unix socket only, to create the database and run
    # init scripts (nothing can reach it over TCP meanwhile). It gets the same
    # `-c ...` options as the real server (e.g. shared_preload_libraries).
    pg_ctl -D "$PGDATA" -w start \
        -o "$(printf '%q ' "${@:2}" -c listen_addresses='' -p "${PGPORT:-5432}")"

    if [[ "$POSTGRES_DB" != 'postgres' ]]; then
        db_exists="$(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
            --dbname postgres -tA --set db="$POSTGRES_DB" \
            <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")"
        if [[ -z "$db_exists" ]]; then
            psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
                --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
        fi
    fi

    shopt -s nullglob
    for f in /docker-entrypoint-initdb.d/*; do
        process_init_file "$f"
    done
    shopt -u nullglob

    pg_ctl -D "$PGDATA" -m fast -w stop
    log 'PostgreSQL init process complete; ready for start up.'
else
    log 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
fi

unset PGPASSWORD
exec "$@"
