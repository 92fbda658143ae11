"""A web server on 127.0.0.1 serving fixed pages, in a thread: feeds and files for blocks to fetch."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.test import override_settings


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        page = self.server.pages.get(self.path)
        if page is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        content_type, body = page
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class StaticSite:
    """`pages` maps a path to (content type, body); change it while the server runs."""

    def __init__(self, pages: dict[str, tuple[str, bytes]] | None = None):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.pages = dict(pages or {})
        self.httpd.requests = []
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def pages(self) -> dict[str, tuple[str, bytes]]:
        return self.httpd.pages

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def allowed(self):
        """This server reachable through the SSRF-safe client (SAFE_HTTP_ALLOWED_HOSTS)."""
        return override_settings(SAFE_HTTP_ALLOWED_HOSTS=[f"127.0.0.1:{self.port}"])

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
