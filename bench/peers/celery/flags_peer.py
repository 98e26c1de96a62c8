"""The job system a Python team would pick instead of Flagship: Celery (Debian's
python3-celery 5.2) with Redis as broker and result backend, one task per download.

The task fetches a download's flags concurrently with aiohttp, as the reference program
(seed_flags_asyncio.py) does, and saves `{CC}_{country}.gif` into the folder it is given.
Set up as its best users would, not as the reference's quirks would have it:
  - one event loop and one aiohttp ClientSession per worker process, kept between tasks
    (keep-alive connections to the origin; the reference opens a session per request);
  - GIF and metadata.json of a flag at the same time, every flag of the download at once
    (the connector's default limit of 100 sockets);
  - files written in place with plain open/write, as the reference does.

Run one worker (prefork, one child per core by default):
  CELERY_BROKER_URL=redis://HOST:6379/1 /usr/bin/python3 -m celery -A flags_peer worker \
      --pool=prefork --loglevel=WARNING --without-gossip --without-mingle --without-heartbeat
from this folder (bench/src/celery-peer.ts starts them like that); client.py submits.
"""
import asyncio
import os
import time

import aiohttp
from celery import Celery

BROKER_URL = os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/1')

app = Celery('flags_peer', broker=BROKER_URL, backend=BROKER_URL)
app.conf.update(
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    # Results are read once by the client; a day of them is plenty.
    result_expires=86400,
    broker_connection_retry_on_startup=True,
    # A worker log line per task is not what is measured.
    worker_hijack_root_logger=False,
    worker_redirect_stdouts=False,
)

_runtime = {}


def _loop_and_session():
    """The worker process's own event loop and HTTP session, made on its first task.

    Made lazily inside the prefork child, never in the parent: a session must not cross
    a fork.
    """
    if 'loop' not in _runtime:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def make_session():
            return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

        _runtime['loop'] = loop
        _runtime['session'] = loop.run_until_complete(make_session())
    return _runtime['loop'], _runtime['session']


async def _download_one(session, base_url, dest_dir, code):
    cc = code.lower()

    async def gif():
        async with session.get(f'{base_url}/{cc}/{cc}.gif') as response:
            response.raise_for_status()
            return await response.read()

    async def country():
        async with session.get(f'{base_url}/{cc}/metadata.json') as response:
            response.raise_for_status()
            return (await response.json())['country']

    image, name = await asyncio.gather(gif(), country())
    with open(os.path.join(dest_dir, f'{code.upper()}_{name}.gif'), 'wb') as file_handle:
        file_handle.write(image)
    return code


async def _download_many(session, base_url, dest_dir, codes):
    os.makedirs(dest_dir, exist_ok=True)
    done = await asyncio.gather(*(_download_one(session, base_url, dest_dir, code) for code in codes))
    return len(done)


@app.task(name='flags_peer.download')
def download(codes, base_url, dest_dir):
    """One download: every code fetched concurrently and saved; returns the count and time."""
    loop, session = _loop_and_session()
    started = time.perf_counter()
    saved = loop.run_until_complete(_download_many(session, base_url, dest_dir, codes))
    return {'saved': saved, 'seconds': time.perf_counter() - started, 'pid': os.getpid()}


@app.task(name='flags_peer.ping')
def ping():
    return os.getpid()
