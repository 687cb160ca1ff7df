"""A gRPC replica for the proxy tests, with raw-bytes messages (no generated code).

Listens on 127.0.0.1:$PORT; serves grpc.health.v1.Health/Check (SERVING) and test.Echo:
  Echo (unary)          -> b"<instance>:" + request; "fail:<CODE>" aborts with that status;
                           "flaky" fails UNAVAILABLE on instance ...-1 only
  Slow (unary)          request: milliseconds to sleep (ASCII), answers "done" unless cancelled
  Deadline (unary)      -> the time the call has left as this replica sees it, in ms (ASCII)
  Count (server stream) request: n (ASCII) -> n messages b"0" ... b"n-1"
  Chat (bidi stream)    -> each message back, prefixed with b"re:"
"""
import os
import time
from concurrent import futures

import grpc

INSTANCE = os.environ.get("GANTRY_INSTANCE", "echo")


def echo(request, context):
    if request.startswith(b"fail:"):
        context.abort(getattr(grpc.StatusCode, request[5:].decode()), "asked to fail")
    if request == b"flaky" and INSTANCE.endswith("-1"):
        context.abort(grpc.StatusCode.UNAVAILABLE, f"{INSTANCE} is flaky")
    return INSTANCE.encode() + b":" + request


def slow(request, context):
    end = time.monotonic() + int(request) / 1000
    while time.monotonic() < end:
        if not context.is_active():
            return b"cancelled"
        time.sleep(0.01)
    return b"done"


def deadline(request, context):
    left = context.time_remaining()
    return str(-1 if left is None else int(left * 1000)).encode()


def count(request, context):
    for i in range(int(request)):
        yield str(i).encode()


def chat(requests, context):
    for message in requests:
        yield b"re:" + message


def health(request, context):
    return b"\x08\x01"  # HealthCheckResponse{status: SERVING}


def main():
    raw = {"request_deserializer": lambda b: b, "response_serializer": lambda b: b}
    handlers = [
        grpc.method_handlers_generic_handler("test.Echo", {
            "Echo": grpc.unary_unary_rpc_method_handler(echo, **raw),
            "Slow": grpc.unary_unary_rpc_method_handler(slow, **raw),
            "Deadline": grpc.unary_unary_rpc_method_handler(deadline, **raw),
            "Count": grpc.unary_stream_rpc_method_handler(count, **raw),
            "Chat": grpc.stream_stream_rpc_method_handler(chat, **raw),
        }),
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": grpc.unary_unary_rpc_method_handler(health, **raw)}),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                         options=[("grpc.max_receive_message_length", 8 << 20)])
    server.add_generic_rpc_handlers(handlers)
    server.add_insecure_port(f"127.0.0.1:{os.environ['PORT']}")
    server.start()
    server.wait_for_termination()


if __name__ == "__main__":
    main()
