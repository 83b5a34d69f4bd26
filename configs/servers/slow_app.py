# A WSGI app that takes 50 ms per request, served by gunicorn's sync worker:
# one request at a time, so the worker takes a connection off the accept
# queue only every 50 ms (20/s). Anything faster queues in the backlog.
# (qbench copies this file into the run point's {dir}; it has no braces,
# which qbench would read as placeholders.)
import time


def app(environ, start_response):
    time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
    return [b"qbench\n"]
