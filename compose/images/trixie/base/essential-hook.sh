#!/bin/sh
# mmdebstrap --essential-hook for recovery-drill/debian-base:trixie; $1 = chroot.
# Fixes the uids/gids of the database service accounts to those the bookworm
# base got (mysql 100:101, ssl-cert 102, postgres 101:103), before the packages'
# maintainer scripts create them. An in-place major-version upgrade mounts the
# old server's data volume into the new version's container: the files must
# belong to the same numeric owner there (the official images share uid 999
# across versions for the same reason).
set -eu
root="$1"
add() { grep -q "^$2:" "$root/$1" || printf '%s\n' "$3" >>"$root/$1"; }
add etc/group mysql 'mysql:x:101:'
add etc/group ssl-cert 'ssl-cert:x:102:postgres'
add etc/group postgres 'postgres:x:103:'
add etc/passwd mysql 'mysql:x:100:101:MariaDB Server,,,:/nonexistent:/bin/false'
add etc/passwd postgres 'postgres:x:101:103:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash'
if [ -f "$root/etc/shadow" ]; then
    add etc/shadow mysql 'mysql:!:19000::::::'
    add etc/shadow postgres 'postgres:!:19000::::::'
fi
if [ -f "$root/etc/gshadow" ]; then
    add etc/gshadow mysql 'mysql:!::'
    add etc/gshadow ssl-cert 'ssl-cert:!::postgres'
    add etc/gshadow postgres 'postgres:!::'
fi
