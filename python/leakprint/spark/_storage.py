"""S3-compatible object storage for the Spark jobs, through boto3.

Spark's own ``s3a://`` file system needs the ``hadoop-aws`` jar and the
AWS SDK bundle, which pyspark does not ship (only ``hadoop-client-api``
and ``-runtime``) and which come from Maven, not PyPI. The Python layer
does the transfers instead: it needs only ``boto3`` from PyPI and works
with any Spark, any S3-compatible server (``AWS_ENDPOINT_URL_S3`` or
``LEAKPRINT_S3_ENDPOINT`` names a non-AWS endpoint; credentials as boto3
finds them).

- **Input** ``s3://bucket/prefix``: the driver lists the objects (no
  content is read there) and plans pieces from their sizes; each task
  downloads its piece's objects into a local scratch folder and builds
  from there. The index records each file as its URI.
- **Output** ``s3://bucket/prefix``: each task builds its piece locally and
  uploads the segment and its key counts under their final names (a PUT
  is atomic: a retried task puts the same bytes under the same names);
  the reduce downloads the key counts; the driver commits in a local
  staging copy, then uploads the state, shard folders if any, and
  ``manifest.json`` last: the manifest object is the commit point, as the
  manifest file is on a disk. Objects the new manifest no longer names are
  deleted after it.
- **Matching** ``--index s3://...``: each Python worker downloads the
  index once into a local cache (named by the manifest's contents, so a
  new commit is fetched anew) and maps it from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from typing import Any, Dict, List, Optional, Tuple

SCHEME = "s3://"
MANIFEST = "manifest.json"

# Names an index folder holds (segments, key counts, state files, shard
# folders, the manifest): what an upload replaces and a commit may delete.
_INDEX_NAME = re.compile(
    r"^(manifest\.json|seg-\d+-\d+\.lp[sk]|state-\d+\.lpst|shard-\d{6}-\d{3}/.*)$"
)


def is_s3(location: Any) -> bool:
    """Whether ``location`` is an ``s3://`` URI."""
    return isinstance(location, str) and location.startswith(SCHEME)


