"""Real components for the delivery tests: a local webhook server and a Celery worker subprocess."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bulletin.models import WebhookEndpoint
from tests.workers import start_worker, wait_until  # noqa: F401 - fixtures and helpers of these tests


class WebhookServer:
    """A group robot on 127.0.0.1: records every POST and answers from a script (then 200 errcode 0)."""

    def __init__(self):
        self.received: list[dict] = []
        self.script: list[tuple[int, dict]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server._lock:
                    server.received.append(
                        {
                            "path": self.path,
                            "content_type": self.headers.get("Content-Type"),
                            "idempotency_key": self.headers.get("Idempotency-Key"),
                            "json": json.loads(raw),
                        }
                    )
                    status, answer = server.script.pop(0) if server.script else (200, {"errcode": 0, "errmsg": "ok"})
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer_next(self, *responses: tuple[int, dict]) -> None:
        self.script.extend(responses)


@pytest.fixture
def webhook_server():
    server = WebhookServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def branch_robot(branch, webhook_server):
    return WebhookEndpoint.objects.create(organization=branch, url=webhook_server.url)
