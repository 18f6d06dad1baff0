"""Starts `tenure sandbox` as a child process, reads the one JSON line it prints when ready, and speaks the
sandbox's own admin API (`/_sandbox/...`, see CONTRACTS.md) for the tests that need to change its state.

The admin API is not a Microsoft surface; the tests use it only to set the stage (register a certificate,
advance the clock, approve a consent request), never to check Microsoft behaviour.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

STARTUP_TIMEOUT_SECONDS = 90
"""How long the sandbox may take to print its JSON line (a cold debug build generates RSA keys and a CA)."""


def tenure_binary() -> str:
    """The `tenure` binary: `$TENURE_BIN`, or `<repo>/target/debug/tenure` (run.sh builds it when missing)."""
    explicit = os.environ.get("TENURE_BIN")
    if explicit:
        return explicit
    repo = Path(__file__).resolve().parents[2]
    return str(repo / "target" / "debug" / "tenure")


def https_session(ca_file: str) -> requests.Session:
    """A `requests` session that trusts only the sandbox's CA.

    `trust_env=False` matters: this machine sets `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE`, which `requests` would
    otherwise prefer over `verify=` for every request made through the session.
    """
    session = requests.Session()
    session.verify = ca_file
    session.trust_env = False
    return session


@dataclass
class SandboxProcess:
    """A running `tenure sandbox --json` and what it announced."""

    process: subprocess.Popen
    info: dict[str, Any]
    log_path: Path
    _drain: threading.Thread | None = field(default=None, repr=False)

    # --- what the JSON line says -------------------------------------------------------------------------

    @property
    def https(self) -> str:
        """`https://127.0.0.1:PORT`."""
        return self.info["https"]

    @property
    def ca_file(self) -> str:
        """Path of the sandbox CA's PEM file."""
        return self.info["ca_pem_file"]

    @property
    def admin(self) -> str:
        """`https://127.0.0.1:PORT/_sandbox`."""
        return self.info["admin"].rstrip("/")

    def tenant(self, name: str) -> dict[str, Any]:
        """A tenant of the JSON line by display name (`Contoso`), id or domain."""
        for tenant in self.info["tenants"]:
            if name in (tenant["name"], tenant["id"]) or name in tenant.get("domains", []):
                return tenant
        raise KeyError(f"no tenant {name!r} in the sandbox's JSON line")

    def app(self, name_or_id: str) -> dict[str, Any]:
        """An app registration of the JSON line by name (`Tenure`) or application id."""
        for app in self.info["apps"]:
            if name_or_id in (app["name"], app["app_id"]):
                return app
        raise KeyError(f"no app {name_or_id!r} in the sandbox's JSON line")

    def user(self, upn: str) -> dict[str, Any]:
        """A seeded user (with password) by UPN."""
        for user in self.info["users"]:
            if user["upn"].lower() == upn.lower():
                return user
        raise KeyError(f"no user {upn!r} in the sandbox's JSON line")

    def session(self) -> requests.Session:
        """A fresh HTTPS session trusting the sandbox CA (no proxy or CA bundle from the environment)."""
        return https_session(self.ca_file)

    def log(self) -> str:
        """The sandbox's stderr so far (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # --- the admin API -----------------------------------------------------------------------------------

    def admin_request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to `/_sandbox{path}` with `Accept: application/json`."""
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        with self.session() as session:
            return session.request(method, f"{self.admin}{path}", headers=headers, timeout=30, **kwargs)

    def advance_clock(self, seconds: int) -> dict[str, Any]:
        """`POST /_sandbox/clock/advance` → `{"now", "offset_seconds"}`."""
        response = self.admin_request("POST", "/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, describe(response)
        return response.json()

    def register_certificate(self, app_id: str, certificate_pem: str) -> dict[str, Any]:
        """`POST /_sandbox/apps/{app_id}/certificates` → 201 `{"key_id", "thumbprint_sha1", "thumbprint_sha256"}`."""
        response = self.admin_request("POST", f"/apps/{app_id}/certificates", json={"pem": certificate_pem})
        assert response.status_code == 201, describe(response)
        return response.json()

    def consent_requests(self) -> list[dict[str, Any]]:
        """`GET /_sandbox/consent-requests` as JSON."""
        response = self.admin_request("GET", "/consent-requests")
        assert response.status_code == 200, describe(response)
        body = response.json()
        assert isinstance(body, list), f"expected a JSON list of consent requests, got {body!r}"
        return body

    # --- lifetime ----------------------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within ten seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


def start_sandbox(work_dir: Path) -> SandboxProcess:
    """Starts `tenure sandbox --listen 127.0.0.1:0 --json` and waits for its JSON line."""
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "sandbox.stderr.log"
    binary = tenure_binary()
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"the tenure binary {binary} does not exist; run conformance/run.sh or set TENURE_BIN")
    command = [binary, "sandbox", "--listen", "127.0.0.1:0", "--json", "--ca-out", str(work_dir / "ca.pem")]
    log_file = open(log_path, "wb")  # noqa: SIM115 - the child keeps writing to it after this function returns
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file, cwd=work_dir, text=True
    )
    log_file.close()

    lines: queue.Queue[str | None] = queue.Queue()

    def read_stdout() -> None:
        # Keeps draining stdout for the process's whole life so that it can never block on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    drain = threading.Thread(target=read_stdout, name="sandbox-stdout", daemon=True)
    drain.start()

    def fail(reason: str) -> RuntimeError:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        stderr = log_path.read_text(errors="replace")[-4000:]
        return RuntimeError(f"{reason}\ncommand: {' '.join(command)}\nstderr (tail):\n{stderr}")

    while True:
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT_SECONDS)
        except queue.Empty:
            raise fail(f"the sandbox printed no JSON line within {STARTUP_TIMEOUT_SECONDS} s") from None
        if line is None:
            raise fail(f"the sandbox exited (status {process.wait()}) before printing its JSON line")
        line = line.strip()
        if not line:
            continue
        try:
            info = json.loads(line)
        except json.JSONDecodeError:
            raise fail(f"the sandbox's first stdout line is not JSON: {line[:500]!r}") from None
        break

    for key in ("https", "ca_pem_file", "admin", "tenants", "apps", "users"):
        if key not in info:
            raise fail(f"the sandbox's JSON line lacks {key!r} (CONTRACTS.md): {sorted(info)}")
    return SandboxProcess(process=process, info=info, log_path=log_path, _drain=drain)


def describe(response: requests.Response) -> str:
    """One request and its response, for assertion messages: method, URL, status, headers and body."""
    request = response.request
    body = request.body
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    return (
        f"\n{request.method} {request.url}\nrequest body: {redact(body)}\n"
        f"-> {response.status_code}\n{dict(response.headers)}\n{response.text[:3000]}"
    )


def redact(body: str | None) -> str | None:
    """Hides secrets, passwords and assertions in a form body before it goes into a failure message."""
    if not body:
        return body
    from urllib.parse import parse_qsl, urlencode

    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return body[:2000]
    hidden = {"client_secret", "password", "passwd", "client_assertion", "refresh_token", "code", "code_verifier"}
    return urlencode([(key, "***" if key in hidden else value) for key, value in pairs])
