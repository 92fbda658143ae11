"""The beat scheduler: django-celery-beat's DatabaseScheduler, plus a liveness heartbeat."""

import logging
import time

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django_celery_beat.schedulers import DatabaseScheduler

from .heartbeats import write_beat_heartbeat

logger = logging.getLogger(__name__)


class HeartbeatDatabaseScheduler(DatabaseScheduler):
    """Writes `health:beat` at most once a second from the scheduler loop itself, so a stuck
    loop shows as a stale heartbeat.

    It also loads every enabled crontab task: django-celery-beat leaves out those whose hour is
    more than two hours from now, which would keep a missed daily run from running once on
    recovery (our documented policy) until its hour came round again.
    """

    def __init__(self, *args, **kwargs):
        # Beat is one long-lived process: keep its connection (the web's CONN_MAX_AGE is 0, and
        # the scheduler closes "old" connections on every tick, a new connection each second).
        for connection in connections.all(initialized_only=False):
            connection.settings_dict["CONN_MAX_AGE"] = settings.BEAT_CONN_MAX_AGE
        super().__init__(*args, **kwargs)

    def _get_crontab_exclude_query(self) -> Q:
        return Q(pk__in=[])

    def schedule_changed(self) -> bool:
        # django-celery-beat misses the first change after its change marker row disappeared
        # (the tables were emptied): no previous timestamp reads as "unchanged". Reload then.
        previous = self._last_timestamp
        changed = super().schedule_changed()
        return changed or (previous is None and self._last_timestamp is not None)

    _last_heartbeat = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_heartbeat >= 1.0:
            try:
                write_beat_heartbeat()
                self._last_heartbeat = now
            except Exception:
                logger.warning("Could not write the beat heartbeat", exc_info=True)
        return super().tick(*args, **kwargs)
