"""gunicorn's configuration: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`.

Sized from the machine's cores unless told otherwise: two processes per core,
each with two threads. A request waits on PostgreSQL and Redis part of the time;
more threads per process only contend for its interpreter lock (`make bench`
served as many requests a second or more with 2 than with 4, for every request
it measures). Every value can be set from the environment (GUNICORN_*).

`make run` serves with this file too (the Procfile binds it to 127.0.0.1:$PORT). With
no DATABASE_URL that is SQLite, which lets one process write at a time: two processes
by default, however many cores the laptop has. Measured with 30 concurrent requests
(the queue page, then 30 logins) on SQLite: all answered, none "database is locked",
with 1, 2 or 4 processes; the logins take as long either way (password hashing fills
the cores).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
_sqlite = not os.environ.get("DATABASE_URL")
workers = int(os.environ.get("GUNICORN_WORKERS", 2 if _sqlite else multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# A worker is replaced after this many requests (a guard against slow leaks). Each
# replacement costs the new worker's start, so at a thousand requests a second a small
# number means a restart every few seconds; the app is loaded once, in the master, and
# a new worker is forked from it.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Behind nginx or a Kubernetes ingress: trust X-Forwarded-* from these addresses only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
