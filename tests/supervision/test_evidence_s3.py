"""Evidence on S3-compatible storage: a real S3 server (moto's) on loopback, driven through the pages."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import ExifTags, Image

from supervision.models import Evidence
from supervision.services import evidence as services
from tests.conftest import client_for
from tests.supervision.conftest import local, meeting_held
from tests.supervision.test_evidence_upload import sample, upload

KEYS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists():
        pytest.skip("moto_server is not installed (requirements-dev.txt: moto[server])")
    port = _free_port()
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.skip(f"moto_server did not start: {proc.stderr.read().decode(errors='replace')[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.skip("moto_server did not listen within 30 s")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def bucket(s3_endpoint, settings, _evidence_storage):
    import boto3

    name = f"evidence-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
        region_name=KEYS["region_name"],
    )
    client.create_bucket(Bucket=name)
    # The same options settings.py builds from S3_BUCKET and friends.
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                **KEYS,
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
                "location": "evidence",
            },
        },
    }

    def keys():
        return sorted(o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", []))

    def get(key):
        return client.get_object(Bucket=name, Key=key)["Body"].read()

    return {"keys": keys, "get": get}


@pytest.mark.django_db
def test_upload_process_download_and_delete_round_trip_through_s3(
    client, secretary, branch, bucket, _evidence_storage, django_capture_on_commit_callbacks
):
    meeting = meeting_held(branch, start=local(2026, 5, 10, 9), status="held")
    c = client_for(client, secretary)

    response = c.post(
        reverse("supervision:evidence_upload", args=[meeting.pk]),
        {"category": "photo", "files": [upload("gps_DSCN0010.jpg", sample("gps_DSCN0010.jpg"))]},
    )
    assert response.status_code == 302
    photo = Evidence.objects.get()
    [original_key] = bucket["keys"]()
    assert original_key == f"evidence/{photo.original.name}"
    assert bucket["get"](original_key) == sample("gps_DSCN0010.jpg")

    assert services.evidence_process(evidence_id=photo.pk, now=local(2026, 5, 12, 10))
    photo.refresh_from_db()
    assert photo.status == Evidence.Status.READY
    assert photo.gps_latitude is not None
    assert len(bucket["keys"]()) == 3

    download = c.get(reverse("supervision:evidence_file", args=[photo.pk]))
    body = b"".join(download.streaming_content)
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert body == bucket["get"](f"evidence/{photo.file.name}")
    assert not Image.open(io.BytesIO(body)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    thumb = c.get(reverse("supervision:evidence_thumbnail", args=[photo.pk]))
    assert b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"

    with django_capture_on_commit_callbacks(execute=True):
        deleted = c.post(reverse("supervision:evidence_delete", args=[photo.pk]))

    assert deleted.status_code == 302
    assert not Evidence.objects.exists()
    assert bucket["keys"]() == []
    # Nothing went to the local folder meanwhile.
    assert not _evidence_storage.exists() or not any(p.is_file() for p in _evidence_storage.rglob("*"))
