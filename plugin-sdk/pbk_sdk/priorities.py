"""Named event-handler priorities (``app.events.on(name, handler, priority=...)``).

Handlers run lowest first; plugins use these names instead of bare numbers so that the
order between plugins is stated in one place.
"""

#: Observers that must see an event before any handler changes it (recorders, tracing).
OBSERVE = -1000
#: Where handlers run unless they have a reason to be elsewhere.
DEFAULT = 0
#: Just before the default action, once every other handler has set the final values:
#: the files plugin stores uploads here.
STORAGE = 1000
