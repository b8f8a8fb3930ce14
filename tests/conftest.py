"""Shared fixtures: one real build of the knowledge base and one real server over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


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

    def __init__(self, store: Path, env: dict | None = None, startup_timeout: float = 300):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ptcekb.cli", "serve", "--store", str(store), "--port", str(self.port)],
            env={**os.environ, "CI": "1", **(env or {})}, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stdout.read()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory) -> Path:
    """Where the session's knowledge base lives; built by ``ptcekb serve`` (it builds when missing)."""
    return tmp_path_factory.mktemp("kb") / "store"


@pytest.fixture(scope="session")
def server(store_dir) -> Server:
    server = Server(store_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def built_store(server, store_dir) -> Path:
    return store_dir


@pytest.fixture(scope="session")
def http(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
