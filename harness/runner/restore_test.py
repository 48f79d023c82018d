"""``recovery-drill restore-test``: restore a backup made outside the tool into a scratch
server in a fresh lab, and prove it restorable (Test-DbaLastBackup's question).

The pipeline, each step timed on the monotonic clock:
1. fetch: the backup is copied into a volume of the lab (a file or a dump folder, as a tar
   stream through the Docker API), and its sha256 there compared with the source's; an
   s3:// object is first downloaded through the S3 API and checked against the store's own
   checksum (backups/s3source.py), its download timed on its own and counted in the fetch;
2. restore: the engine's own tool loads it into a fresh server (backups/external.py);
3. verified read and write: every user table read, a probe row written and read back;
4. the team's checks (scenario/checks.py), each one a query and an expectation.
Outcome: pass (exit 0), fail (1: the backup is not restorable, or a check or the RTO missed,
with the reason named), error (3: the lab itself failed). Nothing is left behind: the lab is
labelled and removed like a drill's.
"""

from __future__ import annotations

import hashlib
import logging
import shlex
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from harness.backups.agent import BackupAgent
from harness.backups.external import (
    restore_script,
    sniff_source_database,
    verified_read_write,
)
from harness.backups.pgbackrest import as_postgres, parse_info
from harness.backups.s3source import ObjectMissing, S3Access, fetch_object, parse_s3_url
from harness.clock import iso_utc
from harness.engines import get_engine
from harness.engines.base import Engine, RecoveryTarget
from harness.engines.postgres.pgbackrest import PgBackRest
from harness.errors import HarnessError, InputError, ServerExited, first_line
from harness.lab.helpers import run_helper
from harness.lab.images import resolve_image
from harness.lab.lab import Lab
from harness.polling import poll_until
from harness.report.restore_tests import CheckOutcome, RestoreTestResult
from harness.runner.drill import new_run_id
from harness.scenario.checks import DataCheck
from harness.server.node import Node, provision, wait_running_or_exited

if TYPE_CHECKING:
    from harness.engines.postgres import PostgresEngine

log = logging.getLogger(__name__)

STORE = "source"
RESTORE_TIMEOUT_S = 1800.0
VERIFY_TIMEOUT_S = 60.0
COPY_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Source:
    """What restore-test was pointed at, read on the host before any container starts."""

    path: Path
    kind: str  # dump, dump_folder, pgbackrest
    size_bytes: int
    sha256: str
    modified_wall: float
    stanza: str = ""  # pgbackrest: the repository's stanza


def pgbackrest_stanza(path: Path) -> str | None:
    """The stanza of a pgBackRest repository folder (backup/STANZA/backup.info), else None."""
    found = sorted(p.parent.name for p in path.glob("backup/*/backup.info"))
    if not found or not (path / "archive").is_dir():
        return None
    if len(found) > 1:
        raise InputError(f"{path}: a repository with several stanzas ({', '.join(found)})")
    return found[0]


def inspect_source(text: str) -> Source:
    """Read SOURCE (a dump file or a dump folder); InputError if it is not usable."""
    path = Path(text)
    if not path.exists():
        raise InputError(f"{text}: no such file or folder")
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    size = 0
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    stanza = pgbackrest_stanza(path) if path.is_dir() else None
    return Source(
        path=path,
        kind="pgbackrest" if stanza else "dump_folder" if path.is_dir() else "dump",
        stanza=stanza or "",
        size_bytes=size,
        sha256=digest.hexdigest(),
        modified_wall=max((f.stat().st_mtime for f in files), default=path.stat().st_mtime),
    )


