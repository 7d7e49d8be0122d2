"""Where a lake lives: a local path or an object-store URL, parsed once.

`--warehouse` takes a local path, `s3://bucket/prefix` (S3 and S3-compatible stores: MinIO,
R2, ...), `gs://bucket/prefix`, or `az://container/prefix` / `abfss://container@account...`.
Credentials never pass through here: delta-rs and obstore read each cloud's standard
environment variables and profiles themselves (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`,
`GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_STORAGE_ACCOUNT_KEY`, ...). The only option this
module derives is whether plain http is allowed, which it is only to a loopback endpoint.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warehouse.errors import InvalidLocation

OBJECT_SCHEMES = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gs",
    "gcs": "gs",
    "az": "az",
    "azure": "az",
    "abfs": "az",
    "abfss": "az",
}
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class LakeLocation:
    """A lake root: `uri` is an absolute local path or an object-store URL without a
    trailing slash; `cloud` is "local", "s3", "gs" or "az"."""

    uri: str
    cloud: str
    allow_http: bool = field(default=False, repr=False)

    @classmethod
    def parse(cls, text: str | Path, env: Mapping[str, str] | None = None) -> LakeLocation:
        """Parse `--warehouse`; `env` supplies the endpoint variables (plain http only to a
        loopback endpoint). InvalidLocation says what to fix."""
        raw = str(text).strip()
        if not raw:
            raise InvalidLocation("the warehouse is empty; give a directory or an s3:// URL")
        scheme = urlsplit(raw).scheme.lower() if "://" in raw else ""
        if scheme in ("", "file"):
            path = Path(raw.removeprefix("file://")).expanduser().resolve()
            return cls(str(path), "local")
        cloud = OBJECT_SCHEMES.get(scheme)
        if cloud is None:
            known = ", ".join(sorted({f"{s}://" for s in OBJECT_SCHEMES}))
            raise InvalidLocation(
                f"unsupported warehouse URL scheme {scheme!r}; use a path, {known}"
            )
        parts = urlsplit(raw)
        if not parts.netloc:
            raise InvalidLocation(f"warehouse URL {raw!r} names no bucket or container")
        if parts.query or parts.fragment:
            raise InvalidLocation("put credentials and options in the environment, not the URL")
        return cls(raw.rstrip("/"), cloud, _allow_http(cloud, env or {}))

    @property
    def is_local(self) -> bool:
        return self.cloud == "local"

    @property
    def local_path(self) -> Path | None:
        """The root as a local directory, or None on object storage."""
        return Path(self.uri) if self.is_local else None

    def join(self, key: str) -> str:
        """The URI of `key` (a relative POSIX path) under the root."""
        return f"{self.uri}/{key}" if key else self.uri

    def delta_options(self) -> dict[str, str]:
        """Storage options for delta-rs (never credentials: those stay in the environment)."""
        return {"AWS_ALLOW_HTTP": "true"} if self.allow_http else {}

    def __str__(self) -> str:
        return self.uri


def _allow_http(cloud: str, env: Mapping[str, str]) -> bool:
    if cloud != "s3":
        return False
    endpoint = next((env[v] for v in ENDPOINT_VARIABLES if env.get(v)), None)
    if endpoint is None:
        return False
    parts = urlsplit(endpoint)
    if parts.scheme != "http":
        return False
    if not _is_loopback(parts.hostname or ""):
        raise InvalidLocation(
            f"the S3 endpoint {parts.scheme}://{parts.hostname} uses plain http; "
            "use https (plain http is allowed only to a loopback endpoint)"
        )
    return True
