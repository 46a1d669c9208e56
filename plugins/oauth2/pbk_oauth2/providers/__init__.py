"""The providers PocketBase ships, one module each, registered in this distribution's
``pbk.oauth2_providers`` entry points (see ``pbk_sdk.oauth2``)."""
