#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets whose seeds are signed text: POST forms
(post_policy), multipart bodies for the upload endpoint (upload_multipart) and Cognito tokens
with their key sets (cognito_jwt). The formats are those the harnesses in host/fuzz/src read;
the constants (keys, secrets, the signing instant) are theirs too.

Usage: make_seeds.py SEEDS_DIR   (writes SEEDS_DIR/<target>/<name>)
"""

import base64
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# host/fuzz/src/presign.rs and upload.rs
SIGNED_AT = "20260101T000000Z"
DATE = "20260101"
REGION = "local"
POLICY_KEY, POLICY_SECRET = "AKIAFUZZ", "fuzz-secret"
UPLOAD_KEY, UPLOAD_SECRET = "AKIAFUZZUPLOAD", "fuzz-upload-secret"
BOUNDARY = "vodpipe-fuzz-boundary"
# host/fuzz/src/cognito.rs
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_FuzzPool1"
CLIENT_ID = "fuzzclient0123456789abcdef"


def sign(policy_b64: str, secret: str) -> str:
    key = ("AWS4" + secret).encode()
    for part in (DATE, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()


def policy(access_key: str, conditions: list, expiration="2026-01-01T01:00:00.000Z") -> str:
    base = [
        {"bucket": "uploads"},
        *conditions,
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
        {"x-amz-credential": f"{access_key}/{DATE}/{REGION}/s3/aws4_request"},
        {"x-amz-date": SIGNED_AT},
    ]
    return json.dumps({"expiration": expiration, "conditions": base}, separators=(",", ":"))


SHAPES = {
    # What presign_post writes for a vodpipe upload.
    "vodpipe-form": (
        [["eq", "$key", "uploads/video"], ["eq", "$x-amz-meta-user-id", "u1"], ["content-length-range", 1, 104857600]],
        {"key": "uploads/video", "x-amz-meta-user-id": "u1"},
    ),
    "starts-with": (
        [["starts-with", "$key", "uploads/"], ["starts-with", "$Content-Type", "video/"], {"success_action_status": "201"}],
        {"key": "uploads/${filename}", "Content-Type": "video/mp4", "success_action_status": "201"},
    ),
    "simple-conditions": (
        [{"key": "uploads/a"}, ["content-length-range", "0", "10"], ["eq", "$x-amz-meta-title", ""]],
        {"key": "uploads/a", "x-amz-meta-title": "", "x-ignore-me": "1"},
    ),
    "security-token": (
        [["eq", "$key", "uploads/t"], {"x-amz-security-token": "token"}],
        {"key": "uploads/t", "x-amz-security-token": "token"},
    ),
}


def post_policy(out: Path):
    for name, (conditions, fields) in SHAPES.items():
        text = policy(POLICY_KEY, conditions) + "\n--form--\n"
        text += "".join(f"{k}={v}\n" for k, v in fields.items())
        (out / name).write_text(text)
    (out / "expired").write_text(
        policy(POLICY_KEY, [["eq", "$key", "k"]], "2025-12-31T23:59:59.000Z") + "\n--form--\nkey=k\n"
    )
    (out / "bad-signature").write_text(policy(POLICY_KEY, []) + "\n--form--\nkey=k\nx-amz-signature=00\n")
    (out / "not-json").write_text("{\"expiration\":\n--form--\nkey=k\n")


def multipart(fields: dict, filename: str, content: bytes, content_type="video/mp4") -> bytes:
    body = b""
    for name, value in fields.items():
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    body += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return body + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def signed_fields(conditions: list, fields: dict) -> dict:
    text = policy(UPLOAD_KEY, conditions)
    encoded = base64.b64encode(text.encode()).decode()
    return {
        **fields,
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": f"{UPLOAD_KEY}/{DATE}/{REGION}/s3/aws4_request",
        "x-amz-date": SIGNED_AT,
        "policy": encoded,
        "x-amz-signature": sign(encoded, UPLOAD_SECRET),
    }


# Keys the embedded store takes: letters, digits, `-` and `_`.
UPLOAD_SHAPES = {
    "vodpipe-form": (
        [["eq", "$key", "01JFUZZVIDEO"], ["eq", "$x-amz-meta-user-id", "u1"], ["content-length-range", 1, 104857600]],
        {"key": "01JFUZZVIDEO", "x-amz-meta-user-id": "u1"},
        "clip.mp4",
    ),
    "starts-with": (
        [["starts-with", "$key", "up-"], ["starts-with", "$Content-Type", "video/"], {"success_action_status": "201"}],
        {"key": "up-${filename}", "Content-Type": "video/mp4", "success_action_status": "201"},
        "dir/clip",
    ),
    "simple-conditions": (
        [{"key": "a"}, ["content-length-range", "0", "100"], ["eq", "$x-amz-meta-title", ""], {"success_action_status": "200"}],
        {"key": "a", "x-amz-meta-title": "", "x-ignore-me": "1", "success_action_status": "200"},
        "a.mp4",
    ),
    "security-token": (
        [["eq", "$key", "t"], {"x-amz-security-token": "token"}],
        {"key": "t", "x-amz-security-token": "token"},
        "t.mp4",
    ),
}


def upload_multipart(out: Path):
    for name, (conditions, fields, filename) in UPLOAD_SHAPES.items():
        fields = signed_fields(conditions, fields)
        (out / name).write_bytes(multipart(fields, filename, b"\x00\x00\x00\x18ftypmp42" + bytes(16)))
    size_limited = signed_fields([["eq", "$key", "small"], ["content-length-range", 1, 8]], {"key": "small"})
    (out / "too-large").write_bytes(multipart(size_limited, "big.mp4", b"0123456789"))
    (out / "empty-file").write_bytes(multipart(size_limited, "none.mp4", b""))
    (out / "no-file").write_bytes(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--{BOUNDARY}--\r\n'.encode()
    )
    (out / "unsigned").write_bytes(multipart({"key": "x"}, "x.mp4", b"x"))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def cognito_jwt(out: Path):
    keys = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("fuzz-key-1", "fuzz-key-2")}

    def jwk(kid, key):
        numbers = key.public_key().public_numbers()
        return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": int_b64(numbers.n), "e": int_b64(numbers.e)}

    def token(kid, claims, alg="RS256", key=None):
        header = b64url(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = (key or keys[kid]).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{b64url(signature)}"

    # Far in the future, so a replay long after today still sees a live token.
    exp = 4102444800
    claims = {
        "sub": "9a7c5e31-2b4d-4f6a-8c1e-0d3b5f7a9c2e",
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "username": "fuzzer",
        "exp": exp,
        "iat": int(time.time()),
    }
    jwks = json.dumps({"keys": [jwk(kid, key) for kid, key in keys.items()]})
    one_key = json.dumps({"keys": [jwk("fuzz-key-1", keys["fuzz-key-1"])]})
    cases = {
        "valid": (token("fuzz-key-1", claims), jwks),
        "second-key": (token("fuzz-key-2", claims), jwks),
        "unknown-kid": (token("fuzz-key-2", claims), one_key),
        "expired": (token("fuzz-key-1", {**claims, "exp": 1000}), jwks),
        "wrong-issuer": (token("fuzz-key-1", {**claims, "iss": "https://example.com"}), jwks),
        "id-token": (token("fuzz-key-1", {**claims, "token_use": "id", "aud": CLIENT_ID}), jwks),
        "hs256-header": (token("fuzz-key-1", claims, alg="HS256"), jwks),
        "bad-signature": (token("fuzz-key-1", claims)[:-4] + "AAAA", jwks),
        "jwks-odd-entries": (
            token("fuzz-key-1", claims),
            json.dumps({"keys": [jwk("fuzz-key-1", keys["fuzz-key-1"]), {"kty": "EC", "kid": "ec"}, {"kty": "RSA", "kid": "x", "n": "AQAB", "e": "AQAB"}, {**jwk("u", keys["fuzz-key-2"]), "use": "enc"}, 7]}),
        ),
        "not-a-jwt": ("abc", "{}"),
    }
    for name, (tok, key_set) in cases.items():
        (out / name).write_text(f"{tok}\n{key_set}")


def main():
    root = Path(sys.argv[1])
    for target, write in (("post_policy", post_policy), ("upload_multipart", upload_multipart), ("cognito_jwt", cognito_jwt)):
        out = root / target
        out.mkdir(parents=True, exist_ok=True)
        write(out)


if __name__ == "__main__":
    main()
