"""A throwaway PostgreSQL server for the test suite.

Why this exists: tests that claim to exercise PostgreSQL must talk to a real server, and the
test command must start that server itself (no pre-provisioned database, no silent skip when
one is missing).  ``ThrowawayPostgres`` creates a private cluster in a temporary directory,
starts it on a free port of 127.0.0.1 with durability switched off (it is thrown away, so
fsync and friends only cost time), and removes everything again on ``stop()``.

Any failure raises ``RuntimeError`` carrying the tail of the server log, so a broken setup
makes the run fail loudly instead of skipping.

Only the standard library and psycopg are used.  The binaries come from the Debian layout
``/usr/lib/postgresql/<version>/bin`` (``.ci/ensure-postgres`` installs them when missing).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

PG_ROOT = "/usr/lib/postgresql"
SUPERUSER = "postgres"
#: The server refuses to run as root; when we are root, we run it as this OS user.
OS_USER = "postgres"
#: Generous: a cold start on a loaded 2-core CI machine can take a while.
TIMEOUT_SECONDS = 60
_PORT_ATTEMPTS = 3


def find_bindir() -> Path:
    """Return the newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and pg_ctl.

    Raises RuntimeError when none is installed (run ``.ci/ensure-postgres`` first).
    """
    candidates: list[tuple[tuple[int, ...], Path]] = []
    for entry in glob.glob(os.path.join(PG_ROOT, "*", "bin")):
        path = Path(entry)
        if not ((path / "initdb").is_file() and (path / "pg_ctl").is_file()):
            continue
        version = tuple(int(part) for part in re.findall(r"\d+", path.parent.name))
        candidates.append((version, path))
    if not candidates:
        raise RuntimeError(
            f"No PostgreSQL server binaries found under {PG_ROOT}/*/bin "
            "(run `bash .ci/ensure-postgres` to install them)."
        )
    return max(candidates)[1]


def free_port() -> int:
    """Ask the kernel for a currently unused TCP port on 127.0.0.1.

    There is a small window in which someone else may grab it; ``start()`` retries with a new
    port when the server cannot bind.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """Context manager owning one private PostgreSQL cluster for the duration of a test run.

    Usage::

        with ThrowawayPostgres() as pg:
            url = pg.create_database("scratch")  # SQLAlchemy URL (psycopg 3 driver)
    """

    def __init__(self, bindir: str | os.PathLike[str] | None = None) -> None:
        """Prepare, but do not start; ``bindir`` defaults to the newest installed version."""
        self._bindir_arg = Path(bindir) if bindir is not None else None
        self.bindir: Path | None = None
        self.basedir: Path | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._running = False
        # Running as root: the server refuses that, so every server command goes via runuser.
        self._as_root = os.geteuid() == 0

    # -- paths ---------------------------------------------------------------------------

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self._base() / "data"

    @property
    def logfile(self) -> Path:
        """The server log written by ``pg_ctl -l``."""
        return self._base() / "log"

    def _base(self) -> Path:
        if self.basedir is None:
            raise RuntimeError("ThrowawayPostgres has not been started")
        return self.basedir

    # -- public API ----------------------------------------------------------------------

    def start(self) -> ThrowawayPostgres:
        """Create the cluster, start the server and wait until it accepts connections."""
        if self._running:
            return self
        began = time.monotonic()
        try:
            self.bindir = self._bindir_arg or find_bindir()
            for tool in ("initdb", "pg_ctl", "postgres"):
                if not (self.bindir / tool).is_file():
                    raise RuntimeError(f"{self.bindir / tool} does not exist")
            self._make_basedir()
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D", str(self.datadir),
                    "-U", SUPERUSER,
                    "--auth=trust",
                    "-E", "UTF8",
                    "--no-sync",
                ],
                what="initdb",
            )
            for attempt in range(1, _PORT_ATTEMPTS + 1):
                self.port = free_port()
                try:
                    self._pg_ctl("start")
                    break
                except RuntimeError:
                    # Lost the race for the port to another process: try another one.
                    if attempt < _PORT_ATTEMPTS and "could not bind" in self._log_tail():
                        continue
                    raise
            self._running = True
            atexit.register(self.stop)
            self._wait_ready()
        except BaseException as exc:
            tail = self._log_tail()
            self.stop()
            if isinstance(exc, RuntimeError | OSError | subprocess.SubprocessError | psycopg.Error):
                raise RuntimeError(
                    f"Could not start the throwaway PostgreSQL server: {exc}\n"
                    f"--- server log (tail) ---\n{tail}"
                ) from exc
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for ``dbname`` on this server."""
        if self.port is None:
            raise RuntimeError("ThrowawayPostgres has not been started")
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for psycopg (which does not understand SQLAlchemy URLs)."""
        if self.port is None:
            raise RuntimeError("ThrowawayPostgres has not been started")
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname} connect_timeout=10"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Run CREATE DATABASE (it cannot run inside a transaction, hence autocommit).

        ``template``: copy that database (schema and rows) instead of the empty default; nothing may be
        connected to it while it is copied."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        try:
            with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                conn.execute(statement)
        except psycopg.Error as exc:
            raise RuntimeError(f"CREATE DATABASE {name!r} failed: {exc}\n{self._log_tail()}") from exc
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE, disconnecting any session still using it (WITH FORCE, PG 13+)."""
        try:
            with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        except psycopg.Error as exc:
            raise RuntimeError(f"DROP DATABASE {name!r} failed: {exc}\n{self._log_tail()}") from exc

    def restart(self) -> None:
        """Fast restart on the same port: clients are disconnected, committed data survives.

        Meant for fault tests (what does the code do when the connection drops?).
        """
        if not self._running:
            raise RuntimeError("ThrowawayPostgres is not running")
        try:
            self._pg_ctl("restart", "-m", "fast")
            self._wait_ready()
        except (RuntimeError, OSError, subprocess.SubprocessError, psycopg.Error) as exc:
            raise RuntimeError(
                f"Could not restart the throwaway PostgreSQL server: {exc}\n"
                f"--- server log (tail) ---\n{self._log_tail()}"
            ) from exc

    def stop(self) -> None:
        """Stop immediately (no shutdown checkpoint: the data is discarded) and delete it all.

        Safe to call more than once; also registered with atexit so an interrupted run does
        not leave a server behind.
        """
        atexit.unregister(self.stop)
        try:
            if self._running and self.basedir is not None:
                self._running = False
                try:
                    self._pg_ctl("stop", "-m", "immediate")
                except RuntimeError:
                    pass  # Already dead; removing the directory is all that is left to do.
        finally:
            if self.basedir is not None:
                shutil.rmtree(self.basedir, ignore_errors=True)
                self.basedir = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------

    def _make_basedir(self) -> None:
        """Temp dir under /tmp (world-traversable), owned by the OS user that runs the server."""
        self.basedir = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
        if self._as_root:
            try:
                user = pwd.getpwnam(OS_USER)
            except KeyError as exc:
                raise RuntimeError(
                    f"Running as root, but there is no {OS_USER!r} OS user to run the server as"
                ) from exc
            os.chown(self.basedir, user.pw_uid, user.pw_gid)
        # Not secret (trust auth on loopback, throwaway data); readable so logs can be inspected.
        os.chmod(self.basedir, 0o755)

    def _server_options(self) -> str:
        """Options for the postgres process: loopback only, our port, no durability."""
        return " ".join(
            [
                "-h 127.0.0.1",
                f"-p {self.port}",
                f"-k {shlex.quote(str(self._base()))}",
                "-F",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        assert self.bindir is not None
        cmd = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *extra]
        if action in ("start", "restart"):
            cmd += ["-o", self._server_options(), "-l", str(self.logfile)]
        cmd += ["-w", "-t", str(TIMEOUT_SECONDS), action]
        self._run(cmd, what=f"pg_ctl {action}")

    def _run(self, cmd: list[str], what: str) -> None:
        """Run a server command as the server's OS user; raise RuntimeError on failure."""
        if self._as_root:
            cmd = ["runuser", "-u", OS_USER, "--", *cmd]
        # Keep PG* variables of the caller's environment from redirecting the tools, and use a
        # locale that always exists (CI images often have none generated).
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                env=env,
                cwd=self._base(),  # the OS user may be unable to enter the caller's cwd
                timeout=TIMEOUT_SECONDS + 30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"{what} failed: {exc}") from exc
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip()
            raise RuntimeError(f"{what} exited with {proc.returncode}: {output}")

    def _wait_ready(self) -> None:
        """``pg_ctl -w`` already waits; also prove a real client connection works."""
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _log_tail(self, lines: int = 40) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except (OSError, RuntimeError):
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])
