"""The hook implementations of the rate limits plugin."""

from __future__ import annotations

from pbk_sdk import App, PluginInfo, hookimpl
from pbk_sdk.state import StateKey

from .limiter import RateLimiter

PLUGIN = PluginInfo(
    name="ratelimits",
    requires=("auth",),
    description="PocketBase's rateLimits setting, enforced across all workers.",
)
LIMITER: StateKey[RateLimiter] = StateKey("ratelimits.limiter", RateLimiter)


@hookimpl
def pbk_register_middleware(app: App) -> list[RateLimiter]:
    return [app.state[LIMITER]]


@hookimpl
def pbk_startup(app: App) -> None:
    app.state[LIMITER].listen()
