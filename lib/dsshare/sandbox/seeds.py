"""Seeded worlds for the sandbox: ``demo``, ``scale`` and ``empty``.

Seeding writes moto's state directly (no HTTP), with moto's random source
seeded first, so every id is the same for the same seed and arguments.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import moto.organizations.utils as org_utils
from moto.ec2.models import ec2_backends
from moto.moto_api._internal import mock_random
from moto.organizations.models import organizations_backends

from .backend import sharing_backends
from .records import REGISTRY, ShareRecord, utcnow

MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's default account: dummy credentials act here
ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_REGIONS = ("us-east-1", "eu-west-1")
PASSWORD = "Sandbox-Passw0rd!"
#: How long before the seed's "now" its directories launched (every share is younger).
SEEDED_DIRECTORY_AGE = dt.timedelta(days=90)  # moto requires one; never a real secret


@contextmanager
def _account_id_is(account_id: str) -> Iterator[None]:
    """Make moto's next CreateAccount use ``account_id`` instead of a random one."""
    original = org_utils.make_random_account_id
    org_utils.make_random_account_id = lambda: account_id
    try:
        yield
    finally:
        org_utils.make_random_account_id = original


@dataclass
class World:
    """Builds a seeded organization and records it in the manifest."""

    regions: list[str]
    management_account_id: str = MANAGEMENT_ACCOUNT_ID
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        org_backend = organizations_backends[self.management_account_id]["aws"]
        org = org_backend.create_organization(region=self.regions[0], FeatureSet="ALL")
        org_backend.enable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
        root_id = org_backend.list_roots()["Roots"][0]["Id"]
        self.manifest = {
            "regions": list(self.regions),
            "management_account_id": self.management_account_id,
            "organization_id": org["Organization"]["Id"],
            "root_id": root_id,
            "role_name": ROLE_NAME,
            "accounts": [{"id": self.management_account_id, "name": "management", "ou_id": root_id}],
            "external_accounts": [],
            "ous": [],
            "directories": [],
            "shares": [],
        }

    @property
    def org_backend(self) -> Any:
        return organizations_backends[self.management_account_id]["aws"]

    def ou(self, name: str, parent_id: str | None = None) -> str:
        parent = parent_id or self.manifest["root_id"]
        ou_id = self.org_backend.create_organizational_unit(ParentId=parent, Name=name)[
            "OrganizationalUnit"
        ]["Id"]
        self.manifest["ous"].append({"id": ou_id, "name": name, "parent": parent})
        return ou_id

    def account(self, account_id: str, name: str, ou_id: str | None = None) -> str:
        with _account_id_is(account_id):
            self.org_backend.create_account(
                AccountName=name, Email=f"{name}@example.com", RoleName=ROLE_NAME
            )
        parent = ou_id or self.manifest["root_id"]
        if ou_id:
            self.org_backend.move_account(
                AccountId=account_id,
                SourceParentId=self.manifest["root_id"],
                DestinationParentId=ou_id,
            )
        self.manifest["accounts"].append({"id": account_id, "name": name, "ou_id": parent})
        return account_id

    def external(self, account_id: str, name: str) -> str:
        self.manifest["external_accounts"].append({"id": account_id, "name": name})
        return account_id

    def directory(self, account_id: str, region: str, name: str, edition: str | None,
                  kind: str = "MicrosoftAD") -> str:
        directory_id = create_directory(account_id, region, name, edition, kind)
        directory = sharing_backends[account_id][region].directories[directory_id]
        # Seeded directories launched long before any share of theirs was made (a share's
        # CreatedDateTime comes after its directory's LaunchTime), in creation order; each
        # took ~25 minutes to become Active.
        # Naive UTC, as moto keeps its own directories' times.
        launched = (utcnow() - SEEDED_DIRECTORY_AGE).replace(tzinfo=None) + dt.timedelta(
            seconds=len(self.manifest["directories"])
        )
        directory.launch_time = launched
        directory.stage_last_updated_date_time = launched + dt.timedelta(minutes=25)
        self.manifest["directories"].append({
            "id": directory_id, "account_id": account_id, "region": region, "name": name,
            "edition": edition, "type": directory.directory_type, "stage": directory.stage,
        })
        return directory_id

    def share(self, directory_id: str, target: str, method: str, status: str,
              notes: str | None = None, age: dt.timedelta = dt.timedelta(days=3)) -> str:
        entry = next(d for d in self.manifest["directories"] if d["id"] == directory_id)
        created = utcnow() - age
        record = ShareRecord(
            shared_directory_id=REGISTRY.new_id(), owner_account_id=entry["account_id"],
            owner_directory_id=directory_id, shared_account_id=target, region=entry["region"],
            method=method, notes=notes, created=created,
            timeline=[(created, "Sharing")],
        )
        record.timeline.append((created + dt.timedelta(minutes=1), status))
        REGISTRY.add(record)
        self.manifest["shares"].append({
            "shared_directory_id": record.shared_directory_id, "owner_directory_id": directory_id,
            "owner_account_id": entry["account_id"], "shared_account_id": target,
            "region": entry["region"], "method": method, "status": status,
        })
        return record.shared_directory_id


