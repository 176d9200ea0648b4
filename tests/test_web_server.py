"""The local server's safety and plumbing, over real HTTP (no browser needed)."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from web_support import running

from hpsearch.web.playground_api import playground_app


@pytest.fixture(scope="module")
def base():
    with running(playground_app()) as url:
        yield url


def _raw(url: str, path: str, method: str = "GET", host: str | None = None):
    """Send ``path`` exactly as written (no client-side normalisation of '..')."""
    address = url.split("//")[1].rstrip("/")
    conn = http.client.HTTPConnection(address, timeout=30)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", host or address)
    conn.putheader("Content-Length", "0")
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


@pytest.mark.parametrize("path", [
    "/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py",
    "/static//etc/passwd", "/static/%2Fetc%2Fpasswd", "/etc/passwd", "//etc/passwd",
    "/static/../../../../etc/passwd", "/files/../pyproject.toml", "/static/",
    "/static/.%2e/site_state.py", "/static/..\\server.py",
])
def test_only_its_own_assets_are_served(base, path):
    status, body = _raw(base, path)
    assert status == 404, (path, body)
    assert b"root:" not in body and b"import" not in body


def test_assets_and_page_are_served(base):
    for path in ("/", "/static/playground.js", "/static/common.css"):
        status, body = _raw(base, path)
        assert status == 200 and body


def test_dashboard_serves_project_files_but_nothing_outside(tmp_path):
    from hpsearch.web.dashboard_api import dashboard_app

    project = tmp_path / "proj"
    (project / "trials").mkdir(parents=True)
    (project / "project.json").write_text(json.dumps({"kind": "hpsearch-tune", "folds": 2}))
    (project / "results.csv").write_text("trial_id,mean_val_accuracy\n")
    (tmp_path / "secret.txt").write_text("secret")
    (project / "link.txt").symlink_to(tmp_path / "secret.txt")
    with running(dashboard_app(project)) as url:
        assert _raw(url, "/files/results.csv") == (200, b"trial_id,mean_val_accuracy\n")
        for path in ("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/link.txt",
                     f"/files/{tmp_path}/secret.txt", f"/files/%2F{tmp_path}/secret.txt"):
            status, body = _raw(url, path)
            assert status == 404 and b"secret" not in body.replace(b"secret.txt", b""), path
        status, body = _raw(url, "/api/dash/state")
        assert status == 200 and json.loads(body)["kind"] == "search"


@pytest.mark.parametrize("path, needle", [
    ("/api/play/new?state=activation%3Dsoftplus", b"activation='softplus'"),
    ("/api/play/new?state=networkShape%3D9", b"9 neurons"),
    ("/api/play/new?stat=x", b"unknown query parameter 'stat'"),
    ("/api/play/new?state=a&state=b", b"given twice"),
    ("/api/play/step?sid=nope", b"unknown or expired session"),
    ("/api/play/step", b"missing query parameter 'sid'"),
])
def test_bad_query_parameters_get_a_one_line_400(base, path, needle):
    status, body = _raw(base, path, "POST")
    assert status in (400, 410)
    assert needle in body and body.count(b"\n") == 1


def test_bad_step_and_control_values_are_400(base):
    status, body = _raw(base, "/api/play/new?state=seed%3D0.5", "POST")
    sid = json.loads(body)["sid"]
    for path in (f"/api/play/step?sid={sid}&n=abc", f"/api/play/step?sid={sid}&n=0",
                 f"/api/play/set?sid={sid}&noise=loud", f"/api/play/set?sid={sid}&bogus=1",
                 f"/api/play/multiseed?sid={sid}&seeds=100000"):
        status, body = _raw(base, path, "POST")
        assert status == 400 and body.count(b"\n") == 1, (path, body)
    assert _raw(base, f"/api/play/step?sid={sid}", "GET")[0] == 405


def test_foreign_host_header_is_refused(base):
    status, body = _raw(base, "/", host="evil.example:80")
    assert status == 403 and b"Host" in body


def test_several_clients_at_once(base):
    status, body = _raw(base, "/api/play/new?state=seed%3D0.5", "POST")
    sid = json.loads(body)["sid"]
    results = []

    def client() -> None:
        for _ in range(5):
            results.append(_raw(base, f"/api/play/step?sid={sid}&n=2", "POST")[0])

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 30
    status, body = _raw(base, f"/api/play/export?sid={sid}")
    assert json.loads(body)["epoch"] == 60  # every step counted once, none lost


def _serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hpsearch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_ctrl_c_stops_the_server_cleanly_and_other_hosts_warn():
    proc = _serve("playground", "serve", "--port", "0", "--host", "0.0.0.0")
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving the Playground at http://0.0.0.0:"), line
        port = line.split(":")[2].split("/")[0]
        assert _raw(f"http://127.0.0.1:{port}/", "/static/common.css")[0] == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        err = proc.stderr.read()
        assert "without authentication" in err and "stopped" in err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("args, needle", [
    (["playground", "serve", "--port", "70000"], "--port"),
    (["playground", "serve", "--colour"], "No such option"),
    (["report", "/nonexistent/dir", "--serve", "--port", "0"], "does not exist"),
])
def test_bad_cli_flags_are_one_line_and_exit_2(args, needle):
    proc = subprocess.run([sys.executable, "-m", "hpsearch", *args], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]


def test_port_in_use_is_a_one_line_error():
    with running(playground_app()) as url:
        port = url.rsplit(":", 1)[1].strip("/")
        proc = subprocess.run([sys.executable, "-m", "hpsearch", "playground", "serve",
                               "--port", port], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: cannot listen")


def test_playground_serve_imports_no_tensorflow():
    script = textwrap.dedent("""
        import http.client, json, sys, threading, time, io, contextlib
        from hpsearch.cli import run
        out = io.StringIO()
        def serve():
            with contextlib.redirect_stdout(out):
                run(["playground", "serve", "--port", "0"])
        threading.Thread(target=serve, daemon=True).start()
        while "http://" not in out.getvalue():
            time.sleep(0.05)
        port = int(out.getvalue().split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/api/play/new?state=seed%3D0.1")
        sid = json.loads(conn.getresponse().read())["sid"]
        conn.request("POST", f"/api/play/step?sid={sid}&n=5")
        assert conn.getresponse().status == 200
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        sys.__stdout__.write(json.dumps(heavy) + chr(10))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_study_dashboard_counts_finished_runs_and_ranks_variants(tmp_path):
    from hpsearch.studies.store import save_run
    from hpsearch.web.dashboard_data import snapshot

    out = tmp_path / "study"
    out.mkdir()
    (out / "study.json").write_text(json.dumps({
        "study": "width", "field": "hidden", "primary_metric": "val_accuracy", "epochs": 2,
        "variants": [{"name": "narrow", "description": "[32]"},
                     {"name": "wide", "description": "[256]"}], "seeds": [0, 1]}))
    for variant, seed, score in (("narrow", 0, 0.70), ("wide", 0, 0.80), ("wide", 1, 0.84)):
        save_run(out, {"study": "width", "variant": variant, "seed": seed, "status": "ok",
                       "wall_time_s": 2.0, "folds": [{"fold": 0, "val_accuracy": score,
                                                      "history": {"val_accuracy": [score]}}]})
    snap = snapshot(out)
    assert snap["kind"] == "study"
    assert (snap["progress"]["done"], snap["progress"]["planned"]) == (3, 4)
    assert snap["progress"]["eta_seconds"] == pytest.approx(2.0)
    assert snap["best"]["trial_id"] == "wide" and snap["best"]["mean"] == pytest.approx(0.82)
    assert [r["runs"] for r in snap["trials"]] == ["1/2", "2/2"]


def _with_length(url: str, length: str, body: bytes = b"") -> tuple[int, bytes]:
    """POST with a Content-Length header written by hand (http.client would compute it)."""
    import socket

    address = url.split("//")[1].rstrip("/")
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST /api/play/new?state=seed%3D0.5 HTTP/1.1\r\nHost: {address}\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode() + body)
        reply = b""
        while chunk := sock.recv(65536):  # HTTP/1.0: the server closes after its answer
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    return status, reply


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", " 12x"])
def test_a_malformed_content_length_is_a_400_not_a_hung_thread(base, length):
    status, reply = _with_length(base, length)
    assert status == 400
    assert b"Content-Length must be a whole number" in reply
    # the server still answers others afterwards
    assert _raw(base, "/static/common.css")[0] == 200


