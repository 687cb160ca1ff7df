"""A replica whose answers have no length: the body ends when it closes the connection, which it
does right after one write (so its FIN reaches gantry with the last bytes). Listens on $PORT."""
import os
import socketserver


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        path = head.split(b" ", 2)[1]
        body = b"ok" if path == b"/healthz" else b"until close: " + path
        self.request.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
