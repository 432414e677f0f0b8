"""Voila's identity provider for the console app, so a closed page takes its kernel with it.

Voila's page asks the server to shut its kernel down when it closes (a ``beforeunload``
beacon carrying the ``_xsrf`` cookie). Voila sets that cookie on no page it serves, so
with a token the beacon is refused (403, XSRF) and each closed page left a kernel running.
This provider sets the cookie on every authenticated page load; the XSRF check stays on.
``serve.start_voila`` selects it with ``--Voila.identity_provider_class``.
"""

from __future__ import annotations

from typing import Any

from voila.voila_identity_provider import VoilaIdentityProvider  # type: ignore[import-untyped]

__all__ = ["ConsoleIdentityProvider"]


class ConsoleIdentityProvider(VoilaIdentityProvider):  # type: ignore[misc]
    """Voila's token identity provider that also issues the ``_xsrf`` cookie on a page load."""

    async def _get_user(self, handler: Any) -> Any:
        user = await super()._get_user(handler)
        if user is not None and handler.request.method == "GET" and not handler._headers_written:
            handler.current_user = user  # what jupyter_server sets next; tornado reads it here
            handler.xsrf_token  # noqa: B018 - reading it sets the _xsrf cookie
        return user
