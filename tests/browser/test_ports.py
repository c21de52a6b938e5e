"""A port that is already taken is never reused: the server start fails instead of talking to
whatever answers there, and nothing of the failed start is left running."""
import http.server
import threading

import pytest

from .conftest import Server, free_port

pytestmark = pytest.mark.slow  # a real browser and Jupyter servers: minutes


class Impostor(http.server.BaseHTTPRequestHandler):
    """Answers everything like a healthy Jupyter server would."""

    def do_GET(self):
        body = b'{"started": "2026-01-01T00:00:00Z", "kernels": 0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_server_already_on_the_port_is_not_reused(tmp_path):
    impostor = http.server.HTTPServer(("127.0.0.1", 0), Impostor)
    port = impostor.server_address[1]
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    try:
        assert free_port() != port
        with pytest.raises(RuntimeError, match=f"port {port} did not start") as failed:
            Server(tmp_path, tmp_path / "home", port=port).stop()  # stop(): only if it wrongly started
        assert "processes left: []" in str(failed.value) and "already in use" in str(failed.value)
    finally:
        impostor.shutdown()
        impostor.server_close()