def restore_test(
    source_text: str,
    *,
    engine_name: str,
    checks: list[DataCheck],
    rto_s: float | None = None,
    image: str | None = None,
    name: str | None = None,
    backup_set: str | None = None,
    database: str | None = None,
    s3: S3Access | None = None,
) -> RestoreTestResult:
    """Run one restore test (see the module docstring); never raises a HarnessError: an
    infrastructure failure is a result with status error. InputError for a bad SOURCE."""
    engine = get_engine(engine_name)
    if source_text.startswith("s3://"):
        return _restore_test_s3(
            source_text,
            engine=engine,
            access=s3 or S3Access(),
            checks=checks,
            rto_s=rto_s,
            image=image,
            name=name,
            database=database,
        )
    if s3 is not None and s3.endpoint_url:
        raise InputError("--endpoint-url goes with an s3://BUCKET/KEY source")
    source = inspect_source(source_text)
    return _restore_test(
        source_text,
        source,
        engine=engine,
        checks=checks,
        rto_s=rto_s,
        image=image,
        name=name,
        backup_set=backup_set,
        database=database,
    )


def _restore_test_s3(
    source_text: str,
    *,
    engine: Engine,
    access: S3Access,
    checks: list[DataCheck],
    rto_s: float | None,
    image: str | None,
    name: str | None,
    database: str | None,
) -> RestoreTestResult:
    """An s3:// object: fetched through the S3 API into a private temporary folder, verified
    against the store's own metadata, then restored as a dump file. A missing object is a
    backup that is not there: status fail (exit 1), reason named, recorded in the catalog."""
    location = parse_s3_url(source_text)
    started_wall = time.time()
    result = RestoreTestResult(
        source=source_text,
        location=location.url,
        kind="s3_object",
        engine=engine.name,
        name=name or location.filename,
        backup_type="full",
        source_database=database or "",
        started_at=iso_utc(started_wall),
        rto_objective_s=rto_s,
    )
    with tempfile.TemporaryDirectory(prefix="rd-restore-test-") as folder:
        try:
            fetched = fetch_object(location, access, Path(folder))
        except ObjectMissing as exc:
            return result.finish("fail", str(exc), ended_wall=time.time())
        except ValueError as exc:
            result.verification, result.checks = "exists", ["exists"]
            return result.finish("fail", f"checksum matches: {exc}", ended_wall=time.time())
        except HarnessError as exc:
            if isinstance(exc, InputError):
                raise
            return result.finish("error", first_line(exc, limit=300), ended_wall=time.time())
        source = inspect_source(str(fetched.path))
        result = _restore_test(
            source_text,
            source,
            engine=engine,
            checks=checks,
            rto_s=rto_s,
            image=image,
            name=name or location.filename,
            backup_set=None,
            database=database,
            result_location=fetched.location.url,
            result_kind="s3_object",
            ended_wall=fetched.last_modified_wall,
            download_s=fetched.download_s,
        )
    result.download_s = fetched.download_s
    result.store_checksum = fetched.verified_by
    if fetched.version_id and fetched.version_id != "null":
        result.evidence = f"version {fetched.version_id}; {result.evidence}".rstrip("; ")
    return result


