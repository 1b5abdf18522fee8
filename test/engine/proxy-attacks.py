#!/usr/bin/env python3
"""Requests a filtering HTTP proxy must survive, sent raw to the Docker API proxy.

Run inside the supervisor's container (the only one that reaches the proxy):
    proxy-attacks.py HOST PORT API_VERSION TARGET_CONTAINER IMAGE
Every attack hides a request that would leave a trace in the engine's event stream if it got
through: a container create (named fleet-attack-*), an exec in TARGET_CONTAINER, or an image
pull. Prints one JSON object: attack name -> the status lines the proxy answered, in order.
"""
import json
import re
import socket
import sys

HOST, PORT, V, TARGET, IMAGE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
CREATE_BODY = json.dumps({"Image": IMAGE, "Cmd": ["true"], "Labels": {"fleet.attack": "1"}})


def req(method, target, body="", version="HTTP/1.1", headers=()):
    head = [f"{method} {target} {version}", "Host: docker", *headers]
    if body and not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return "\r\n".join(head) + "\r\n\r\n" + body


def create(name, method="POST", prefix=""):
    return req(method, f"{prefix}/{V}/containers/create?name={name}", CREATE_BODY, headers=("Content-Type: application/json",))


EXEC = req("POST", f"/{V}/containers/{TARGET}/exec", json.dumps({"Cmd": ["true"]}), headers=("Content-Type: application/json",))
PULL = req("POST", f"/{V}/images/create?fromImage=fleet-attack/none&tag=latest")
SMUGGLED = create("fleet-attack-smuggled")
ZERO_CHUNK = "0\r\n\r\n"
CHUNK = f"{len(SMUGGLED):x}\r\n{SMUGGLED}\r\n0\r\n\r\n"

ATTACKS = {
    # CL.TE: the proxy reading Content-Length would forward the create as the body's tail.
    "cl-te": req("GET", f"/{V}/_ping", ZERO_CHUNK + SMUGGLED, headers=(f"Content-Length: {len(ZERO_CHUNK + SMUGGLED)}", "Transfer-Encoding: chunked")),
    # TE.CL: a back end reading Content-Length: 4 would take the chunk's remainder as a request.
    "te-cl": req("POST", f"/{V}/containers/fleet-attack-none/restart", CHUNK, headers=("Content-Length: 4", "Transfer-Encoding: chunked")),
    "te-obfuscated": req("GET", f"/{V}/_ping", CHUNK, headers=(f"Content-Length: {len(CHUNK)}", "Transfer-Encoding: chunked", "Transfer-Encoding: identity")),
    "te-underscore": req("GET", f"/{V}/_ping", SMUGGLED, headers=(f"Content-Length: {len(SMUGGLED)}", "Transfer_Encoding: chunked")),
    # A whole request as the body of an allowed one, and one pipelined after it.
    "request-in-body": req("GET", f"/{V}/containers/json", SMUGGLED),
    "pipelined": req("GET", f"/{V}/_ping") + create("fleet-attack-pipelined") + EXEC,
    "encoded-slash": req("POST", f"/{V}/containers/x%2F..%2F..%2Fcontainers%2Fcreate/restart"),
    "encoded-dots": req("GET", f"/{V}/containers/%2e%2e%2fimages%2fjson/json"),
    "dot-segments": create("fleet-attack-dots", prefix=f"/{V}/_ping/.."),
    "dot-segments-restart": req("POST", f"/{V}/containers/../../{V}/images/create/restart?fromImage=fleet-attack/none"),
    "double-slash": req("POST", f"/{V}/containers//create"),
    "http10": create("fleet-attack-http10").replace("HTTP/1.1", "HTTP/1.0", 1),
    "http10-allowed": req("GET", f"/{V}/_ping", version="HTTP/1.0"),
    "lower-case-post": create("fleet-attack-lower", method="post"),
    "lower-case-get": req("get", f"/{V}/containers/json"),
    "absolute-form": create("fleet-attack-absolute", prefix="http://docker"),
    "absolute-form-allowed": req("GET", f"http://docker/{V}/_ping"),
    "oversized-header": req("GET", f"/{V}/_ping", headers=("X-Fill: " + "a" * 12000,)),
    "oversized-create": req("POST", f"/{V}/containers/create?name=fleet-attack-big", CREATE_BODY, headers=("X-Fill: " + "a" * 12000,)),
    "exec": EXEC,
    "pull": PULL,
    "create": create("fleet-attack-plain"),
}


def send(raw: str) -> list:
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.sendall(raw.encode("latin-1"))
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        data += b"<timeout>"
    s.close()
    return re.findall(r"HTTP/1\.[01] \d{3}", data.decode("latin-1"))


print(json.dumps({name: send(raw) for name, raw in ATTACKS.items()}, indent=1, sort_keys=True))
