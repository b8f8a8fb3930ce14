"""Shared fixtures: one real build of the knowledge base and one real server over HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent

# One seed for everything random in a run (fuzzing, kill points, delays): printed in the header and
# with every failure, so that PTCEKB_TEST_SEED=N replays a failing run.
SEED = int(os.environ.get("PTCEKB_TEST_SEED") or time.time_ns() % 1_000_000)


def pytest_report_header(config):
    return f"random seed: {SEED} (PTCEKB_TEST_SEED={SEED} replays it)"


def pytest_runtest_logreport(report):
    if report.failed:
        report.sections.append(("random seed", f"PTCEKB_TEST_SEED={SEED} replays this run"))
# Upstream files the tests compare against: gzipped copies kept in the repository (data/upstream/README.md).
UPSTREAM = ROOT / "data" / "upstream"


def ptcekb(*args: str, env: dict | None = None, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user would."""
    full_env = {**os.environ, "CI": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ptcekb.cli", *args], capture_output=True, text=True, env=full_env,
        timeout=timeout, check=check, cwd=ROOT,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``ptcekb serve`` in a subprocess on a free loopback port."""

    def __init__(self, store: Path | str, env: dict | None = None, startup_timeout: float | None = None,
                 build: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The log goes to a file: a pipe nobody reads would block the server once full.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ptcekb.cli", "serve", "--store", str(store), "--port", str(self.port),
             *(["--build"] if build else [])],
            env={**os.environ, "CI": "1", **(env or {})}, cwd=ROOT,
            stdout=self.log, stderr=subprocess.STDOUT, text=True,
        )
        # A first build into a remote engine also pushes every graph over HTTP (docs/deployment.md).
        deadline = time.monotonic() + (startup_timeout or (900 if REMOTE else 300))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start in time")

    def output(self) -> str:
        """What the server printed so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Oxigraph:
    """A real `oxigraph serve` (PyPI package) on a free loopback port, optionally loaded with a file."""

    def __init__(self, directory: Path, data: Path | None = None):
        binary = str(Path(sys.executable).parent / "oxigraph")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/query"
        if data is not None:
            subprocess.run([binary, "load", "--location", str(directory), "--file", str(data)], check=True,
                           capture_output=True)
        self.process = subprocess.Popen([binary, "serve", "--location", str(directory), "--bind", f"127.0.0.1:{self.port}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("oxigraph did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Virtuoso:
    """A real Virtuoso Open Source (Debian's ``virtuoso-opensource``: ``virtuoso-t``) in ``directory``,
    with its own virtuoso.ini, its HTTP and SQL ports free on 127.0.0.1, and the account ptcekb writes
    with: the tested configuration of docs/deployment.md."""

    BINARY = "/usr/bin/virtuoso-t"
    USER, PASSWORD = "ptcekb", "ptcekb-test"

    def __init__(self, directory: Path):
        self.directory = directory
        self.http_port, self.sql_port = free_port(), free_port()
        base = f"http://127.0.0.1:{self.http_port}"
        self.url = base + "/sparql"  # queries: anonymous, read-only
        self.env = {"PTCEKB_STORE_UPDATE": base + "/sparql-auth",  # updates and Graph Store: digest auth
                    "PTCEKB_STORE_GSP": base + "/sparql-graph-crud-auth",
                    "PTCEKB_STORE_USER": self.USER, "PTCEKB_STORE_PASSWORD": self.PASSWORD}
        (directory / "virtuoso.ini").write_text(VIRTUOSO_INI.format(http=self.http_port, sql=self.sql_port))
        self.log = open(directory / "virtuoso.out", "w")
        self.process = subprocess.Popen([self.BINARY, "+foreground", "+configfile", "virtuoso.ini"], cwd=directory,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited: {(directory / 'virtuoso.log').read_text()[-2000:]}")
            try:
                if httpx.get(self.url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("virtuoso did not start")
        # The account ptcekb publishes with: SPARQL_UPDATE lets it use /sparql-auth and the Graph Store.
        self.sql(f"DB.DBA.USER_CREATE('{self.USER}', '{self.PASSWORD}'); GRANT SPARQL_UPDATE TO \"{self.USER}\";")

    def sql(self, statements: str) -> str:
        done = subprocess.run(["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statements}"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or "Error" in done.stdout:
            raise RuntimeError(f"isql-vt: {done.stdout}{done.stderr}")
        return done.stdout

    def stop(self) -> None:
        self.process.terminate()  # a checkpoint, then exit
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


# The settings of docs/deployment.md's tested configuration; paths are relative to the directory.
VIRTUOSO_INI = """\
[Database]
DatabaseFile = virtuoso.db
ErrorLogFile = virtuoso.log
LockFile = virtuoso.lck
TransactionFile = virtuoso.trx
xa_persistent_file = virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = virtuoso-temp.db
TransactionFile = virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 170000
MaxDirtyBuffers = 130000
CheckpointInterval = 60
TransactionAfterImageLimit = 2000000000
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = .
ServerThreads = 20
MaxClientConnections = 20
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""


# PTCEKB_TEST_STORE=remote: the session's knowledge base lives in a real `oxigraph serve` (a remote
# store, --store http://…) instead of a local directory; .ci/run runs the service tests that way too.
# PTCEKB_TEST_STORE=virtuoso: the same, in a real Virtuoso (make test runs a subset that way).
REMOTE = os.environ.get("PTCEKB_TEST_STORE") in ("remote", "virtuoso")
VIRTUOSO = os.environ.get("PTCEKB_TEST_STORE") == "virtuoso"


def slow_on_virtuoso(what: str):
    """xfail under PTCEKB_TEST_STORE=virtuoso, with the measured reason: a whole-base scan that Virtuoso
    7.2 answers slower than the time limit on this project's machine (2 cores shared, load ~10), where
    Oxigraph's server answers in time. Not strict: on an idle machine it may pass."""
    return pytest.mark.xfail(VIRTUOSO, strict=False, reason=f"Virtuoso, measured on 2 shared cores: {what} (docs/deployment.md)")


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory):
    """Where the session's knowledge base lives; built by ``ptcekb serve --build``."""
    if not REMOTE:
        yield tmp_path_factory.mktemp("kb") / "store"
        return
    if not VIRTUOSO:
        engine = Oxigraph(tmp_path_factory.mktemp("engine"))
        yield engine.url
        engine.stop()
        return
    if not os.access(Virtuoso.BINARY, os.X_OK):
        pytest.fail(f"{Virtuoso.BINARY} is missing: install Debian's virtuoso-opensource (make test does)")
    engine = Virtuoso(tmp_path_factory.mktemp("virtuoso"))
    saved = {name: os.environ.get(name) for name in engine.env}
    os.environ.update(engine.env)  # every server and command of the session writes with them
    try:
        yield engine.url
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        engine.stop()


def copy_store(source: Path, target: Path) -> Path:
    """A store location at ``target`` publishing a copy of the build ``source`` points to."""
    current = Path(source).resolve()
    builds = target.with_name(target.name + ".builds")
    builds.mkdir(parents=True)
    shutil.copytree(current, builds / current.name)
    target.symlink_to(Path(builds.name) / current.name)
    return target


def open_kb(store_dir):
    """The session's knowledge base, read directly: the local build, or the remote engine."""
    from ptcekb.config import Settings
    from ptcekb.remote import open_store

    return open_store(Settings.from_env(environ={}, store=str(store_dir)))


@pytest.fixture(scope="session")
def server(store_dir) -> Server:
    server = Server(store_dir, build=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def built_store(server, store_dir) -> Path:
    return store_dir


@pytest.fixture(scope="session")
def http(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