def _restore_test(
    source_text: str,
    source: Source,
    *,
    engine: Engine,
    checks: list[DataCheck],
    rto_s: float | None,
    image: str | None,
    name: str | None,
    backup_set: str | None,
    database: str | None,
    result_location: str = "",
    result_kind: str = "",
    ended_wall: float | None = None,
    download_s: float = 0.0,
) -> RestoreTestResult:
    if source.kind == "pgbackrest" and engine.name != "postgres":
        raise InputError(f"{source_text}: a pgBackRest repository restores with --engine postgres")
    if backup_set and source.kind != "pgbackrest":
        raise InputError("--set names a set of a pgBackRest repository")
    started_wall = time.time()
    result = RestoreTestResult(
        source=source_text,
        location=result_location or str(source.path.resolve()),
        kind=result_kind or source.kind,
        engine=engine.name,
        name=name or source.path.name,
        backup_type="full",  # a logical dump is always a full backup
        # The database the backup is of (what audit and gate look up): as given, else as
        # the dump's own header says, else unknown (the scratch database's name is not it).
        source_database=database or sniff_source_database(source.path) or "",
        size_bytes=source.size_bytes,
        sha256=source.sha256,
        backup_ended_at=iso_utc(ended_wall if ended_wall is not None else source.modified_wall),
        started_at=iso_utc(started_wall),
        rto_objective_s=rto_s,
    )
    result.verification, result.checks = "exists", ["exists"]
    if source.size_bytes == 0:
        return result.finish("fail", "size plausible: the backup is empty", ended_wall=time.time())
    result.verification, result.checks = "size_plausible", ["exists", "size_plausible"]
    try:
        with Lab(new_run_id()) as lab:
            _run(
                lab,
                engine,
                source,
                result,
                checks,
                image=image,
                backup_set=backup_set,
                download_s=download_s,
            )
    except HarnessError as exc:
        if result.status == "error" and not result.reason:
            return result.finish("error", first_line(exc, limit=300), ended_wall=time.time())
    if result.status == "pass" and rto_s is not None and (result.rto_s or 0) > rto_s:
        result.status, result.reason = "fail", f"RTO {result.rto_s:.2f} s > {rto_s:g} s"
    result.ended_at = iso_utc(time.time())
    return result


def _run(
    lab: Lab,
    engine: Engine,
    source: Source,
    result: RestoreTestResult,
    checks: list[DataCheck],
    *,
    image: str | None,
    backup_set: str | None = None,
    download_s: float = 0.0,
) -> None:
    resolved = resolve_image(
        lab.client,
        engine=engine.name,
        requested=image,
        default=engine.default_image,
        local_build=engine.local_image,
    )
    volume = lab.volume(f"store-{STORE}", role="backup-store")
    agent = BackupAgent(lab, image=resolved.name, volumes={STORE: volume}, tmpfs_mb={})
    if source.kind == "pgbackrest":
        _run_pgbackrest(
            lab, engine, agent, volume, source, result, checks, resolved.name, backup_set
        )
        return
    # The scratch server starts while nothing is timed yet: the clock is for the backup.
    node = provision(lab, engine, image=resolved.name, name="scratch")
    # An S3 object's download (already done, timed on its own) counts in fetch and RTO.
    t0 = time.monotonic() - download_s
    copied = _fetch(lab, agent, source)
    fetched = time.monotonic()
    result.fetch_s = round(fetched - t0, 4)
    if copied != source.sha256:
        result.status = "fail"
        result.reason = (
            f"checksum matches: the copy's sha256 is {copied[:16]}..., "
            f"the source's {source.sha256[:16]}..."
        )
        return
    result.verification = "checksum_matches"
    result.checks.append("checksum_matches")
    path = BackupAgent.path(STORE, source.path.name)
    restored = agent.run(
        restore_script(engine, path=path, target_host=node.name),
        timeout_s=RESTORE_TIMEOUT_S,
        env=engine.tool_env(),
    )
    done = time.monotonic()
    result.restore_s = round(done - fetched, 4)
    result.restore_log = restored.tail(600)
    if not restored.ok:
        result.status = "fail"
        result.reason = f"restore exited {restored.exit_code}: {restored.tail(300)}"
        return
    unverified: tuple[type[BaseException], ...] = (
        ValueError,
        HarnessError,
        *engine.driver_errors(),
    )
    try:
        result.evidence = _verify(lab, engine, node)
    except unverified as exc:
        result.status = "fail"
        result.reason = f"verified read and write: {first_line(exc, limit=300)}"
        return
    verified = time.monotonic()
    result.verify_s = round(verified - done, 4)
    result.rto_s = round(verified - t0, 4)
    _judge_checks(lab, engine, node, checks, result)


