// A Node http server whose handler blocks the event loop for 20 ms per
// request (a synchronous wait, as CPU-bound or sync I/O code does): 50
// requests/s at most, the rest waits. node slow_node.js HOST PORT BACKLOG
// listens with that backlog (Node's default is 511). Between two handler
// runs libuv accepts everything the kernel has queued, so the queue that
// grows is Node's own, in user space; the backlog only bounds what arrives
// while a batch of handlers runs. (No braces in this file: server.files
// would read them as placeholders.)
"use strict";
const http = require("http");
const [host, port, backlog] = process.argv.slice(2);
const cell = new Int32Array(new SharedArrayBuffer(4));
const server = http.createServer((req, res) =>
    (Atomics.wait(cell, 0, 0, 20), res.end("qbench\n")));
server.listen(Number(port), host, Number(backlog));
process.on("SIGTERM", () => process.exit(0));
