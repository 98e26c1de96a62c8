"""Submits downloads to the Celery peer (flags_peer.py) and times them as a user would:
from before the task is sent to its result in hand, in this one long-lived process.

Driven by bench/src/celery-peer.ts through stdin/stdout, one JSON object a line:
  {"op": "ready", "workers": 2}                    -> {"ok": true, "workers": [...names]}
  {"op": "download", "codes": [...], "base_url": U, "dest": D}
                                                   -> {"seconds": s, "saved": n, "task_seconds": t}
  {"op": "batch", "downloads": 50, "codes": [...], "base_url": U, "dest": D}
                                                   -> {"seconds": s, "saved": n}
  {"op": "quit"}
Errors come back as {"error": "..."}.

Waiting: with the Redis result backend Celery subscribes to the task's result channel
before sending the task, and `get()` blocks on that subscription (redis-py's
get_message(timeout=interval)): a result wakes it at once; `interval` only bounds each
wait. CELERY_PEER_GET_INTERVAL sets it (default 0.01 s instead of Celery's 0.5 s, so a
result backend without native waiting would not hide anything either). A batch waits
with ResultSet.get(), which joins natively on this backend.

By hand: CELERY_BROKER_URL=redis://HOST:6379/1 /usr/bin/python3 client.py, then type lines.
"""
import json
import os
import sys
import time

from celery.result import ResultSet

from flags_peer import app, download, ping

GET_INTERVAL = float(os.environ.get('CELERY_PEER_GET_INTERVAL', '0.01'))
TIMEOUT_S = 120


def ready(request):
    wanted = int(request['workers'])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        names = sorted(name for reply in replies for name in reply)
        if len(names) >= wanted:
            # One task through the whole path (broker, worker, backend) before anything is timed.
            ping.delay().get(timeout=TIMEOUT_S, interval=GET_INTERVAL)
            return {'ok': True, 'workers': names}
        time.sleep(0.2)
    raise TimeoutError(f'{wanted} Celery worker(s) did not answer a ping within 60 s')


def one_download(request):
    started = time.perf_counter()
    result = download.delay(request['codes'], request['base_url'], request['dest'])
    value = result.get(timeout=TIMEOUT_S, interval=GET_INTERVAL)
    seconds = time.perf_counter() - started
    result.forget()
    return {'seconds': seconds, 'saved': value['saved'], 'task_seconds': value['seconds']}


def batch(request):
    started = time.perf_counter()
    results = ResultSet(
        [download.delay(request['codes'], request['base_url'], request['dest']) for _ in range(request['downloads'])]
    )
    values = results.get(timeout=TIMEOUT_S, interval=GET_INTERVAL)
    seconds = time.perf_counter() - started
    results.forget()
    return {'seconds': seconds, 'saved': sum(value['saved'] for value in values)}


OPS = {'ready': ready, 'download': one_download, 'batch': batch}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        if request.get('op') == 'quit':
            break
        try:
            answer = OPS[request['op']](request)
        except Exception as error:  # reported to the harness, which stops the run
            answer = {'error': f'{type(error).__name__}: {error}'}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
