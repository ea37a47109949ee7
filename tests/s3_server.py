"""A local S3-compatible server for tests: moto in server mode on 127.0.0.1, reached over HTTP through botocore
and s3fs exactly as MinIO or AWS would be (no in-process mocking of the client)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def s3_server(monkeypatch: pytest.MonkeyPatch, *buckets: str) -> Iterator[tuple[str, object]]:
    """Start a server on a free port with ``buckets``; yield (endpoint URL, boto3 client). The endpoint and test
    credentials are set in the environment (``AWS_ENDPOINT_URL``...), the way a deployment configures them."""
    boto3 = pytest.importorskip("boto3")
    server_mod = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    import requests

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        # moto keeps its buckets per process, across servers: start every test from an empty store
        requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
        s3fs.S3FileSystem.clear_instance_cache()  # no client cached from an earlier server's endpoint
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)
        yield endpoint, client
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()
