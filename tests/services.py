"""Private instances of real services (influxd, mosquitto) that a test can start, stop and kill."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"


class ServiceError(RuntimeError):
    """A private service instance did not come up (or go down) as it should."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that nothing listens on right now, chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def port_accepts(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether a TCP connection to host:port is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def listening_inodes(port: int) -> set[str] | None:
    """Inodes of the loopback/any-address TCP sockets listening on ``port`` (Linux ``/proc``),
    or None where there is no ``/proc`` to read."""
    found: set[str] = set()
    try:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    # local address "0100007F:1F90", state 0A = LISTEN, inode in column 10
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        found.add(fields[9])
    except OSError:
        return None
    return found


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets process ``pid`` holds open."""
    out: set[str] = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return out
    for name in names:
        try:
            link = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


class Service:
    """One server process with its own config, data dir and log, all under ``root``.

    Subclasses write the config (``configure``), give the command line (``command``) and say when
    the server is ready (``ready``). The ports are chosen once, so ``restart`` keeps them, as it
    keeps the data dir.
    """

    name = "service"

    def __init__(
        self, root: Path, *, startup_timeout_s: float = 30.0, stop_timeout_s: float = 10.0
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / f"{self.name}.log"
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False
        self.configure()

    def configure(self) -> None:
        """Write the config files under ``root``."""
        raise NotImplementedError

    def command(self) -> Sequence[str]:
        """The command line that runs the server in the foreground."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether the server answers (called repeatedly while starting)."""
        raise NotImplementedError

    def ports(self) -> Sequence[int]:
        """The ports the server listens on (its own process, not a child), if checked."""
        return ()

    def choose_ports(self) -> None:
        """Pick new free ports (and write the config again): the ones chosen were taken."""

    def _owns_ports(self) -> bool:
        """Whether our process is the one listening on each of its ports: a free port chosen
        by one test can be chosen by a test running beside it before either server binds it,
        and then the loser's readiness check is answered by the winner."""
        if self._process is None:
            return False
        held = socket_inodes(self._process.pid)
        for port in self.ports():
            listening = listening_inodes(port)
            if listening is not None and not listening & held:
                return False
        return True

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, port_attempts: int = 3) -> None:
        """Start the server and return once it answers; raise ServiceError with its log if not.
        A server that could not bind its ports (taken meanwhile) is started again on new ones."""
        # a restart keeps its ports: whoever talks to the server knows them
        attempts = 1 if self._started else port_attempts
        for attempt in range(attempts):
            try:
                self._start_once()
                self._started = True
                return
            except ServiceError:
                taken = "address already in use" in tail(self.log_path, 10).lower()
                if not taken or attempt == attempts - 1 or not self.ports():
                    raise
                self.choose_ports()

    def _start_once(self) -> None:
        if self.running:
            raise ServiceError(f"{self.name} in {self.root} is already running")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                list(self.command()),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,  # a Ctrl-C in the terminal is for pytest, not for us
            )
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceError(
                    f"{self.name} exited with code {self._process.returncode} while starting;"
                    f" log {self.log_path}:\n{tail(self.log_path)}"
                )
            if self.ready() and self._owns_ports():
                return
            time.sleep(0.05)
        self.kill()
        raise ServiceError(
            f"{self.name} did not answer within {self.startup_timeout_s:g} s;"
            f" log {self.log_path}:\n{tail(self.log_path)}"
        )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if the server has not exited within ``stop_timeout_s``."""
        self._signal_and_wait(signal.SIGTERM, self.stop_timeout_s)

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or close anything."""
        self._signal_and_wait(signal.SIGKILL, self.stop_timeout_s)

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its sockets open but answers nothing (a hung server)."""
        if self._process is not None and self.running:
            self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: a frozen server carries on where it stopped."""
        if self._process is not None and self.running:
            self._process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        """Stop (gracefully) if running, then start again on the same ports and data dir."""
        if self.running:
            self.stop()
        self.start()

    def _signal_and_wait(self, sig: signal.Signals, timeout_s: float) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        process.send_signal(signal.SIGCONT)  # a frozen server must run to handle SIGTERM
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class InfluxServer(Service):
    """A private influxd (1.x): own HTTP and RPC ports on loopback, own meta/data/wal dirs."""

    name = "influxd"

    def __init__(
        self,
        root: Path,
        *,
        binary: str = "influxd",
        auth: bool = False,
        startup_timeout_s: float = 30.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self.binary = binary
        self.auth = auth
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.config_path = Path(root) / "influxdb.conf"
        super().__init__(root, startup_timeout_s=startup_timeout_s, stop_timeout_s=stop_timeout_s)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    def ports(self) -> Sequence[int]:
        return (self.http_port, self.rpc_port)

    def choose_ports(self) -> None:
        self.http_port, self.rpc_port = free_port(), free_port()
        self.configure()

    def configure(self) -> None:
        self.config_path.write_text(
            f"""\
reporting-disabled = true
bind-address = "{LOOPBACK}:{self.rpc_port}"

[meta]
  dir = "{self.root / "meta"}"
  logging-enabled = false

[data]
  dir = "{self.root / "data"}"
  wal-dir = "{self.root / "wal"}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  bind-address = "{LOOPBACK}:{self.http_port}"
  auth-enabled = {str(self.auth).lower()}
  log-enabled = false
  pprof-enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
"""
        )

    def command(self) -> Sequence[str]:
        return [self.binary, "run", "-config", str(self.config_path)]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=1.0) as response:
                return bool(response.status == 204)
        except (OSError, urllib.error.URLError):
            return False


