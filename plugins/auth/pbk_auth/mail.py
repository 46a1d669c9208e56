"""The auth mails, in the collection's PocketBase templates, sent through the ``mailer`` service.

Without a mailer plugin the flows answer all the same and the unsent mail is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pbk_sdk import App
from pbk_sdk.interfaces import CollectionInfo

from . import tokens
from .services import mailer

log = logging.getLogger("pbk.auth")

#: Mails that carry a token ``{TOKEN}``: token type -> (the collection option holding the
#: template, the kind ``mail_send`` handlers see in ``meta["template"]``).
TOKEN_MAILS = {
    "verification": ("verificationTemplate", "verification"),
    "passwordReset": ("resetPasswordTemplate", "password-reset"),
    "emailChange": ("confirmEmailChangeTemplate", "email-change"),
}


async def send_template(
    app: App,
    collection: CollectionInfo,
    record: Mapping[str, Any],
    template: Mapping[str, Any] | None,
    kind: str,
    to: str,
    params: Mapping[str, Any],
    *,
    wait: bool = False,
) -> None:
    """Mail ``template`` to ``to``; the template sees the record without its hidden fields.
    With ``wait``, the mail server takes it before this returns (else ``MailNotSent``)."""
    service = mailer(app)
    if service is None:
        log.warning("no mailer plugin loaded: %s mail to %s not sent", kind, to)
        return
    hidden = {f["name"] for f in collection.to_json()["fields"] if f.get("hidden")}
    visible = {name: value for name, value in record.items() if name not in hidden}
    message = service.compose(template or {}, to=[("", to)], params=params, record=visible)
    await service.send(
        message, meta={"template": kind, "collection": collection, "record": visible}, wait=wait
    )


async def mail_token(
    app: App,
    collection: CollectionInfo,
    record: Mapping[str, Any],
    token_type: str,
    *,
    to: str = "",
    claims: Mapping[str, Any] | None = None,
    wait: bool = False,
) -> None:
    """Mint a ``token_type`` token with the record's ``email`` and the extra ``claims`` as
    claims, and mail it to ``to`` (the record's email unless given); ``wait`` as in
    ``send_template``."""
    option, kind = TOKEN_MAILS[token_type]
    email = str(record.get("email", ""))
    token = tokens.mint(record, collection, token_type, extra={"email": email, **(claims or {})})
    await send_template(
        app, collection, record, collection.options.get(option), kind, to or email, {"TOKEN": token},
        wait=wait,
    )
