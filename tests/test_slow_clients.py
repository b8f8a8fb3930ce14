"""Slow clients are cut (ptcekb/service/http_protocol.py): a request's head has a deadline and a size.

Real ``ptcekb serve`` on loopback; the slow clients are raw sockets. Bounded in time and count.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time

import httpx
import pytest

from conftest import REMOTE, Server

HEADER_TIMEOUT = 2.0
SLOW_CONNECTIONS = 200


@pytest.fixture(scope="module")
def guarded(built_store):
    if REMOTE:
        pytest.skip("the HTTP front does not depend on the store")
    server = Server(built_store, env={"PTCEKB_HEADER_TIMEOUT": str(HEADER_TIMEOUT)})
    yield server
    server.stop()


def read_all(sock: socket.socket, limit: float) -> bytes:
    sock.settimeout(limit)
    chunks = []
    try:
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


def test_a_head_sent_byte_by_byte_is_cut_with_408(guarded):
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for byte in b"X-Slow: " + b"a" * 60:  # one byte every 0.2 s: 13 s if it were let through
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.2)
            if time.monotonic() - started > HEADER_TIMEOUT + 1:
                break
        answer = read_all(sock, 5)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"/ en-t" in answer  # the message in both languages


def test_a_connection_that_says_nothing_is_closed(guarded):
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        answer = read_all(sock, HEADER_TIMEOUT + 5)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_an_oversized_head_is_431(guarded):
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try:
            for index in range(200):  # 200 x 1 KiB headers: past the 80 KiB a head may weigh
                sock.sendall(f"X-Filler-{index}: {'b' * 1000}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_all(sock, 5)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_a_normal_request_after_a_slow_but_timely_head_is_served(guarded):
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"Connection: close\r\n\r\n"):
            sock.sendall(part)
            time.sleep(HEADER_TIMEOUT / 4)
        answer = read_all(sock, 10)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


async def _slowloris(port: int, until: float, opened: list[int]) -> None:
    """One attacker: opens a connection, trickles a header byte every 0.5 s, reconnects when cut."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        opened.append(1)
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            while time.monotonic() < until and not reader.at_eof():
                writer.write(b"a")
                await writer.drain()
                await asyncio.sleep(0.5)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def _medians(url: str, count: int) -> float:
    times = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            assert client.get(url + "/healthz").status_code == 200
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_200_slow_connections_do_not_slow_normal_clients(guarded):
    """Normal clients keep their idle median within 10x while 200 slow clients hold connections."""
    idle = _medians(guarded.url, 60)

    async def attack_and_measure() -> tuple[float, int]:
        opened: list[int] = []
        until = time.monotonic() + 3 * HEADER_TIMEOUT + 2
        attackers = [asyncio.create_task(_slowloris(guarded.port, until, opened)) for _ in range(SLOW_CONNECTIONS)]
        await asyncio.sleep(HEADER_TIMEOUT)  # every attacker has its connection open
        loaded = await asyncio.to_thread(_medians, guarded.url, 60)
        await asyncio.gather(*attackers)
        return loaded, len(opened)

    loaded, opened = asyncio.run(attack_and_measure())
    print(f"idle median {idle * 1000:.1f} ms, with {SLOW_CONNECTIONS} slow clients {loaded * 1000:.1f} ms; "
          f"{opened} slow connections opened")
    assert opened > SLOW_CONNECTIONS, "the slow connections were cut and reopened"
    assert loaded <= 10 * idle, (idle, loaded)