class MosquittoServer(Service):
    """A private mosquitto: one anonymous listener on loopback, persistence under ``root``."""

    name = "mosquitto"

    def __init__(
        self,
        root: Path,
        *,
        binary: str = "mosquitto",
        startup_timeout_s: float = 15.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self.binary = binary
        self.port = free_port()
        self.config_path = Path(root) / "mosquitto.conf"
        super().__init__(root, startup_timeout_s=startup_timeout_s, stop_timeout_s=stop_timeout_s)

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def url(self) -> str:
        return f"mqtt://{LOOPBACK}:{self.port}"

    def ports(self) -> Sequence[int]:
        return (self.port,)

    def choose_ports(self) -> None:
        self.port = free_port()
        self.configure()

    def configure(self) -> None:
        persistence = self.root / "persistence"
        persistence.mkdir(exist_ok=True)
        # As root, mosquitto drops to the 'mosquitto' user unless told to stay: stay whoever we
        # are, so it can write its persistence file in our tmp dir.
        self.config_path.write_text(
            f"""\
user {getpass.getuser()}
listener {self.port} {LOOPBACK}
allow_anonymous true
persistence true
persistence_location {persistence}{os.sep}
max_queued_messages 0
max_inflight_messages 0
log_dest stderr
log_type error
log_type warning
log_type notice
"""
        )

    def command(self) -> Sequence[str]:
        return [self.binary, "-c", str(self.config_path)]

    def ready(self) -> bool:
        return port_accepts(LOOPBACK, self.port)


class PostgresServer(Service):
    """A private PostgreSQL cluster (trust auth, user ``postgres``) on a free loopback port.

    As root it runs as the ``postgres`` user (PostgreSQL refuses root), so its directory is one
    of its own under the system's temp dir rather than inside pytest's root-only one.
    """

    name = "postgres"

    def __init__(self, *, startup_timeout_s: float = 60.0, stop_timeout_s: float = 20.0) -> None:
        self.port = free_port()
        self.bin = _postgres_bin()
        self._as_postgres = os.geteuid() == 0
        root = Path(tempfile.mkdtemp(prefix="vigie-pg-"))
        if self._as_postgres:
            shutil.chown(root, "postgres", "postgres")
        super().__init__(root, startup_timeout_s=startup_timeout_s, stop_timeout_s=stop_timeout_s)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{LOOPBACK}:{self.port}/postgres"

    def ports(self) -> Sequence[int]:
        return (self.port,)

    def choose_ports(self) -> None:
        self.port = free_port()  # given on the command line: the cluster stays as it is

    def _as_owner(self, command: Sequence[str]) -> list[str]:
        if not self._as_postgres:
            return list(command)
        # setpriv execs the server itself: signals reach it, not a wrapper.
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]

    def configure(self) -> None:
        data = str(self.root / "data")
        initdb = [
            *(f"{self.bin}/initdb", "-D", data, "-U", "postgres"),
            *("-A", "trust", "-E", "UTF8", "--no-sync"),
        ]
        subprocess.run(self._as_owner(initdb), check=True, capture_output=True)
        # The log file is opened by us, before the server drops to its user: make it its own.
        self.log_path.touch()
        if self._as_postgres:
            shutil.chown(self.log_path, "postgres", "postgres")

    def command(self) -> Sequence[str]:
        settings = {
            "listen_addresses": LOOPBACK,
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            # A test database needs no durability; CREATE DATABASE per test needs speed.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        options = [arg for k, v in settings.items() for arg in ("-c", f"{k}={v}")]
        return self._as_owner([f"{self.bin}/postgres", "-D", str(self.root / "data"), *options])

    def ready(self) -> bool:
        """Ready once a session opens: the port accepts while the server says "starting up"."""
        if not port_accepts(LOOPBACK, self.port):
            return False
        import psycopg  # the suite's driver; imported here so the other services do not need it

        try:
            psycopg.connect(
                host=LOOPBACK, port=self.port, user="postgres", dbname="postgres", connect_timeout=2
            ).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every session to end)."""
        self._signal_and_wait(signal.SIGINT, self.stop_timeout_s)
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_bin() -> str:
    """The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3])
    )
    if not found:
        raise ServiceError("no PostgreSQL server installed (Debian package: postgresql)")
    return str(found[-1].parent)


@dataclass(frozen=True, slots=True)
class ExternalService:
    """A service someone else runs (CI, a developer's machine): only its address is ours."""

    url: str


def influx_query(url: str, query: str, *, timeout_s: float = 10.0) -> bytes:
    """POST one InfluxQL statement to ``/query`` (for test set-up and tear-down)."""
    data = urllib.parse.urlencode({"q": query}).encode()
    request = urllib.request.Request(f"{url.rstrip('/')}/query", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        body: bytes = response.read()
        return body
