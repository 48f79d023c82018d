"""What differs between MariaDB and MySQL 8 for the harness, and how to tell them apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flavor:
    """What differs between MariaDB and MySQL for the harness."""

    name: str
    client: str
    dump: str
    env_prefix: str
    # MariaDB checks a schema's directory on SHOW TABLES (a cheap read, verified with rm -rf);
    # MySQL 8 answers it from its data dictionary, so only DDL touches the directory there.
    datadir_check: str
    dump_options: tuple[str, ...] = ()
    # MySQL 8's caching_sha2_password needs TLS (or an RSA exchange PyMySQL can only do with
    # the cryptography package); PyMySQL uses TLS only if the server offers it.
    tls: bool = False


MARIADB = Flavor(
    name="mariadb",
    client="mariadb",
    dump="mariadb-dump",
    env_prefix="MARIADB",
    datadir_check="show_tables",
)
MYSQL = Flavor(
    name="mysql",
    client="mysql",
    dump="mysqldump",
    env_prefix="MYSQL",
    datadir_check="ddl",
    # GTID_PURGED in a dump breaks a restore into a server with its own GTID history.
    dump_options=("--set-gtid-purged=OFF",),
    tls=True,
)


def flavor_for_image(image: str, *, default: Flavor) -> Flavor:
    """The flavor an image name announces (``mariadb:11``, ``mysql:8``), else ``default``."""
    repository = image.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()
    if "mariadb" in repository:
        return MARIADB
    if "mysql" in repository or "percona" in repository:
        return MYSQL
    return default


def flavor_for_version(version: str) -> Flavor:
    """The flavor a server's version string reveals (MariaDB says so; MySQL does not)."""
    return MARIADB if "mariadb" in version.lower() else MYSQL
