"""MariaDB adapter (and MySQL 8: mysql.py): PyMySQL, LOAD DATA LOCAL seeding, mariadb-dump.

One core serves both servers (core.py, data.py); a ``Flavor`` (flavor.py) carries what
differs between them (client and dump tool names, the image's environment variable prefix,
how the probe proves the data directory is still there). The flavor comes from the image name
and is confirmed by the version string of the server's handshake. MariaDB is verified on the
build machines (local image from Debian packages); MySQL 8 only where its official image can
be pulled.

Every server writes a row-format binlog with GTIDs and a server id of its own. Beyond dumps,
MariaDB holds three collaborators (MySQL 8 none of them: no mariadb-backup, and nothing of it
verifiable here):

* physical backups (physical.py): mariadb-backup with a sha256 manifest;
* binlog archiving and point-in-time recovery (archive.py);
* replicas following by GTID, delayed ones stopped from their own relay log (replication.py).
"""

from __future__ import annotations

from harness.engines.mariadb.archive import MariaDBArchive
from harness.engines.mariadb.core import MariaDBCore
from harness.engines.mariadb.physical import MariaDBPhysical
from harness.engines.mariadb.replication import MariaDBReplication


class MariaDBEngine(MariaDBCore):
    """MariaDB through the official ``mariadb`` image interface."""

    name = "mariadb"
    default_image = "mariadb:11"
    local_image: str | None = "recovery-drill/mariadb:10.11-bookworm"

    def __init__(self) -> None:
        super().__init__()
        self.physical = MariaDBPhysical(self)
        self.archive = MariaDBArchive(self)
        self.replication = MariaDBReplication(self)
