"""moto's standalone server, made faithful where the project depends on it.

1. Requests are applied one at a time: moto checks a condition and then
   writes without a lock, so two concurrent requests could both pass a
   condition only one of them should. Serialising requests (connections stay
   concurrent and keep-alive) makes it as atomic as the services it stands
   for.
2. S3 presigned URLs are verified as S3 verifies them. moto accepts any
   query-signed request, so an upload with the wrong size, type or checksum
   would pass locally and fail deployed. Here the SigV4 query signature is
   recomputed over the headers it signed (content-length, content-type and
   x-amz-checksum-sha256 among them) with the server's credentials, an expired
   URL is refused, and a body that does not match its x-amz-checksum-sha256 is
   refused with BadDigest, as S3 does.

3. SNS platform endpoints keep their CustomUserData among their attributes
   (GetEndpointAttributes returns it, SetEndpointAttributes changes it), and
   "true"/"false" set as text mean what they mean, as in SNS. moto keeps the
   user data apart and would take the text "true" for a disabled endpoint.

moto serves S3 and SNS here; DynamoDB is AWS's own DynamoDB Local. S3's 403
for a missing key (to a caller without s3:ListBucket) is the local IAM
check's answer (local/src/aws_proxy.rs), as it depends on who asks.
"""

import argparse
import base64
import calendar
import hashlib
import hmac
import io
import os
import threading
import time
from urllib.parse import parse_qsl, quote

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

ALGORITHM = "AWS4-HMAC-SHA256"


def s3_error(start_response, status, code, message):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def header_value(environ, name):
    if name == "host":
        return environ.get("HTTP_HOST", "")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH", "")
    if name == "content-type":
        return environ.get("CONTENT_TYPE", "")
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")


def uri_encode(value):
    return quote(value, safe="-_.~")


def expected_signature(environ, params, secret):
    """SigV4 for a query-signed S3 request (payload UNSIGNED-PAYLOAD)."""
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    path = raw_uri.split("?", 1)[0] or "/"
    query = sorted((uri_encode(k), uri_encode(v)) for k, v in params if k != "X-Amz-Signature")
    canonical_query = "&".join(f"{k}={v}" for k, v in query)
    signed = dict(params)["X-Amz-SignedHeaders"].split(";")
    canonical_headers = "".join(f"{h}:{' '.join(header_value(environ, h).split())}\n" for h in signed)
    canonical_request = "\n".join(
        [environ["REQUEST_METHOD"], path, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"]
    )
    amz_date = dict(params)["X-Amz-Date"]
    access_key, date, region, service, terminator = dict(params)["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/{service}/{terminator}"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def drained(environ):
    """Reads the request body so a refused request leaves the connection clean."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def verify_s3(app, secret):
    def checked(environ, start_response):
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        names = dict(params)
        # A browser's CORS preflight (OPTIONS) is not authenticated: S3 answers
        # it from the bucket's CORS rules, whatever its query string says.
        preflight = environ["REQUEST_METHOD"] == "OPTIONS"
        if not preflight and names.get("X-Amz-Algorithm") == ALGORITHM and "/s3/" in names.get("X-Amz-Credential", ""):
            try:
                signed_at = calendar.timegm(time.strptime(names["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
                expires = int(names["X-Amz-Expires"])
                signature = names["X-Amz-Signature"]
                ok = hmac.compare_digest(signature, expected_signature(environ, params, secret))
            except (KeyError, ValueError):
                drained(environ)
                return s3_error(start_response, "400 Bad Request", "AuthorizationQueryParametersError", "Query-string authentication requires the X-Amz-* parameters.")
            expired = time.time() > signed_at + expires
            if expired or not ok:
                drained(environ)
                if expired:
                    return s3_error(start_response, "403 Forbidden", "AccessDenied", "Request has expired")
                return s3_error(start_response, "403 Forbidden", "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
        claimed = environ.get("HTTP_X_AMZ_CHECKSUM_SHA256")
        if environ["REQUEST_METHOD"] == "PUT" and claimed and "aws-chunked" not in environ.get("HTTP_CONTENT_ENCODING", ""):
            body = drained(environ)
            if base64.b64encode(hashlib.sha256(body).digest()).decode() != claimed:
                return s3_error(start_response, "400 Bad Request", "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
        return app(environ, start_response)

    return checked


def sns_endpoints_as_aws_keeps_them() -> None:
    from moto.sns import models

    endpoint = models.PlatformEndpoint
    original_init = endpoint.__init__

    def init(self, account_id, region, application, custom_user_data, token, attributes):
        original_init(self, account_id, region, application, custom_user_data, token, attributes)
        if custom_user_data:
            self.attributes.setdefault("CustomUserData", custom_user_data)

    endpoint.__init__ = init
    original_set = models.SNSBackend.set_endpoint_attributes

    def set_attributes(self, arn, attributes):
        attributes = dict(attributes)
        if isinstance(attributes.get("Enabled"), str):
            attributes["Enabled"] = attributes["Enabled"].lower() == "true"
        updated = original_set(self, arn, attributes)
        if "CustomUserData" in attributes:
            updated.custom_user_data = attributes["CustomUserData"]
        return updated

    models.SNSBackend.set_endpoint_attributes = set_attributes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    sns_endpoints_as_aws_keeps_them()

    app = verify_s3(DomainDispatcherApplication(create_backend_app), os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(args.host, args.port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