def _judge_checks(
    lab: Lab, engine: Engine, node: Node, checks: list[DataCheck], result: RestoreTestResult
) -> None:
    result.data_checks = _checks(lab, engine, node, checks)
    failed = [c for c in result.data_checks if not c.passed]
    if failed:
        result.status = "fail"
        result.reason = "; ".join(
            f"check {c.name!r}: expected {c.expected}, got {c.actual}" for c in failed
        )
        return
    result.verification = "restore_tested"
    result.checks.append("restore_tested")
    result.status = "pass"


def _run_pgbackrest(
    lab: Lab,
    engine: Engine,
    agent: BackupAgent,
    volume: str,
    source: Source,
    result: RestoreTestResult,
    checks: list[DataCheck],
    image: str,
    backup_set: str | None,
) -> None:
    """A pgBackRest repository: copied into the lab, the set (newest by default) restored with
    --type=immediate (consistent, then promote), a server started on it, verified."""
    tool = PgBackRest(cast("PostgresEngine", engine), stanza=source.stanza)
    t0 = time.monotonic()
    copied = _fetch(lab, agent, source, arcname=tool.subdir)
    agent.run(
        f"chown -R postgres: {BackupAgent.path(STORE, tool.subdir)}", timeout_s=COPY_TIMEOUT_S
    )
    fetched = time.monotonic()
    result.fetch_s = round(fetched - t0, 4)
    if copied != source.sha256:
        result.status, result.reason = "fail", "checksum matches: the copy differs from the source"
        return
    result.verification = "checksum_matches"
    result.checks.append("checksum_matches")
    info = agent.run(
        as_postgres(tool.info_command(repo_mount=BackupAgent.path(STORE, "")[:-1])), timeout_s=60
    )
    found = {s.label: s for s in parse_info(info.stdout)} if info.ok else {}
    label = backup_set or (list(found)[-1] if found else "")
    if label not in found:
        result.status = "fail"
        sets = ", ".join(found) or "no sets"
        result.reason = f"exists: set {label or '(newest)'} is not in the repository ({sets})"
        return
    chosen = found[label]
    result.name = f"{source.path.name}:{label}"
    result.backup_type = {"incr": "incremental", "diff": "differential"}.get(
        chosen.type, chosen.type
    )
    result.source_database = result.source_database or f"cluster (stanza {source.stanza})"
    if chosen.started_epoch:
        result.backup_started_at = iso_utc(chosen.started_epoch)
        result.backup_ended_at = iso_utc(chosen.stopped_epoch)
    data = lab.volume("data-scratch", role="database-data")
    restore = tool.restore_command(label=label, recovery=RecoveryTarget(immediate=True))
    restored = run_helper(
        lab,
        image=image,
        name="pgbackrest-restore-scratch",
        mounts={data: engine.datadir, volume: tool.mount},
        script=f"set -e; chown postgres: {engine.datadir}; chmod 700 {engine.datadir}; "
        f"su postgres -s /bin/bash -c {shlex.quote(restore)}",
        timeout_s=RESTORE_TIMEOUT_S,
    )
    result.restore_log = restored.tail(600)
    if not restored.ok:
        result.status = "fail"
        result.reason = f"pgbackrest restore exited {restored.exit_code}: {restored.tail(300)}"
        return
    node = provision(
        lab,
        engine,
        image=image,
        name="scratch",
        data_volume=data,
        mounts={volume: tool.mount},
        wait=False,
    )
    try:
        _promoted(lab, engine, node)
    except HarnessError as exc:
        result.status = "fail"
        result.reason = (
            f"recovery: {first_line(exc, limit=200)}: {lab.logs(node.container_id, lines=5)[-300:]}"
        )
        return
    done = time.monotonic()
    result.restore_s = round(done - fetched, 4)
    unverified: tuple[type[BaseException], ...] = (
        ValueError,
        HarnessError,
        *engine.driver_errors(),
    )
    try:
        result.evidence = _verify(lab, engine, node)
    except unverified as exc:
        result.status, result.reason = (
            "fail",
            f"verified read and write: {first_line(exc, limit=300)}",
        )
        return
    verified = time.monotonic()
    result.verify_s = round(verified - done, 4)
    result.rto_s = round(verified - t0, 4)
    _judge_checks(lab, engine, node, checks, result)


