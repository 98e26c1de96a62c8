// How the harness measures, printed into RESULTS.md so the table carries its own method.
export const METHOD = `
Everything runs on this machine in one \`npm run bench\`, Flagship and the reference program in
the same run, alternating run by run (the order flips every run), against the same origin.

- **Origin.** nginx 1.22 from Debian (own configuration under \`bench/.work/nginx\`, 127.0.0.1 only,
  one worker process, keep-alive, access log off) serves the Flagship origin service's generated
  data set (250 real flags, 200×150 GIF + \`metadata.json\`) at the flupy.org paths. The
  all-countries scenario is repeated against the Flagship origin service itself as a second,
  reported row.
- **Flagship** runs as in production: Redis from \`$REDIS_IMAGE\` (AOF on, \`noeviction\`, as in
  docker-compose.yml) reached at the container's own address (no docker-proxy), and the API and
  the worker(s) as their own Node processes (\`node services/*/src/main.ts\`) with default
  settings (chunks of 25 flags, 4 chunk jobs and 25 flags at once per worker) and
  \`LOG_LEVEL=warn\`. Workers are restarted fresh for every scenario.
- **Flagship's time** is measured by the client: from before \`POST /v1/downloads\` to the
  \`completed\` event of \`GET /v1/downloads/:id/events\`; then the files on disk are counted (every
  requested flag must be there, and the completed download must report every flag saved).
- **The reference program** (\`shared/baselines/seed_flags_asyncio.py\`, \`/usr/bin/python3\` with
  Debian's aiohttp) runs as a fresh process per run with \`BASE_URL\` and \`DEST_DIR\`, codes as
  arguments. Its printed elapsed time (start-up and imports excluded) is what the ratios use: the
  conservative choice, since Flagship's time includes an HTTP round trip and an event stream.
  Its process wall time is reported beside it.
- **Cold runs.** Each program's downloads folder is emptied just before each of its runs, so both
  create every file (Flagship's store skips writing a file that already has the same bytes; a
  warm repeat would flatter it). Both folders are on the same file system (see Machine).
- **Statistics.** Warm-up runs first (not recorded), then the measured runs; medians, min–max,
  and p95 by nearest rank (an observed value). Ratios are ratios of medians; the run-by-run
  ratio of the paired runs is reported too.
- **Redis commands per flag** come from \`INFO commandstats\` (reset before each run; commands
  run inside BullMQ's Lua scripts count) divided by the flags of the download.
- **Sustained.** All downloads are POSTed at once and followed to \`completed\`; flags/s is all
  flags over the wall time of the batch. They write the same 250 names into one folder, so
  after the first copy most writes are skipped as unchanged. Worker peak memory is \`VmHWM\` of
  each worker process (peak resident set since its start) at the end of the scenario.
- **Intake.** No worker runs. autocannon (own process, 10 connections) POSTs \`{}\` (the
  reference's 20 codes, which fit one chunk: the API adds one job). The raw BullMQ baselines
  keep 10 adds in flight from the harness process: \`Queue.add\` of exactly the job the API
  adds, and \`FlowProducer.add\` of the same codes as a flow (a parent and one chunk, the
  shape of larger downloads). Redis is flushed before every run; the variants rotate.
- **Compose stack** (rows starting "compose:"). The real \`docker-compose.yml\` under a project
  of the harness's own (\`flagship-bench-<pid>\`), with \`bench/compose/bench.override.yml\` on top
  (image names of its own, nothing else), started after the host-process scenarios (its idle
  healthchecks would take CPU from them). \`ORIGIN_URL\` points the worker at the same nginx, at
  the Docker bridge's address (a second \`server\` that logs each request's time);
  \`API_PORT=127.0.0.1:0\` publishes the API on a free port, which the client uses (through
  docker-proxy, as users do). \`REDIS_PASSWORD\` is set by the harness (the api, the workers,
  the harness and the Celery peer all send it) and \`API_KEYS\` is empty, so the API runs open,
  as the compose file starts with nothing set. LOG_LEVEL is the compose file's default (info). Workers are
  recreated (\`up --force-recreate --scale worker=N\`) for each worker count.
- **Rounds.** Every program of a row group runs once per round, one after another, the order
  shifting each round: Flagship compose (published port), the same stack's API at its
  container address (no docker-proxy), the same services as host processes, the reference, and
  the Celery peer. Ratios are computed round by round ("speed ratio, run by run": the other's
  time ÷ Flagship's compose time) and reported as median with quartiles (q1–q3); the compose
  targets use those medians, except the 20-code latency target (p50 ÷ the reference's median
  printed time, as stated).
- **Cold and warm on the compose stack.** Cold: the downloads volume is emptied from the host
  (Docker's mount point of it) before each Flagship run, and the reference's and the Celery
  peer's folders (a second volume, same file system) before theirs. Warm: nothing is emptied;
  Flagship finds the same bytes and skips the write, the reference and Celery overwrite in
  place.
- **Timeline** of a compose download, on one clock (containers share the host's): the POST sent
  (client), the job added, taken by a worker and finished (BullMQ's \`timestamp\`,
  \`processedOn\` of the single job or earliest chunk, \`finishedOn\`, read from Redis), the
  worker's first request and last response (nginx's \`$msec\` − \`$request_time\`, ms
  resolution), and the \`completed\` event at the client.
- **CPU per download** is read around each run: all threads of each process
  (\`/proc/<pid>/task/*/schedstat\`: the worker's and API's node processes, inside the containers
  or not, docker-proxy, nginx) and Redis's container cgroup. The worker's CPU profile
  (\`--cpu-prof\` added to the image's own command, a folder mounted for it) keeps only the
  samples between the first and the last profiled download (V8 and the harness share
  CLOCK_MONOTONIC). The idle stack's CPU is each container's cgroup (healthchecks included)
  over a quiet interval.
- **Celery peer** (\`bench/peers/celery\`): Debian's Celery 5.2 on the compose stack's Redis
  (database 1), 1 or 2 \`celery worker --pool=prefork\` processes (one pool child per core)
  on the host, one task per download fetching the flags concurrently with aiohttp. A
  long-lived Python client times submit → result (\`delay()\` → \`get()\`, which waits on the
  Redis backend's pub/sub; a batch: first \`delay()\` → \`ResultSet.get()\`).
- **Sustained on the compose stack**: all downloads POSTed at once and each followed over its
  own event stream through the published port; Celery: the same number of tasks sent at
  once. Both write into one emptied folder. Worker memory: \`VmHWM\` of the node process in
  each worker container at the end.
`;
