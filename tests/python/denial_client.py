"""A tokenserver client nobody here wrote: Python grpcio over mTLS, with the stock helpers.

Run by tests/tests/foreign_client.rs (in the venv scripts/pyvenv makes). It compiles
proto/tokenservice.proto with grpcio-tools, acts as a VM (identity tokens from the gcpsim metadata
server, as a real VM gets them) and reports, as one JSON object on stdout, what each call answered:

- health: grpc.health.v1 Check of the server and of tokendist.v1.TokenService;
- denial: BeginSession, then GetToken for a VM without an approval; the PERMISSION_DENIED details
  decoded with grpc_status.rpc_status.from_call into a google.rpc.Status whose Any unpacks to a
  tokendist.v1.Denial (its failed check names);
- unauthenticated: GetToken without a token, and with a Basic credential (code, message, and
  whether from_call found details);
- oversized: a 10 MB BeginSession request; metadata: a request with 70 KB of metadata.
The test asserts on the JSON; this script asserts nothing itself.
"""

import argparse
import json
import os
import sys
import tempfile
import urllib.parse
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from grpc_tools import protoc


def compile_protocol(proto_dir, out_dir):
    """tokenservice_pb2 and tokenservice_pb2_grpc, generated now from the repository's proto."""
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{proto_dir}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            os.path.join(proto_dir, "tokenservice.proto"),
        ]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with {code}")
    sys.path.insert(0, out_dir)
    import tokenservice_pb2
    import tokenservice_pb2_grpc

    return tokenservice_pb2, tokenservice_pb2_grpc


def identity_token(metadata_host, audience):
    """A fresh instance identity token (format=full), as a VM asks its metadata server."""
    query = urllib.parse.urlencode({"audience": audience, "format": "full"})
    request = urllib.request.Request(
        f"http://{metadata_host}/computeMetadata/v1/instance/service-accounts/default/identity?{query}",
        headers={"Metadata-Flavor": "Google"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode().strip()


def bearer(token):
    return (("authorization", f"Bearer {token}"),)


def refusal(error):
    """What a failed call said, with its details as the stock helper decodes them."""
    status = rpc_status.from_call(error)
    return {
        "code": error.code().name,
        "message": error.details(),
        "has_details": status is not None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="host:port of tokenserver")
    parser.add_argument("--server-name", required=True, help="the name in its certificate")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--metadata", required=True, help="host:port of the VM's metadata server")
    parser.add_argument("--audience", required=True)
    parser.add_argument("--proto-dir", required=True)
    args = parser.parse_args()

    pb, pb_grpc = compile_protocol(args.proto_dir, tempfile.mkdtemp(prefix="tokendist-pb-"))
    read = lambda path: open(path, "rb").read()
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(args.ca),
        private_key=read(args.key),
        certificate_chain=read(args.cert),
    )
    channel = grpc.secure_channel(
        args.server,
        credentials,
        options=[
            ("grpc.ssl_target_name_override", args.server_name),
            ("grpc.max_send_message_length", -1),
        ],
    )
    grpc.channel_ready_future(channel).result(timeout=20)
    report = {}

    health = health_pb2_grpc.HealthStub(channel)
    report["health"] = {
        service or "(server)": health_pb2.HealthCheckResponse.ServingStatus.Name(
            health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
        )
        for service in ["", "tokendist.v1.TokenService"]
    }

    service = pb_grpc.TokenServiceStub(channel)
    begin = service.BeginSession(
        pb.BeginSessionRequest(client_version="python-grpcio"),
        metadata=bearer(identity_token(args.metadata, args.audience)),
        timeout=20,
    )
    session_audience = f"{args.audience.rstrip('/')}/session/{begin.nonce.hex()}"
    try:
        service.GetToken(
            pb.TokenRequest(session_id=begin.session_id),
            metadata=bearer(identity_token(args.metadata, session_audience)),
            timeout=20,
        )
        report["denial"] = {"code": "OK"}
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)
        denial = {
            "code": error.code().name,
            "message": error.details(),
            "status_code": status.code,
            "status_message": status.message,
            "type_urls": [any_.type_url for any_ in status.details],
        }
        for any_ in status.details:
            if any_.Is(pb.Denial.DESCRIPTOR):
                unpacked = pb.Denial()
                any_.Unpack(unpacked)
                denial["pending_approval"] = unpacked.pending_approval
                denial["checks"] = [
                    {"name": c.name, "outcome": pb.CheckOutcome.Name(c.outcome), "reason": c.reason}
                    for c in unpacked.checks
                ]
        report["denial"] = denial

    for name, metadata in [
        ("no_token", ()),
        ("basic", (("authorization", "Basic YWxpY2U6aHVudGVyMg=="),)),
    ]:
        try:
            service.GetToken(pb.TokenRequest(), metadata=metadata, timeout=20)
            report[name] = {"code": "OK"}
        except grpc.RpcError as error:
            report[name] = refusal(error)

    try:
        service.BeginSession(
            pb.BeginSessionRequest(client_version="x" * (10 * 1024 * 1024)),
            metadata=bearer(identity_token(args.metadata, args.audience)),
            timeout=20,
        )
        report["oversized"] = {"code": "OK"}
    except grpc.RpcError as error:
        report["oversized"] = refusal(error)

    try:
        service.BeginSession(
            pb.BeginSessionRequest(client_version="python-grpcio"),
            metadata=bearer(identity_token(args.metadata, args.audience))
            + (("x-padding", "p" * 70_000),),
            timeout=20,
        )
        report["metadata"] = {"code": "OK"}
    except grpc.RpcError as error:
        report["metadata"] = refusal(error)

    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
