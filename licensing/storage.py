"""Where documents are kept, and how the permission-checked download hands them out.

Settings (config/settings.py, "Storage"): on local disk by default; in an
S3-compatible bucket when DOCUMENTS_S3_BUCKET is set. The API's download view
checks who may see the application first, then calls `document_response`:

- from a bucket: a 302 to a presigned URL, valid DOCUMENTS_URL_SECONDS, that
  makes the bucket answer with our content type and an attachment disposition;
- from local disk with DOCUMENTS_X_ACCEL=true: an empty answer whose
  X-Accel-Redirect names nginx's internal location for the file (nginx sends it;
  no client can ask for that location itself: deploy/nginx/licensing.conf);
- otherwise the file itself, streamed by Django.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import boto3
from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from licensing.models import Document


class DocumentS3Storage(S3Storage):
    """django-storages' S3 backend that can presign for the address clients reach.

    Inside a compose network the app talks to http://minio:9000, which no browser
    can resolve: with `public_endpoint_url` set, download URLs are signed for that
    address instead (signing needs no request to the server).
    """

    def __init__(self, **options):
        super().__init__(**options)
        self._public_clients = threading.local()

    def get_default_settings(self):
        return {**super().get_default_settings(), "public_endpoint_url": None}

    def url(self, name, parameters=None, expire=None, http_method=None):
        if not self.public_endpoint_url:
            return super().url(name, parameters, expire, http_method)
        params = {
            **(parameters or {}),
            "Bucket": self.bucket_name,
            "Key": self._normalize_name(clean_name(name)),
        }
        return self._public_client().generate_presigned_url(
            "get_object",
            Params=params,
            ExpiresIn=self.querystring_expire if expire is None else expire,
            HttpMethod=http_method,
        )

    def _public_client(self):
        client = getattr(self._public_clients, "client", None)
        if client is None:
            session: boto3.Session = self._create_session()
            client = session.client(
                "s3",
                region_name=self.region_name,
                endpoint_url=self.public_endpoint_url,
                config=self.client_config,
            )
            self._public_clients.client = client
        return client


def is_local(storage) -> bool:
    """Whether the storage keeps files on this machine's disk (it has paths)."""
    try:
        storage.path("")
    except NotImplementedError:
        return False
    return True


def document_response(document: Document) -> HttpResponseBase:
    """The download of a document the caller was already found allowed to see."""
    storage = document.file.storage
    disposition = content_disposition_header(as_attachment=True, filename=document.display_name)
    if not is_local(storage):
        url = storage.url(
            document.file.name,
            parameters={
                "ResponseContentType": document.content_type,
                "ResponseContentDisposition": disposition,
            },
            expire=settings.DOCUMENTS_URL_SECONDS,
        )
        response: HttpResponseBase = HttpResponseRedirect(url)
    elif settings.DOCUMENTS_X_ACCEL:
        response = HttpResponse(content_type=document.content_type)
        response["X-Accel-Redirect"] = settings.DOCUMENTS_X_ACCEL_PREFIX + quote(document.file.name)
        response["Content-Disposition"] = disposition
    else:
        response = FileResponse(
            document.file.open("rb"),
            content_type=document.content_type,
            as_attachment=True,
            filename=document.display_name,
        )
    # A link that lets whoever holds it read the file: never cached, never shared on.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
