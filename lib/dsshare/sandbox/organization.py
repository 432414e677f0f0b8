"""What the sharing API needs to know about Organizations, read from moto's state."""

from __future__ import annotations

from dataclasses import dataclass

from moto.organizations.models import organizations_backends

DS_PRINCIPAL = "ds.amazonaws.com"


@dataclass(frozen=True)
class OrgFacts:
    """The organization an account belongs to, as ShareDirectory sees it."""

    organization_id: str | None
    management_account_id: str | None
    feature_set: str | None
    trusted_access: bool
    member_ids: frozenset[str]


def _management_backend(account_id: str):  # type: ignore[no-untyped-def]
    backend = organizations_backends[account_id]["aws"]
    if backend.org is not None:
        return backend
    owner = organizations_backends.master_accounts.get(account_id)
    if owner is None:
        return None
    return organizations_backends[owner[0]][owner[1]]


def org_facts(account_id: str) -> OrgFacts:
    """Facts about the organization ``account_id`` belongs to (empty if none)."""
    backend = _management_backend(account_id)
    if backend is None or backend.org is None:
        return OrgFacts(None, None, None, False, frozenset())
    return OrgFacts(
        organization_id=backend.org.id,
        management_account_id=backend.org.master_account_id,
        feature_set=backend.org.feature_set,
        trusted_access=any(s["ServicePrincipal"] == DS_PRINCIPAL for s in backend.services),
        member_ids=frozenset(a.id for a in backend.accounts),
    )
