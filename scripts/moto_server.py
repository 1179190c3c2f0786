"""moto's standalone server, made faithful where the project depends on it.

1. Requests are applied one at a time. DynamoDB applies a conditional write or
   a transaction atomically; moto checks a condition and then writes without a
   lock, so two concurrent requests could both pass a condition only one of
   them should. Serialising requests (connections stay concurrent and
   keep-alive) makes the local server as atomic as DynamoDB.
2. S3 presigned URLs are verified as S3 verifies them. moto accepts any
   query-signed request, so an upload with the wrong size, type or checksum
   would pass locally and fail deployed. Here the SigV4 query signature is
   recomputed over the headers it signed (content-length, content-type and
   x-amz-checksum-sha256 among them) with the server's credentials, an expired
   URL is refused, and a body that does not match its x-amz-checksum-sha256 is
   refused with BadDigest, as S3 does.
3. A cancelled TransactWriteItems costs what it touched, not the tables.
   moto deep-copies every table a transaction names before applying it and
   swaps the copies in when one condition fails: time and memory grow with
   the data (a soak reached 24 GB and was killed), and the swapped-in copy
   carries a new stream object that a poller's old iterator never sees. Here
   every condition is checked first against the state before the
   transaction, as DynamoDB does (requests are serialised, so nothing changes
   in between); only then are the writes applied, with the touched items and
   stream lengths remembered in case an apply step fails.
4. A GET or HEAD of a missing S3 object answers 403 AccessDenied, not 404:
   S3 answers 404 only to callers allowed s3:ListBucket on the bucket, and no
   function in this template is. Code that treated only 404 as "missing"
   would fail deployed; here it fails the same way.
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


def cheap_transactions():
    """Replaces moto's TransactWriteItems with check-then-apply (see 3. above)."""
    import copy

    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    def key_of(backend, op_type, op):
        if op_type != "Put":
            return op["Key"]
        table = backend.get_table(op["TableName"])
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        return key

    def transact_write_items(self, transact_items):
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        actions, seen = [], set()
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            key = key_of(self, op_type, op)
            unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            actions.append((op_type, op, key))
        # Every condition against the state before the transaction.
        errors, failed = [], False
        for op_type, op, key in actions:
            condition = op.get("ConditionExpression")
            current = self.get_item(op["TableName"], key)
            if condition is not None:
                check = get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
                if not check.expr(current):
                    old = current.to_json()["Attributes"] if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current else None
                    errors.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
                    failed = True
                    continue
            errors.append((None, None, None))
        if failed:
            raise TransactionCanceledException(errors)
        # Apply; should a step fail, put back what was touched.
        touched = []
        for op_type, op, key in actions:
            table = self.get_table(op["TableName"])
            shard = getattr(table, "stream_shard", None)
            touched.append((op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key)), shard, len(shard.items) if shard else 0))
        try:
            for op_type, op, key in actions:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Update":
                    self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"], expression_attribute_names=names, expression_attribute_values=values)
        except Exception:
            for table_name, key, before, shard, length in reversed(touched):
                table = self.get_table(table_name)
                hash_key, range_key = self.get_keys_value(table, key)
                if before is None:
                    try:
                        table.delete_item(hash_key, range_key)
                    except Exception:
                        pass
                else:
                    table.put_item(before.to_json()["Attributes"])
                if shard is not None:
                    del shard.items[length:]
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def is_s3(environ, names):
    credential = names.get("X-Amz-Credential", "") + environ.get("HTTP_AUTHORIZATION", "")
    return "/s3/aws4_request" in credential


def missing_objects_forbidden(app):
    """S3's answer to a caller without s3:ListBucket: 403 for a missing key."""

    def answered(environ, start_response):
        names = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        method = environ["REQUEST_METHOD"]
        object_path = environ.get("PATH_INFO", "/").strip("/").count("/") >= 1
        if method not in ("GET", "HEAD") or not object_path or not is_s3(environ, names):
            return app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = list(app(environ, capture))
        if captured["status"].startswith("404"):
            if method == "HEAD":
                start_response("403 Forbidden", [("Content-Length", "0")])
                return [b""]
            return s3_error(start_response, "403 Forbidden", "AccessDenied", "Access Denied")
        start_response(captured["status"], captured["headers"])
        return body

    return answered


def verify_s3(app, secret):
    def checked(environ, start_response):
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        names = dict(params)
        if names.get("X-Amz-Algorithm") == ALGORITHM and "/s3/" in names.get("X-Amz-Credential", ""):
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    cheap_transactions()

    app = verify_s3(missing_objects_forbidden(DomainDispatcherApplication(create_backend_app)), os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(args.host, args.port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
