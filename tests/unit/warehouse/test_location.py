"""`--warehouse` takes a path or an object-store URL; plain http only to loopback."""

from pathlib import Path

import pytest

from warehouse import InvalidLocation, LakeLocation


def test_a_relative_path_becomes_an_absolute_local_root(tmp_path, monkeypatch):
    """A path is resolved once, so a Prefect worker started elsewhere writes the same lake."""
    monkeypatch.chdir(tmp_path)
    location = LakeLocation.parse("lake")
    assert location.is_local
    assert location.uri == str(tmp_path / "lake")
    assert location.local_path == Path(tmp_path / "lake")
    assert LakeLocation.parse(f"file://{tmp_path}/lake") == location


@pytest.mark.parametrize(
    ("text", "cloud"),
    [
        ("s3://bucket/prefix/", "s3"),
        ("s3a://bucket/p", "s3"),
        ("gs://bucket/p", "gs"),
        ("az://container/p", "az"),
        ("abfss://container@account.dfs.core.windows.net/p", "az"),
    ],
)
def test_object_store_urls_are_recognised(text, cloud):
    """Each cloud's URL schemes map to its store; a trailing slash is dropped."""
    location = LakeLocation.parse(text)
    assert location.cloud == cloud
    assert not location.is_local
    assert location.local_path is None
    assert not location.uri.endswith("/")
    assert location.join("logs") == location.uri + "/logs"


def test_plain_http_is_allowed_to_a_loopback_endpoint_only():
    """An S3-compatible server on loopback may speak http; anywhere else it must be https."""
    assert LakeLocation.parse("s3://b/p", {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}).allow_http
    assert LakeLocation.parse("s3://b/p", {"AWS_ENDPOINT_URL": "http://localhost:9"}).allow_http
    secure = LakeLocation.parse("s3://b/p", {"AWS_ENDPOINT_URL": "https://minio.example.com"})
    assert not secure.allow_http
    assert secure.delta_options() == {}
    with pytest.raises(InvalidLocation, match="https"):
        LakeLocation.parse("s3://b/p", {"AWS_ENDPOINT_URL": "http://minio.example.com:9000"})


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("ftp://host/x", "unsupported"),
        ("s3://", "bucket"),
        ("s3://b/p?secret=x", "environment"),
        ("  ", "empty"),
    ],
)
def test_bad_locations_say_what_to_fix(text, fix):
    """An unknown scheme, a missing bucket or options in the URL are refused with a hint."""
    with pytest.raises(InvalidLocation, match=fix):
        LakeLocation.parse(text)