def split(uri: str) -> Tuple[str, str]:
    """``s3://bucket/a/b`` -> (``bucket``, ``a/b``), without a trailing slash."""
    rest = uri[len(SCHEME) :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{uri}: no bucket in the URI")
    return bucket, prefix.strip("/")


def endpoint(explicit: Optional[str] = None) -> Optional[str]:
    """The S3 endpoint: ``explicit``, else ``LEAKPRINT_S3_ENDPOINT``, else
    boto3's own resolution (``AWS_ENDPOINT_URL_S3``, AWS)."""
    return explicit or os.environ.get("LEAKPRINT_S3_ENDPOINT") or None


def client(endpoint_url: Optional[str] = None):
    """A boto3 S3 client for ``endpoint_url`` (see ``endpoint``)."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint(endpoint_url))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def list_objects(uri: str, endpoint_url: Optional[str] = None) -> List[Tuple[str, int]]:
    """Every object under ``uri`` (a prefix, or one object) as (URI, size),
    sorted by key; folder markers (keys ending in ``/``) left out."""
    bucket, prefix = split(uri)
    s3 = client(endpoint_url)
    out: List[Tuple[str, int]] = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for o in page.get("Contents", []):
            key = o["Key"]
            if key.endswith("/"):
                continue
            # `prefix` names a folder or one object, never a longer name.
            if prefix and key != prefix and not key.startswith(prefix + "/"):
                continue
            out.append((f"{SCHEME}{bucket}/{key}", int(o["Size"])))
    out.sort()
    if not out:
        raise FileNotFoundError(f"{uri}: no objects there")
    return out


def download(s3, uri: str, dest: str) -> None:
    """Download the object ``uri`` to the file ``dest`` (written under a
    temporary name, then renamed)."""
    bucket, key = split(uri)
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    tmp = f"{dest}.part-{os.getpid()}"
    s3.download_file(bucket, key, tmp)
    os.replace(tmp, dest)


def upload(s3, path: str, uri: str) -> None:
    """Upload the file ``path`` as the object ``uri`` (one atomic PUT as
    seen by readers)."""
    bucket, key = split(uri)
    s3.upload_file(path, bucket, key)


def put_files(s3, folder: str, uri: str, names: List[str]) -> None:
    """Upload ``names`` (paths relative to ``folder``) under ``uri``."""
    for name in names:
        upload(s3, os.path.join(folder, name), _join(uri, name))


def _tree(folder: str) -> List[str]:
    out = []
    for root, _, files in os.walk(folder):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), folder).replace(os.sep, "/")
            if _INDEX_NAME.match(rel):
                out.append(rel)
    return sorted(out)


def publish_index(folder: str, uri: str, endpoint_url: Optional[str] = None, skip=()) -> None:
    """Make the committed index folder ``folder`` the index at ``uri``:
    every file of it except the manifest (those in ``skip`` are there
    already), then ``manifest.json`` last (the commit point), then the
    removal of index objects the new manifest does not name."""
    s3 = client(endpoint_url)
    names = [n for n in _tree(folder) if n != MANIFEST]
    put_files(s3, folder, uri, [n for n in names if n not in set(skip)])
    upload(s3, os.path.join(folder, MANIFEST), _join(uri, MANIFEST))
    keep = set(names) | set(skip) | {MANIFEST}
    bucket, prefix = split(uri)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=_join(prefix, ""))
    for page in pages:
        for o in page.get("Contents", []):
            rel = o["Key"][len(_join(prefix, "")) :]
            if _INDEX_NAME.match(rel) and rel not in keep:
                s3.delete_object(Bucket=bucket, Key=o["Key"])


def read_manifest(uri: str, endpoint_url: Optional[str] = None, s3=None) -> Optional[bytes]:
    """The bytes of ``uri``'s ``manifest.json``, or None when there is none."""
    s3 = s3 or client(endpoint_url)
    bucket, prefix = split(uri)
    try:
        return s3.get_object(Bucket=bucket, Key=_join(prefix, MANIFEST))["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def fetch_index(uri: str, cache: Optional[str] = None, endpoint_url: Optional[str] = None) -> str:
    """A local copy of the index at ``uri`` (the files its manifest names,
    and its shards'), in a cache folder named by the manifest's contents;
    returns the folder. A copy already there is reused."""
    s3 = client(endpoint_url)
    manifest = read_manifest(uri, s3=s3)
    if manifest is None:
        raise FileNotFoundError(f"{uri}: no {MANIFEST} (not an index)")
    digest = hashlib.sha256(uri.encode() + b"\0" + manifest).hexdigest()[:24]
    root = cache or os.path.join(tempfile.gettempdir(), "leakprint-s3-cache")
    local = os.path.join(root, digest)
    if os.path.exists(os.path.join(local, MANIFEST)):
        return local
    work = tempfile.mkdtemp(prefix=f"{digest}.", dir=_mkdir(root))
    _fetch_folder(s3, uri, work, json.loads(manifest))
    with open(os.path.join(work, MANIFEST), "wb") as f:
        f.write(manifest)
    try:
        os.rename(work, local)
    except OSError:
        pass  # another process of this host fetched it first
    return local


def _mkdir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path


def _fetch_folder(s3, uri: str, local: str, m: Dict[str, Any]) -> None:
    names = [s["file"] for s in m.get("segments", [])]
    if m.get("state"):
        names.append(m["state"])
    for name in names:
        download(s3, _join(uri, name), os.path.join(local, name))
    for shard in m.get("shards", []):
        sub = _join(uri, shard)
        body = read_manifest(sub, s3=s3)
        if body is None:
            raise FileNotFoundError(f"{sub}: no {MANIFEST}")
        folder = os.path.join(local, shard)
        os.makedirs(folder, exist_ok=True)
        _fetch_folder(s3, sub, folder, json.loads(body))
        with open(os.path.join(folder, MANIFEST), "wb") as f:
            f.write(body)