def network(account_id: str, region: str) -> dict[str, Any]:
    """A VPC with two subnets in two AZs (what moto requires of a directory), made once."""
    ec2 = ec2_backends[account_id][region]
    for vpc in ec2.describe_vpcs():
        if vpc.cidr_block == "10.20.0.0/16":
            subnets = sorted(ec2.describe_subnets(filters={"vpc-id": [vpc.id]}), key=lambda s: s.cidr_block)
            return {"VpcId": vpc.id, "SubnetIds": [s.id for s in subnets[:2]]}
    vpc = ec2.create_vpc(cidr_block="10.20.0.0/16")
    subnets = [
        ec2.create_subnet(vpc_id=vpc.id, cidr_block=f"10.20.{i}.0/24",
                          availability_zone=f"{region}{zone}")
        for i, zone in ((1, "a"), (2, "b"))
    ]
    return {"VpcId": vpc.id, "SubnetIds": [s.id for s in subnets]}


def create_directory(account_id: str, region: str, name: str, edition: str | None,
                     kind: str = "MicrosoftAD") -> str:
    """Create a MicrosoftAD (any edition, Hybrid included) or SimpleAD directory in moto."""
    backend = sharing_backends[account_id][region]
    short = name.split(".")[0].upper()[:15]
    common = {"region": region, "name": name, "short_name": short, "password": PASSWORD,
              "description": f"{name} (sandbox)", "vpc_settings": network(account_id, region),
              "tags": []}
    if kind == "MicrosoftAD":
        # moto validates Edition as Standard|Enterprise; Hybrid is set afterwards.
        create_as = "Enterprise" if edition == "Hybrid" else edition
        directory_id = backend.create_microsoft_ad(edition=create_as, **common)
        backend.directories[directory_id].edition = edition
    elif kind == "SimpleAD":
        directory_id = backend.create_directory(size="Small", **common)
    else:
        raise ValueError(f"kind must be MicrosoftAD or SimpleAD, got {kind!r}")
    return str(directory_id)


def member_id(prefix: int, index: int) -> str:
    """Deterministic 12-digit member account ids: 2000000000NN for the demo."""
    return f"{prefix}{index:011d}"


def seed_empty(regions: Sequence[str]) -> World:
    """An organization with only its management account and no directories."""
    return World(list(regions))


DEMO_OUS = [("Infrastructure", None), ("Workloads", None), ("Prod", "Workloads"),
            ("Dev", "Workloads"), ("Sandbox", None)]
DEMO_ACCOUNTS = [
    ("shared-services", "Infrastructure"), ("network", "Infrastructure"),
    ("log-archive", "Infrastructure"), ("prod-app1", "Prod"), ("prod-app2", "Prod"),
    ("prod-data", "Prod"), ("dev-app1", "Dev"), ("dev-app2", "Dev"), ("dev-data", "Dev"),
    ("sandbox-alice", "Sandbox"), ("sandbox-bob", "Sandbox"), ("sandbox-carol", "Sandbox"),
]
EXTERNAL_PARTNER = "999900000001"


