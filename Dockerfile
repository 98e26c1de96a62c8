# One image recipe for every Flagship service; `--target` picks the service.
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
# NODE_IMAGE defaults to the official image; on machines without Docker Hub set it to a
# local one (shared/ci/env.sh exports NODE_IMAGE=offline/node:24).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- production dependencies of all workspaces, installed once and shared by every target
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/runtime/package.json packages/runtime/
COPY packages/common/package.json packages/common/
COPY packages/cli/package.json packages/cli/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
COPY services/origin/package.json services/origin/
COPY services/echo/package.json services/echo/
COPY tests/package.json tests/
COPY bench/package.json bench/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- sources on top of the dependencies; runs as an unprivileged user
FROM deps AS runtime
COPY packages packages
COPY services services
# The downloads volume takes this folder's owner when Docker first creates it.
RUN mkdir -p /downloads && chown 1000:1000 /downloads
ENV DOWNLOADS_DIR=/downloads

FROM runtime AS api
USER 1000:1000
EXPOSE 3000
CMD ["node", "services/api/src/main.ts"]

FROM runtime AS worker
USER 1000:1000
# GC limits: under 50 downloads of 250 flags at once a worker peaked at ~380 MB with V8's
# defaults, nearly all garbage (live heap ~36 MB after a full GC): a 64 MB semi-space and
# an old space left to grow to ~110 MB before collecting. With these flags it peaks at
# 170-177 MB, for 13-26% fewer flags/s in that sustained batch (bench/, shared 2-core
# machine). The old space leaves 3x room over the live heap at the default concurrency;
# raise it with WORKER_CONCURRENCY x FLAG_CONCURRENCY (compose `command:` overrides this
# line; NODE_OPTIONS would not, command-line flags win). bench/ starts its workers with
# the flags of this CMD.
CMD ["node", "--max-semi-space-size=16", "--max-old-space-size=128", "services/worker/src/main.ts"]

FROM runtime AS origin
# Real flag images, rendered from the flag-icons SVGs at image build time.
RUN node services/origin/scripts/generate-flags.ts /app/services/origin/data
ENV ORIGIN_DATA_DIR=/app/services/origin/data
USER 1000:1000
EXPOSE 8080
CMD ["node", "services/origin/src/main.ts"]

FROM runtime AS echo
# Listen on every interface of the container (the default, 127.0.0.1, is for a host).
ENV ECHO_HOST=0.0.0.0
USER 1000:1000
EXPOSE 8888 9464
# A small young generation keeps 10,000 idle connections under 150 MB (bench/echo).
CMD ["node", "--max-semi-space-size=4", "services/echo/src/main.ts"]