def test_a_client_that_stalls_mid_body_is_dropped_and_others_are_served(monkeypatch):
    import socket
    import time

    from hpsearch.web import server

    monkeypatch.setattr(server, "REQUEST_TIMEOUT_S", 0.5)
    with running(playground_app()) as url:
        address = url.split("//")[1].rstrip("/")
        host, port = address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as slow:
            # promises 100 bytes and sends 3, then keeps the connection open
            slow.sendall(f"POST /api/play/new HTTP/1.1\r\nHost: {address}\r\n"
                         "Content-Length: 100\r\n\r\nabc".encode())
            started = time.monotonic()
            assert _raw(url, "/static/common.css")[0] == 200   # another client meanwhile
            assert slow.recv(65536) == b""                     # the server hung up on it
            assert time.monotonic() - started < 10


def test_a_slow_client_that_keeps_sending_is_served(monkeypatch):
    """The timeout bounds each wait, not the whole request: a client on a slow link that
    trickles its request (every gap under the timeout, the whole well over it) gets its answer."""
    import socket
    import time

    from hpsearch.web import server

    monkeypatch.setattr(server, "REQUEST_TIMEOUT_S", 0.5)
    with running(playground_app()) as url:
        address = url.split("//")[1].rstrip("/")
        host, port = address.rsplit(":", 1)
        request = f"GET /static/common.css HTTP/1.1\r\nHost: {address}\r\n\r\n".encode()
        pieces = [request[i:i + 8] for i in range(0, len(request), 8)]
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=30) as slow:
            for piece in pieces:
                slow.sendall(piece)
                time.sleep(0.2)
            reply = b""
            while chunk := slow.recv(65536):
                reply += chunk
        assert time.monotonic() - started > 1.0  # twice the timeout, at least, in all
        assert reply.startswith(b"HTTP/1.0 200") or reply.startswith(b"HTTP/1.1 200")
