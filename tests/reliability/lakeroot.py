"""The lake root a reliability test runs against: a local folder or `s3://bucket/lake` on the
session's S3 server. The test reads the lake back by its own means, not the product's: files
with the os module or boto3, plain Parquet with DuckDB (over s3fs for S3), and the product's
DuckDB views only where the views themselves are what is checked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from s3server import S3Server

from warehouse import LakeLocation
from warehouse.query import connect

PREFIX = "lake"


@dataclass
class LakeRoot:
    """Where a lake lives (`kind` is "local" or "s3"), and how the test reads it."""

    kind: str
    uri: str
    path: Path | None = None
    s3: S3Server | None = None
    bucket: str = ""

    @classmethod
    def local(cls, path: Path) -> LakeRoot:
        return cls("local", str(path), path=path)

    @classmethod
    def on_s3(cls, server: S3Server) -> LakeRoot:
        bucket = server.new_bucket()
        return cls("s3", f"s3://{bucket}/{PREFIX}", s3=server, bucket=bucket)

    def __str__(self) -> str:
        return self.uri

    def aws_env(self, endpoint: str | None = None) -> dict[str, str]:
        """The AWS variables a child needs (its endpoint may be a proxy); none when local."""
        if self.s3 is None:
            return {}
        env = self.s3.env()
        if endpoint is not None:
            env["AWS_ENDPOINT_URL"] = endpoint
        return env

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """`UBIOPS_ETL_WAREHOUSE` plus the AWS variables."""
        return {"UBIOPS_ETL_WAREHOUSE": self.uri, **self.aws_env(endpoint)}

    def location(self) -> LakeLocation:
        return LakeLocation.parse(self.uri, self.aws_env())

    # -- objects -----------------------------------------------------------------------------

    def _client(self) -> Any:
        assert self.s3 is not None
        return self.s3.client()

    def list_keys(self, under: str = "") -> list[str]:
        """Every object (file) key under `under`, relative to the root, sorted."""
        if self.path is not None:
            top = self.path / under if under else self.path
            if not top.exists():
                return []
            return sorted(
                p.relative_to(self.path).as_posix() for p in top.rglob("*") if p.is_file()
            )
        assert self.s3 is not None
        prefix = f"{PREFIX}/{under}".rstrip("/") + "/"
        return [k.removeprefix(f"{PREFIX}/") for k in self.s3.keys(self.bucket, prefix)]

    def get(self, key: str) -> bytes | None:
        """The bytes of one object, None if absent."""
        if self.path is not None:
            file = self.path / key
            return file.read_bytes() if file.is_file() else None
        try:
            body = self._client().get_object(Bucket=self.bucket, Key=f"{PREFIX}/{key}")["Body"]
        except Exception as exc:  # botocore's NoSuchKey is generated at run time
            if "NoSuchKey" in type(exc).__name__ or "NoSuchKey" in str(exc):
                return None
            raise
        return bytes(body.read())

    def put(self, key: str, data: bytes) -> None:
        if self.path is not None:
            (self.path / key).parent.mkdir(parents=True, exist_ok=True)
            (self.path / key).write_bytes(data)
            return
        self._client().put_object(Bucket=self.bucket, Key=f"{PREFIX}/{key}", Body=data)

    # -- reading with DuckDB ------------------------------------------------------------------

    def data_glob(self, folder: str) -> str:
        """The README's glob of a table's data files (`project=*` keeps `_delta_log` out)."""
        return f"{self.uri}/{folder}/project=*/**/*.parquet"

    @contextlib.contextmanager
    def plain_duckdb(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A plain DuckDB connection that can read the root (S3 through s3fs)."""
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        if self.s3 is not None:
            import s3fs  # type: ignore[import-untyped]

            env = self.s3.env()
            con.register_filesystem(
                s3fs.S3FileSystem(
                    key=env["AWS_ACCESS_KEY_ID"],
                    secret=env["AWS_SECRET_ACCESS_KEY"],
                    endpoint_url=self.s3.endpoint,
                    use_listings_cache=False,
                    skip_instance_cache=True,
                )
            )
        try:
            yield con
        finally:
            con.close()

    def views(self) -> duckdb.DuckDBPyConnection:
        """The product's DuckDB views of the current table versions."""
        return connect(self.location())