class LoginRefused(HarnessError):
    """The restored cluster runs but refuses the harness's login (its roles are the team's)."""


def _promoted(lab: Lab, engine: Engine, node: Node) -> None:
    def attempt() -> bool | None:
        wait_running_or_exited(lab, node)
        try:
            conn = engine.connect(node.endpoint(lab, engine), timeout_s=5)
        except engine.driver_errors() as exc:
            if "authentication failed" in str(exc) or 'role "' in str(exc):
                raise LoginRefused(
                    f"the restored cluster refuses user {engine.credentials.user} "
                    f"({first_line(exc, limit=120)}); restore-test logs in as the harness's "
                    "own user, which the backed-up cluster must have"
                ) from exc
            raise
        try:
            return None if engine.in_recovery(conn) else True
        finally:
            conn.close()

    poll_until(
        attempt,
        what=f"{node.name} to finish recovery",
        timeout_s=RESTORE_TIMEOUT_S,
        retry_on=(HarnessError, *engine.driver_errors()),
        stop_on=(ServerExited, LoginRefused),
    )


def _fetch(lab: Lab, agent: BackupAgent, source: Source, *, arcname: str = "") -> str:
    """Copy the source into the store (tar stream through the Docker API); its sha256 there."""
    arcname = arcname or source.path.name
    with tempfile.TemporaryFile() as tmp:
        with tarfile.open(fileobj=tmp, mode="w") as tar:
            tar.add(str(source.path), arcname=arcname)
        tmp.seek(0)
        container = lab.guard(agent.container_id, action="copy a backup into")
        if not container.put_archive(BackupAgent.path(STORE, ""), tmp):
            raise HarnessError(f"could not copy {source.path} into the lab")
    target = shlex.quote(BackupAgent.path(STORE, arcname))
    if source.kind == "dump":
        script = f"sha256sum {target} | cut -d' ' -f1"
    else:
        # The same digest as inspect_source: relative name, NUL, content, file by file.
        script = (
            f"cd {target} && find . -type f -printf '%P\\n' | LC_ALL=C sort | "
            'while IFS= read -r f; do printf \'%s\\0\' "$f"; cat -- "$f"; done '
            "| sha256sum | cut -d' ' -f1"
        )
    result = agent.run(script, timeout_s=COPY_TIMEOUT_S)
    return result.stdout.strip()


def _verify(lab: Lab, engine: Engine, node: Node) -> str:
    def attempt() -> str:
        conn = engine.connect(node.endpoint(lab, engine), timeout_s=5)
        try:
            return verified_read_write(conn)
        finally:
            conn.close()

    return poll_until(
        attempt,
        what=f"a verified read and write on {node.name}",
        timeout_s=VERIFY_TIMEOUT_S,
        retry_on=(HarnessError, *engine.driver_errors()),
    )


def _checks(lab: Lab, engine: Engine, node: Node, checks: list[DataCheck]) -> list[CheckOutcome]:
    out: list[CheckOutcome] = []
    errors: tuple[type[BaseException], ...] = engine.driver_errors()
    conn = engine.connect(node.endpoint(lab, engine), timeout_s=5)
    try:
        for check in checks:
            try:
                cur = conn.cursor()
                cur.execute(check.sql)
                row = cur.fetchone()
                cur.close()
                actual: object = row[0] if row else None
                passed = row is not None and check.expect.judge(actual)
            except errors as exc:
                actual, passed = f"error: {first_line(exc, limit=200)}", False
            out.append(CheckOutcome(check.name, check.expect.describe(), str(actual), passed))
    finally:
        conn.close()
    return out