def seed_demo(regions: Sequence[str]) -> World:
    """A management account, 12 members in 5 OUs, 5 directories and a spread of shares."""
    if len(regions) < 2:
        raise ValueError("the demo seed needs at least 2 Regions")
    world = World(list(regions))
    ous: dict[str, str] = {}
    for name, parent in DEMO_OUS:
        ous[name] = world.ou(name, ous[parent] if parent else None)
    ids = {name: world.account(member_id(2, i), name, ous[ou])
           for i, (name, ou) in enumerate(DEMO_ACCOUNTS, start=1)}
    world.external(EXTERNAL_PARTNER, "partner (outside the organization)")
    mgmt, home, other = world.management_account_id, regions[0], regions[1]
    corp = world.directory(mgmt, home, "corp.example.com", "Standard")
    global_ = world.directory(mgmt, home, "global.example.com", "Enterprise")
    world.directory(mgmt, other, "corp-eu.example.com", "Standard")
    services = world.directory(ids["shared-services"], home, "services.example.com", "Enterprise")
    world.directory(mgmt, home, "legacy.example.com", None, kind="SimpleAD")
    world.share(corp, ids["prod-app1"], "ORGANIZATIONS", "Shared")
    world.share(corp, ids["prod-app2"], "ORGANIZATIONS", "Shared")
    world.share(corp, ids["dev-app1"], "ORGANIZATIONS", "Deleted")
    notes = "Domain join for workloads. Contact identity-team@example.com."
    world.share(services, ids["prod-data"], "HANDSHAKE", "Shared", notes)
    world.share(services, ids["dev-app2"], "HANDSHAKE", "PendingAcceptance", notes,
                age=dt.timedelta(days=9))
    world.share(services, ids["dev-data"], "HANDSHAKE", "Rejected", notes)
    world.share(services, EXTERNAL_PARTNER, "HANDSHAKE", "PendingAcceptance", notes,
                age=dt.timedelta(days=1))
    world.share(global_, ids["sandbox-alice"], "HANDSHAKE", "PendingAcceptance",
                "Try the global forest.", age=dt.timedelta(hours=5))
    return world


def check_scale(accounts: int = 300, directories: int = 20, shares: int = 2000) -> None:
    """Raise ValueError unless the scale seed can build this world.

    Called before any state is touched (moto's state is process-wide), so a bad
    size never leaves a half-reset sandbox, nor a ZeroDivisionError from 0 directories.
    """
    if accounts < 2:
        raise ValueError("the scale seed needs at least 2 accounts")
    if shares and directories < 1:
        raise ValueError("the scale seed needs at least 1 directory to hold shares")
    if shares > directories * (accounts - 1):
        raise ValueError(
            f"{shares} shares do not fit: each of the {directories} directories can be shared "
            f"with at most the {accounts - 1} other member accounts"
        )


def seed_scale(regions: Sequence[str], accounts: int = 300, directories: int = 20,
               shares: int = 2000) -> World:
    """``accounts`` members in 10 OUs, ``directories`` Enterprise owners, ``shares`` records.

    Directories are spread over the first members and the Regions; share records
    go round-robin to other members with a realistic status mix.
    """
    check_scale(accounts, directories, shares)
    world = World(list(regions))
    ou_ids = [world.ou(f"Unit-{n:02d}") for n in range(min(10, accounts))]
    members = [world.account(member_id(3, i), f"member-{i:05d}", ou_ids[i % len(ou_ids)])
               for i in range(1, accounts + 1)]
    owners = []
    for n in range(directories):
        owner = members[n % len(members)]
        region = regions[n % len(regions)]
        owners.append(world.directory(owner, region, f"dir{n:03d}.scale.example.com", "Enterprise"))
    statuses = ["Shared"] * 6 + ["PendingAcceptance", "Deleted", "Rejected", "Shared"]
    used: dict[str, set[str]] = {d: set() for d in owners}
    for n in range(shares):
        directory_id = owners[n % len(owners)]
        owner_account = next(d["account_id"] for d in world.manifest["directories"]
                             if d["id"] == directory_id)
        for step in range(len(members)):
            target = members[(n // len(owners) + step) % len(members)]
            if target != owner_account and target not in used[directory_id]:
                break
        else:
            raise ValueError(f"more shares than accounts for directory {directory_id}")
        used[directory_id].add(target)
        status = statuses[n % len(statuses)]
        method = "ORGANIZATIONS" if status == "Shared" and owner_account == world.management_account_id else "HANDSHAKE"
        world.share(directory_id, target, method, status)
    return world


SEEDS: dict[str, Callable[..., World]] = {
    "demo": seed_demo,
    "scale": seed_scale,
    "empty": seed_empty,
}


def seed(name: str, regions: Sequence[str], **options: Any) -> World:
    """Seed ``name`` into freshly reset moto state, deterministically."""
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r}; choose one of {', '.join(SEEDS)}")
    mock_random.seed(zlib.crc32(f"dsshare:{name}".encode()))
    if name == "scale":
        return seed_scale(regions, **options)
    return SEEDS[name](regions)
