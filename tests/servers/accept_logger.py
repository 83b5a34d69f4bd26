#!/usr/bin/env python3
"""A server qbench did not write, for checking qbench against: one
connection at a time, a pause before each accept(), and a line per accept
in its own log: "<CLOCK_MONOTONIC seconds> <peer address> <peer port>".
It installs no SIGTERM handler on purpose (pid 1 of a PID namespace then
ignores SIGTERM unless something forwards it).

usage: accept_logger.py HOST PORT BACKLOG DELAY_MS LOG"""
import socket
import sys
import time


def main():
    host, port, backlog, delay_ms, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4]), sys.argv[5]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, port))
    lsock.listen(backlog)
    with open(log, "a", buffering=1) as out:
        while True:
            time.sleep(delay_ms / 1000.0)
            conn, peer = lsock.accept()
            out.write("%.6f %s %d\n" % (time.monotonic(), peer[0], peer[1]))
            conn.settimeout(0.2)
            try:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except OSError:
                pass
            conn.close()


if __name__ == "__main__":
    main()
