"""``dsshare sandbox``: run the sandbox in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

from .control import TOKEN_ENV, TOKEN_HEADER, is_loopback, is_wildcard
from .seeds import SEEDS
from .server import Sandbox, SandboxError


def _regions(text: str) -> list[str]:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise argparse.ArgumentTypeError("--regions needs at least one Region, e.g. us-east-1,eu-west-1")
    return regions


def _non_negative(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from err
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value
    return parse


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the AWS-faithful Directory Service sharing sandbox",
        description="Run moto's server extended with the Directory Service sharing API, "
        "seeded with an organization, on loopback, until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; other interfaces only if you ask)")
    parser.add_argument("--port", type=_non_negative(int), default=4566,
                        help="port to listen on; 0 picks a free one (default 4566)")
    parser.add_argument("--seed", choices=sorted(SEEDS), default="demo", help="world to start with")
    parser.add_argument("--accounts", type=_non_negative(int), help="scale seed: member accounts")
    parser.add_argument("--regions", type=_regions, help="comma-separated Regions")
    parser.add_argument("--directories", type=_non_negative(int), help="scale seed: owner directories")
    parser.add_argument("--shares", type=_non_negative(int), help="scale seed: share records")
    parser.add_argument("--latency-ms", type=_non_negative(float), default=0.0,
                        help="latency added to every AWS call")
    parser.add_argument("--jitter-ms", type=_non_negative(float), default=0.0,
                        help="random +/- jitter on the latency")
    parser.add_argument("--transition-delay", type=_non_negative(float), default=0.2,
                        help="seconds each transitional share status lasts (default 0.2)")
    parser.add_argument("--manifest", help="write the JSON manifest to this path")
    parser.add_argument("--log-requests", action="store_true", help="log one line per request")
    parser.set_defaults(handler=run)


def export_lines(sandbox: Sandbox) -> list[str]:
    """Shell lines that point boto3 and the AWS CLI at the sandbox (dummy credentials)."""
    lines = [
        f"export AWS_ENDPOINT_URL={sandbox.endpoint_url}",
        "export AWS_ACCESS_KEY_ID=sandbox",
        "export AWS_SECRET_ACCESS_KEY=sandbox",
        f"export AWS_DEFAULT_REGION={sandbox.regions[0]}",
    ]
    if sandbox.control_token:
        lines.append(f"export {TOKEN_ENV}={sandbox.control_token}")
    return lines


def exposure_warning(host: str, port: int, token: str | None) -> str:
    """What listening beyond loopback exposes, said plainly (several lines)."""
    where = "every interface of this machine" if is_wildcard(host) else host
    return "\n".join(
        [
            f"WARNING: the sandbox listens on {where} (port {port}), not only on loopback.",
            "  Anyone who can reach this port can:",
            "  - call the AWS emulator (Directory Service, Organizations, STS, IAM, ...) with",
            "    any credentials: read and change the sandbox's directories, shares and",
            "    organization;",
            "  - drive the control API (/_dsshare/: reset the world, inject faults, read the",
            f"    request log) if they also hold its token, sent as the {TOKEN_HEADER} header:",
            f"      {token}",
            "  Nothing here is real AWS, but keep the port off untrusted networks; the",
            "  default --host 127.0.0.1 exposes nothing.",
        ]
    )


def run(args: argparse.Namespace) -> int:
    try:
        sandbox = Sandbox(
            seed=args.seed, host=args.host, port=args.port, regions=args.regions,
            transition_delay=args.transition_delay, latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms, accounts=args.accounts, directories=args.directories,
            shares=args.shares, log_requests=args.log_requests,
        ).start()
    except (SandboxError, ValueError, OSError) as err:
        print(f"dsshare sandbox: {err}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        port = int(sandbox.endpoint_url.rsplit(":", 1)[1])
        print(exposure_warning(args.host, port, sandbox.control_token), file=sys.stderr)

    def stop(signum: int, frame: object) -> None:
        sandbox.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    manifest = sandbox.manifest
    print(f"dsshare sandbox ({args.seed} seed) listening on {sandbox.endpoint_url}"
          + ("" if is_loopback(args.host) else f" (bound to {args.host})"))
    print(f"  organization {manifest['organization_id']}, management account "
          f"{manifest['management_account_id']}, {len(manifest['accounts'])} accounts, "
          f"{len(manifest['directories'])} directories, {len(manifest['shares'])} shares")
    if args.manifest:
        print(f"  manifest: {sandbox.write_manifest(args.manifest)}")
    else:
        print(json.dumps(manifest, indent=2, sort_keys=True))
    print("Point boto3 and the AWS CLI at it with:")
    for line in export_lines(sandbox):
        print(f"  {line}")
    print("Stop with Ctrl-C.", flush=True)
    sandbox.serve_forever()
    print("dsshare sandbox stopped.", flush=True)
    return 0
