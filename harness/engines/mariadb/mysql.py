"""MySQL 8: the MariaDB core with MySQL's tools, and no depth collaborators.

MySQL has no mariadb-backup, and no MySQL server can be built or pulled on the build machines,
so its physical backups, binlog archive and replicas are not drilled.
"""

from __future__ import annotations

from harness.engines.mariadb.core import MariaDBCore
from harness.engines.mariadb.flavor import MYSQL


class MySQLEngine(MariaDBCore):
    """MySQL 8 through the official ``mysql`` image (no local build: no Debian package)."""

    name = "mysql"
    default_image = "mysql:8"
    local_image = None
    default_flavor = MYSQL
    physical = None
    archive = None
    replication = None
