"""pbk's OAuth2 sign-in plugin: PocketBase's OAuth2 flows and providers (see docs/oauth2.md)."""
