"""The beat scheduler: django-celery-beat's DatabaseScheduler, plus a liveness heartbeat."""

import logging
import time

from django_celery_beat.schedulers import DatabaseScheduler

from .heartbeats import write_beat_heartbeat

logger = logging.getLogger(__name__)


class HeartbeatDatabaseScheduler(DatabaseScheduler):
    """Writes `health:beat` at most once a second from the scheduler loop itself, so a stuck
    loop shows as a stale heartbeat."""

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
