# A single-threaded Python HTTP server taking 20 ms per request (50/s), with
# the listen backlog qbench passes: python3 slow_http.py HOST PORT BACKLOG.
# (Copied into the run point's {dir} by server.files; no braces inside, as
# qbench would read them as placeholders.)
import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.02)
        body = b"qbench\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.HTTPServer):
    request_queue_size = int(sys.argv[3])


Server((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
