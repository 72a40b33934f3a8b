"""`tenfold sign`: sign script versions on the approver's own machine, with a private key in a local file.

    tenfold sign keygen --out key.pem
    tenfold sign countersign --key old.pem --new-public BASE64
    tenfold sign revoke KEY_ID --key other.pem [--server URL --token TOKEN]
    tenfold sign pending --server URL --token TOKEN
    tenfold sign review VERSION_ID --server URL --token TOKEN
    tenfold sign approve VERSION_ID --key key.pem --server URL --token TOKEN [--yes]
    tenfold sign release-review RELEASE_ID [--file WHEEL] --server URL --token TOKEN
    tenfold sign release-approve RELEASE_ID --key key.pem [--file WHEEL] --server URL --token TOKEN [--yes]

The private key never leaves this machine: only public keys, countersignatures and signatures are
printed or uploaded. `review` and `approve` rebuild the signed document from the fields the server shows
and hash the body here, so what is signed is what was shown, whatever the server claims its hash is. For an
agent release, the wheel is hashed here too: the file you built (`--file`), or the one the server serves,
checked to be a tenfold-agent wheel of the release's version.
No Django and no database: the REST API with the approver's own API token (`--server`/`--token`, or
`TENFOLD_SERVER`/`TENFOLD_TOKEN`).
"""

from __future__ import annotations

import argparse
import email.parser
import io
import ipaddress
import json
import os
import re
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tenfold.automation import signing


class CliError(Exception):
    """A problem to print and exit with status 1."""


