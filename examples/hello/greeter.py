"""examples/hello: greeter. GET /greet calls the hello service through the mesh; GET
/stock/<sku> calls the inventory gRPC service through the mesh.

`requests` honours HTTP_PROXY, which gantry points at its mesh listener, so the plain
URL http://hello/ reaches a healthy hello replica. gRPC channels go to GANTRY_MESH with the
service's name as authority; each call is balanced over inventory's replicas on its own.
Messages are encoded by hand (two string fields and an int), to need no generated code here.
Each outgoing call passes on the request's W3C trace context (traceparent, tracestate), as an
instrumented service does, so gantry's spans of both hops join one trace.
"""
import os

import grpc
import requests
from flask import Flask, request

app = Flask(__name__)
inventory = grpc.insecure_channel(os.environ.get("GANTRY_MESH", "127.0.0.1:7701"),
                                  options=[("grpc.default_authority", "inventory")])
get_stock = inventory.unary_unary("/shop.Inventory/Get", request_serializer=None,
                                  response_deserializer=None)


def item(sku):  # shop.Item{sku}: field 1, length-delimited
    data = sku.encode()
    return b"\x0a" + bytes([len(data)]) + data


def stock(message):  # shop.Stock{sku = 1, count = 2, replica = 3}
    fields, i = {}, 0
    while i < len(message):
        key = message[i]
        i += 1
        if key & 7 == 0:  # varint
            value, shift = 0, 0
            while True:
                byte = message[i]
                i += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
        else:  # length-delimited (short here)
            length = message[i]
            value = message[i + 1:i + 1 + length].decode()
            i += 1 + length
        fields[key >> 3] = value
    return fields


def trace_context():
    return {name: request.headers[name] for name in ("traceparent", "tracestate")
            if name in request.headers}


@app.get("/greet")
def greet():
    answer = requests.get("http://hello/", timeout=5, headers=trace_context())
    return f"greeter ({os.environ['GANTRY_INSTANCE']}) got: {answer.text}", answer.status_code


@app.get("/stock/<sku>")
def stock_of(sku):
    try:
        answer = stock(get_stock(item(sku[:100]), timeout=5,
                                 metadata=tuple(trace_context().items())))
    except grpc.RpcError as error:
        return f"inventory failed: {error.code().name}: {error.details()}\n", 502
    return f"{answer.get(1, '')}: {answer.get(2, 0)} in stock (from {answer.get(3, '')})\n"


@app.get("/healthz")
def healthz():
    return "ok\n"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
