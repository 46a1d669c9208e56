"""Local storage on several nodes: the files one node keeps in its data dir are not there for a
node on another host or another data dir, so nodes sharing a PostgreSQL database keep their
files on S3 (or a storage of another plugin). Checked when a node starts (refused: it stops)
and when new settings would turn S3 off (refused: a 400)."""

from __future__ import annotations

from pbk_sdk.interfaces import App


def local_storage_refusal(app: App) -> str | None:
    """Why local storage cannot keep this cluster's files (a live process of it serves another
    data dir, or one on another host), or None when it can."""
    members = app.cluster.members()
    me = members.get(app.cluster.member)
    for other in members.values():
        if me is not None and (other.host, other.data_dir) != (me.host, me.data_dir):
            return (f"local file storage cannot serve several data dirs, and the node on "
                    f"{other.host} serves {other.data_dir}: keep the files on S3 (the s3 settings) "
                    f"to run several nodes")
    return None
