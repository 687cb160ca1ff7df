"""A gRPC server with only grpc.health.v1.Health/Check, for the grpc health check tests.

Listens on 127.0.0.1:$PORT. Its answer comes from the file $HEALTH_FILE: SERVING (also when the
file is missing), NOT_SERVING, or UNIMPLEMENTED (the call fails with that gRPC status).
Messages are written by hand (no generated code): HealthCheckResponse{status = 1} is field 1,
varint.
"""
import os
from concurrent import futures

import grpc

RESPONSES = {"SERVING": b"\x08\x01", "NOT_SERVING": b"\x08\x02"}


def check(request, context):
    path = os.environ.get("HEALTH_FILE", "")
    status = "SERVING"
    if path and os.path.exists(path):
        with open(path) as f:
            status = f.read().strip() or "SERVING"
    if status not in RESPONSES:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "health checks are off")
    return RESPONSES[status]


def main():
    handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(
            check, request_deserializer=lambda b: b, response_serializer=lambda b: b)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{os.environ['PORT']}")
    server.start()
    server.wait_for_termination()


if __name__ == "__main__":
    main()
