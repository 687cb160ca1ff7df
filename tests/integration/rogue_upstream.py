"""A replica that misbehaves in the ways real servers do, for proxy fault tests.

On every request it first sends an unsolicited interim response (103 Early Hints), then the
final one, whose body echoes "<METHOD> <path> <body>"; it answers HEAD with a body too (a
protocol violation some servers commit); GET /headers echoes the received header names as JSON;
it closes a kept-alive connection after 1 s idle, as servers with short keep-alive timeouts do;
/bad-chunked answers a chunked body whose first chunk size is not hex, then closes.
Listens on 127.0.0.1:$PORT.
"""
import json
import os
import socket
import socketserver

IDLE_CLOSE_SECONDS = 1.0


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        buffer = b""
        while True:
            conn.settimeout(IDLE_CLOSE_SECONDS)
            try:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
            except socket.timeout:
                return  # idle: close the kept-alive connection
            conn.settimeout(10)
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            while len(buffer) < length:
                buffer += conn.recv(65536)
            body, buffer = buffer[:length], buffer[length:]
            if path == "/bad-chunked":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"zz\r\nnot a chunk\r\n0\r\n\r\n")
                return
            if path == "/headers":
                answer = json.dumps(headers, sort_keys=True).encode()
            else:
                answer = f"{method} {path} ".encode() + body
            conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         + f"Content-Length: {len(answer)}\r\n\r\n".encode() + answer)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(os.environ["PORT"])), Handler) as server:
        server.serve_forever()
