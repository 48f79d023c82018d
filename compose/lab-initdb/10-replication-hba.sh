#!/bin/sh
# Run once by the postgres entrypoint on first init (lab.yaml mounts this dir
# at /docker-entrypoint-initdb.d). The official image's pg_hba only has
# `host all all all ...`, which does not match *replication* connections, so
# pg_basebackup from the backup-agent container would be refused. Allow it,
# with a password, for the lab network.
set -eu
printf 'host replication all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
echo "lab: replication connections allowed (password required)"
