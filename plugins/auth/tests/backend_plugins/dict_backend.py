"""A test plugin: an auth backend that checks identities against a dict (a stand-in for LDAP)."""

from pbk_sdk import PluginInfo, hookimpl

PLUGIN = PluginInfo(name="dict_backend", description="Identities from a dict.")

DIRECTORY = {"grace@corp.test": {"password": "directory-pass", "email": "grace@corp.test", "name": "Grace"}}


class DictBackend:
    async def authenticate(self, collection, identity, password):
        entry = DIRECTORY.get(identity)
        if entry is None or entry["password"] != password:
            return None
        return {"email": entry["email"], "name": entry["name"]}


@hookimpl
def pbk_register_auth_backends(app):
    return {"dict": lambda app: DictBackend()}
