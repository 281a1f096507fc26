#!/usr/bin/env python3
"""A local list server for tests/integration/fetch.sh: the cases a tracker
list download meets (a good list, an unchanged one, errors, redirects, a
body too big, a stalled or cut-off transfer), served over HTTPS with a
certificate made for the test, or over plain HTTP with --plain.

  fetch-server.py --cert CERT --key KEY [--big-bytes N] [--slow-seconds S]
  fetch-server.py --plain

Prints the port it listens on (127.0.0.1, chosen by the kernel) as one line,
then serves until killed.

  /ok.txt       a small list with a fixed Last-Modified; 304 to an
                If-Modified-Since at or after it
  /big          --big-bytes of body, with Content-Length
  /big-nolength --big-bytes of body, no Content-Length (ends at close)
  /404          404
  /redirect     302 to /ok.txt
  /loop         302 to itself
  /goto?URL     302 to URL
  /slow         sleeps --slow-seconds before answering
  /truncated    Content-Length 1000, sends 10 bytes, closes
  /ua           the request's User-Agent as the body
"""
import argparse
import email.utils
import http.server
import socket
import ssl
import sys
import time

OK_BODY = b"# trackwatch test list\n0.0.0.0 tracker.example\n0.0.0.0 ads.example\n"
OK_MTIME = 1735689600  # 2025-01-01 00:00:00 UTC


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        sys.stderr.write("fetch-server: " + (fmt % args) + "\n")

    def send_body(self, body, status=200, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location):
        self.send_body(b"moved\n", 302, [("Location", location)])

    def do_GET(self):
        path, _, query = self.path.partition("?")
        opts = self.server.opts
        if path == "/ok.txt":
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    when = email.utils.parsedate_to_datetime(ims).timestamp()
                except (TypeError, ValueError):
                    when = None
                if when is not None and when >= OK_MTIME:
                    self.send_response(304)
                    self.end_headers()
                    return
            self.send_body(OK_BODY, headers=[
                ("Content-Type", "text/plain"),
                ("Last-Modified", email.utils.formatdate(OK_MTIME, usegmt=True))])
        elif path == "/big":
            self.send_body(b"x" * opts.big_bytes)
        elif path == "/big-nolength":
            self.send_response(200)
            self.end_headers()
            chunk = b"y" * 65536
            left = opts.big_bytes
            try:
                while left > 0:
                    n = min(left, len(chunk))
                    self.wfile.write(chunk[:n])
                    left -= n
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the client gave up at its limit, as it should
        elif path == "/404":
            self.send_body(b"not here\n", 404)
        elif path == "/redirect":
            self.redirect("/ok.txt")
        elif path == "/loop":
            self.redirect("/loop")
        elif path == "/goto":
            self.redirect(query)
        elif path == "/slow":
            time.sleep(opts.slow_seconds)
            try:
                self.send_body(b"late\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/ua":
            self.send_body(self.headers.get("User-Agent", "").encode())
        else:
            self.send_body(b"unknown path\n", 404)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET

    def __init__(self, opts, context):
        self.opts = opts
        self.context = context
        super().__init__(("127.0.0.1", 0), Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.context is not None:
            # The handshake runs in the handler thread, on first read.
            sock = self.context.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError)):
            return  # a client hanging up or refusing our certificate: expected in tests
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true", help="plain HTTP, no TLS")
    ap.add_argument("--big-bytes", type=int, default=2 << 20)
    ap.add_argument("--slow-seconds", type=float, default=10.0)
    opts = ap.parse_args()
    context = None
    if not opts.plain:
        if not opts.cert or not opts.key:
            ap.error("--cert and --key are needed without --plain")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(opts.cert, opts.key)
    server = Server(opts, context)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
