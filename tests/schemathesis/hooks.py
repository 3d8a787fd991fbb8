"""Schemathesis hooks for the portal: bodies that are files (a bundle to
verify, NDJSON or gzip to ingest) are sent as the raw bytes generated."""

import schemathesis
from schemathesis.transport.requests import binary_serializer

schemathesis.serializer("application/zip", "application/gzip", "application/x-ndjson")(
    binary_serializer
)