def _read_key(path: str) -> Any:
    try:
        return signing.load_private_key(Path(path).read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read the private key {path}: {exc.strerror}") from exc
    except signing.SigningError as exc:
        raise CliError(f"{path}: {exc}") from exc


def _check_server(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CliError(f"the server URL must be https://host[:port]: {url!r}")
    if parts.scheme == "http":
        try:
            loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise CliError("plain http:// would send your API token in clear: use https:// "
                           "(http:// only for a server on this machine)")
    return url.rstrip("/")


class Api:
    """The REST API with the approver's personal token."""

    def __init__(self, server: str | None, token: str | None) -> None:
        server = server or os.environ.get("TENFOLD_SERVER")
        token = token or os.environ.get("TENFOLD_TOKEN")
        if not server or not token:
            raise CliError("name the server and your API token: --server URL --token TOKEN "
                           "(or TENFOLD_SERVER and TENFOLD_TOKEN)")
        self.base = _check_server(server) + "/api/v1"
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310  # nosec B310 - the scheme was checked by _check_server
            self.base + path, data=data, method=method, headers={
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                "Accept": "application/json"})
        try:
            # The scheme was checked by _check_server: https, or http to this machine only.
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read() or b"{}")
            except ValueError:
                detail = {}
            message = detail.get("message") or exc.reason
            errors = detail.get("errors")
            raise CliError(f"the server answered {exc.code}: {message}" + (f" {errors}" if errors else "")) from exc
        except urllib.error.URLError as exc:
            raise CliError(f"cannot reach {self.base}: {exc.reason}") from exc
        return json.loads(raw) if raw else None

    def download(self, path: str) -> bytes:
        """The bytes a GET answers (a release's wheel)."""
        request = urllib.request.Request(  # noqa: S310  # nosec B310 - the scheme was checked by _check_server
            self.base + path, method="GET", headers={"Authorization": f"Bearer {self.token}",
                                                     "Accept": "application/octet-stream"})
        try:
            # The scheme was checked by _check_server: https, or http to this machine only.
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310  # nosec B310
                return bytes(response.read(MAX_WHEEL_BYTES + 1))
        except urllib.error.HTTPError as exc:
            raise CliError(f"the server answered {exc.code} to the download: {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise CliError(f"cannot reach {self.base}: {exc.reason}") from exc


MAX_WHEEL_BYTES = 50 * 1024 * 1024


def rebuild(version: dict[str, Any]) -> tuple[bytes, str]:
    """The document of a version rebuilt here from its fields, and the body's SHA-256 computed here."""
    body = version["body"]
    document = signing.script_document(
        script_id=version["script_id"], number=version["number"], language=version["language"], body=body,
        parameters=version["parameters"], timeout_seconds=version["timeout_seconds"],
        os_families=version["os_families"])
    return document, signing.sha256_hex(body)


def _describe(version: dict[str, Any], out: Any) -> bytes:
    document, body_hash = rebuild(version)
    print(f"Script {version['script_id']} \"{version['script_name']}\", version {version['number']} "
          f"({version['status']})", file=out)
    print(f"Language: {version['language']}   Systems: {', '.join(version['os_families'])}   "
          f"Timeout: {version['timeout_seconds']} s", file=out)
    print("Parameters:", file=out)
    if not version["parameters"]:
        print("  (none)", file=out)
    for parameter in version["parameters"]:
        extra = []
        if parameter.get("required"):
            extra.append("required")
        if "default" in parameter:
            extra.append(f"default {json.dumps(parameter['default'])}")
        if parameter.get("choices"):
            extra.append("choices " + ", ".join(parameter["choices"]))
        print(f"  TF_{parameter['name'].upper()}: {parameter['type']} \"{parameter['label']}\""
              + (f" ({'; '.join(extra)})" if extra else ""), file=out)
    print(f"Body SHA-256 (computed here): {body_hash}", file=out)
    print(f"Document SHA-256 (computed here): {signing.sha256_hex(document)}", file=out)
    if document.decode("utf-8") != version.get("document"):
        print("WARNING: the server's document differs from the one rebuilt here; the one rebuilt here is "
              "what would be signed, and the server will refuse the signature.", file=out)
    print("----- body -----", file=out)
    print(version["body"], end="" if version["body"].endswith("\n") else "\n", file=out)
    print("----- end of body -----", file=out)
    return document


def wheel_identity(data: bytes) -> tuple[str, str]:
    """The package name and version a wheel's METADATA declares, read here; CliError when it is no wheel."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            if len(names) != 1:
                raise CliError("the file is not a wheel: it has no single *.dist-info/METADATA")
            headers = email.parser.HeaderParser().parsestr(archive.read(names[0]).decode("utf-8"))
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError) as exc:
        raise CliError(f"the file is not a wheel: {exc}") from exc
    return str(headers.get("Name") or ""), str(headers.get("Version") or "")


def release_rebuild(release: dict[str, Any], data: bytes) -> bytes:
    """The document of a release rebuilt here from the wheel's bytes (hash and size computed here), after
    checking that the wheel is the tenfold-agent package of the release's version."""
    name, version = wheel_identity(data)
    if re.sub(r"[-_.]+", "-", name).lower() != signing.RELEASE_PACKAGE or version != release["version"]:
        raise CliError(f"the wheel is {name} {version}, not {signing.RELEASE_PACKAGE} {release['version']}")
    return signing.release_document(version=release["version"], file_name=release["file_name"],
                                    sha256=signing.sha256_hex(data), size=len(data))


def _release_bytes(api: Api, release: dict[str, Any], path: str | None) -> bytes:
    if path:
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    return api.download(f"/agent-releases/{release['id']}/file")


def _describe_release(release: dict[str, Any], data: bytes, source: str, out: Any) -> tuple[bytes, bool]:
    document = release_rebuild(release, data)
    digest = signing.sha256_hex(data)
    print(f"Agent release {release['id']}: tenfold-agent {release['version']} ({release['status']})", file=out)
    print(f"File: {release['file_name']} ({source})", file=out)
    print(f"Size (counted here): {len(data)} bytes", file=out)
    print(f"SHA-256 (computed here): {digest}", file=out)
    print(f"Document SHA-256 (computed here): {signing.sha256_hex(document)}", file=out)
    same = document.decode("utf-8") == release.get("document")
    if not same:
        print(f"WARNING: the server's document differs from the one rebuilt here (the server says SHA-256 "
              f"{release.get('sha256')}, {release.get('size')} bytes): this is not the file it would serve; "
              "do not sign.", file=out)
    print("----- notes -----", file=out)
    print(release.get("notes") or "(none)", file=out)
    print("----- end of notes -----", file=out)
    return document, same


def cmd_keygen(args: argparse.Namespace) -> int:
    private = signing.generate_private_key()
    path = Path(args.out)
    try:
        # Exclusive creation, readable by its owner only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise CliError(f"{path} exists: choose another file (a key is never overwritten)") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(signing.private_key_pem(private))
    public = signing.public_key_of(private)
    print(f"Private key written to {path} (keep it on this machine; back it up offline).")
    print(f"Key id: {signing.key_id_of(public)}")
    print(f"Public key (register it in Tenfold): {public}")
    return 0


def cmd_countersign(args: argparse.Namespace) -> int:
    private = _read_key(args.key)
    try:
        new_id = signing.key_id_of(args.new_public)
    except signing.SigningError as exc:
        raise CliError(f"--new-public: {exc}") from exc
    signature = signing.sign(private, signing.key_document(new_id, args.new_public.strip()))
    endorser = signing.key_id_of(signing.public_key_of(private))
    print(json.dumps({"public_key": args.new_public.strip(), "key_id": new_id, "countersigned_by": endorser,
                      "countersignature": signature}, indent=2))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    private = _read_key(args.key)
    revoker = signing.key_id_of(signing.public_key_of(private))
    if revoker == args.key_id:
        raise CliError("a key cannot revoke itself: sign the revocation with another active key")
    signature = signing.sign(private, signing.revocation_document(args.key_id))
    if args.server or os.environ.get("TENFOLD_SERVER"):
        api = Api(args.server, args.token)
        keys = api.call("GET", "/signing-keys?page_size=500")["items"]
        target = next((k for k in keys if k["key_id"] == args.key_id), None)
        if target is None:
            raise CliError(f"no key {args.key_id} on the server")
        api.call("POST", f"/signing-keys/{target['id']}/revoke", {"revoked_by": revoker, "signature": signature})
        print(f"Key {args.key_id} revoked (revocation signed by {revoker}).")
        return 0
    print(json.dumps({"key_id": args.key_id, "revoked_by": revoker, "signature": signature}, indent=2))
    return 0


def cmd_pending(args: argparse.Namespace) -> int:
    api = Api(args.server, args.token)
    page = api.call("GET", "/script-versions/pending?page_size=500")
    releases = api.call("GET", "/agent-releases/pending?page_size=500")
    if not page["items"] and not releases["items"]:
        print("Nothing awaits your signature.")
    for version in page["items"]:
        print(f"{version['id']}\t{version['script_name']} v{version['number']}\t{version['language']}\t"
              f"{', '.join(version['os_families'])}")
    # Releases are marked so that their ids are never taken for script versions' (release-review ID).
    for release in releases["items"]:
        print(f"release {release['id']}\ttenfold-agent {release['version']}\t{release['file_name']}\t"
              f"{release['size']} bytes\tSHA-256 {release['sha256']}")
    return 0


def cmd_release_review(args: argparse.Namespace) -> int:
    api = Api(args.server, args.token)
    release = api.call("GET", f"/agent-releases/{args.release_id}")
    data = _release_bytes(api, release, args.file)
    _describe_release(release, data, args.file or "downloaded from the server", sys.stdout)
    return 0


def cmd_release_approve(args: argparse.Namespace) -> int:
    private = _read_key(args.key)
    api = Api(args.server, args.token)
    release = api.call("GET", f"/agent-releases/{args.release_id}")
    data = _release_bytes(api, release, args.file)
    document, same = _describe_release(release, data, args.file or "downloaded from the server", sys.stdout)
    if not same:
        raise CliError("not signed: the file checked here is not the release the server holds")
    if not args.yes:
        answer = input("Sign this release? Type yes to sign: ").strip().lower()
        if answer != "yes":
            print("Not signed.")
            return 1
    key_id = signing.key_id_of(signing.public_key_of(private))
    signature = signing.sign(private, document)
    api.call("POST", f"/agent-releases/{args.release_id}/signatures", {"key_id": key_id, "signature": signature})
    print(f"Signed agent release {release['version']} with {key_id}.")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    version = Api(args.server, args.token).call("GET", f"/script-versions/{args.version_id}")
    _describe(version, sys.stdout)
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    private = _read_key(args.key)
    api = Api(args.server, args.token)
    version = api.call("GET", f"/script-versions/{args.version_id}")
    document = _describe(version, sys.stdout)
    if not args.yes:
        answer = input("Sign this version? Type yes to sign: ").strip().lower()
        if answer != "yes":
            print("Not signed.")
            return 1
    key_id = signing.key_id_of(signing.public_key_of(private))
    signature = signing.sign(private, document)
    api.call("POST", f"/script-versions/{args.version_id}/signatures", {"key_id": key_id, "signature": signature})
    print(f"Signed version {version['number']} of \"{version['script_name']}\" with {key_id}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The `tenfold sign` argument parser."""
    parser = argparse.ArgumentParser(prog="tenfold sign", description="Sign scripts and agent releases on your own "
                                                                      "machine.")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def server_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--server", help="the Tenfold server's URL (or TENFOLD_SERVER)")
        p.add_argument("--token", help="your personal API token (or TENFOLD_TOKEN)")

    keygen = sub.add_parser("keygen", help="create an Ed25519 key pair in a local file; print the public key")
    keygen.add_argument("--out", required=True, help="the private key file to create (never overwritten)")
    keygen.set_defaults(func=cmd_keygen)

    countersign = sub.add_parser("countersign", help="endorse a new public key with a key agents already trust")
    countersign.add_argument("--key", required=True, help="the trusted key's private key file")
    countersign.add_argument("--new-public", required=True, help="the new key's public key (base64)")
    countersign.set_defaults(func=cmd_countersign)

    revoke = sub.add_parser("revoke", help="sign the revocation of a key with another active key")
    revoke.add_argument("key_id", help="the key id to revoke (ed25519:…)")
    revoke.add_argument("--key", required=True, help="another active key's private key file")
    server_options(revoke)
    revoke.set_defaults(func=cmd_revoke)

    pending = sub.add_parser("pending", help="list the script versions and agent releases awaiting signature")
    server_options(pending)
    pending.set_defaults(func=cmd_pending)

    review = sub.add_parser("review", help="show a version: body, parameters, hashes computed here")
    review.add_argument("version_id", type=int)
    server_options(review)
    review.set_defaults(func=cmd_review)

    approve = sub.add_parser("approve", help="sign a version with your key and upload only the signature")
    approve.add_argument("version_id", type=int)
    approve.add_argument("--key", required=True, help="your private key file")
    approve.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    server_options(approve)
    approve.set_defaults(func=cmd_approve)

    release_review = sub.add_parser("release-review", help="show an agent release: version, file, size and "
                                                           "SHA-256 computed here")
    release_review.add_argument("release_id", type=int)
    release_review.add_argument("--file", help="the wheel you built (default: download the server's)")
    server_options(release_review)
    release_review.set_defaults(func=cmd_release_review)

    release_approve = sub.add_parser("release-approve", help="sign an agent release with your key and upload "
                                                             "only the signature")
    release_approve.add_argument("release_id", type=int)
    release_approve.add_argument("--key", required=True, help="your private key file")
    release_approve.add_argument("--file", help="the wheel you built (default: download the server's)")
    release_approve.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    server_options(release_approve)
    release_approve.set_defaults(func=cmd_release_approve)
    return parser


def main(argv: Sequence[str]) -> int:
    """Entry point of `tenfold sign`."""
    args = build_parser().parse_args(list(argv))
    try:
        status: int = args.func(args)
    except CliError as exc:
        print(f"tenfold sign: {exc}", file=sys.stderr)
        return 1
    return status
