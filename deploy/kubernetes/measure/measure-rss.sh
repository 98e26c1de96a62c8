#!/usr/bin/env bash
# Measures the resident memory of the api, worker and echo containers of the compose
# stack, idle and at their peak under rss-load.ts: the figures behind the memory requests
# and limits in deploy/kubernetes/base (docs/architecture.md, "Kubernetes").
# Builds the flagship/*:local images and starts containers: on shared machines run it
# under the Docker lock. Reads /proc on the Docker host, so run it there.
#   bash deploy/kubernetes/measure/measure-rss.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

project="flagship-rss-$$"
export API_PORT=0 ECHO_PORT=0 REDIS_PASSWORD="rss$$" API_KEYS='' RATE_LIMIT_MAX=0
trap 'kill "$sampler" 2>/dev/null; docker compose -p "$project" down -v --timeout 30 >/dev/null 2>&1 || true' EXIT
sampler=''

# The node process of a service: with `init: true` the container's first process is
# docker-init, and node is its only child.
node_pid() {
  local init child
  init=$(docker inspect -f '{{.State.Pid}}' "$(docker compose -p "$project" ps -q "$1")")
  read -r child _ <"/proc/$init/task/$init/children"
  echo "${child:?no process under docker-init in $1}"
}

# RssAnon is the process's own memory (heap, buffers): what a memory limit must hold.
# RssFile is the node binary and libraries mapped from the image, shared and reclaimable
# page cache. VmHWM is the peak of their sum since the process started.
memory() {
  awk '/^VmHWM|^VmRSS|^RssAnon|^RssFile/ { printf "%s %.0f MiB  ", $1, $2 / 1024 }' "/proc/$1/status"
}

declare -A pids
report() {
  for service in api worker echo; do
    echo "$1 $service: $(memory "${pids[$service]}")peak RssAnon $(sort -n "$samples/$service" | tail -1 | awk '{ printf "%.0f", $1 / 1024 }') MiB"
  done
}

# The kernel keeps no peak of RssAnon: sample it every 200 ms.
samples=$(mktemp -d)
sample() {
  while :; do
    for service in api worker echo; do
      awk '/^RssAnon/ { print $2 }' "/proc/${pids[$service]}/status" >>"$samples/$service"
    done
    sleep 0.2
  done
}

docker compose -p "$project" up -d --build --wait --quiet-pull >/dev/null
api="http://127.0.0.1:$(docker compose -p "$project" port api 3000 | cut -d: -f2)"
echo_port=$(docker compose -p "$project" port echo 8888 | cut -d: -f2)
for service in api worker echo; do pids[$service]=$(node_pid "$service"); done
sample &
sampler=$!
sleep 5
report idle
# 10,000 idle echo connections need as many descriptors in this process.
(ulimit -n "$(ulimit -Hn)" && node deploy/kubernetes/measure/rss-load.ts "$api" "$echo_port")
report 'after load'
