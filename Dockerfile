# syntax=docker/dockerfile:1
# Multi-stage build of the reference gateway. Build: docker build -t switchyard:0.1.0 .
# Run (docs/deployment.md#container; generate the master key first and keep it: it is the admin credential):
#   docker run -p 8080:8080 -v switchyard-data:/data --stop-timeout 40 -e OPENAI_API_KEY -e SWITCHYARD_MASTER_KEY switchyard:0.1.0
# HOST=0.0.0.0: without client keys or a master key the gateway refuses to start (SWITCHYARD_ALLOW_OPEN=1 overrides).
# /data (the working directory, writable by the node user) holds the default SQLite request log and keys: mount a volume there.
# --stop-timeout 40: shutdown takes up to shutdownDelayMs + shutdownTimeoutMs + 1 s + the log's last flush,
# longer than Docker's default 10 s before SIGKILL.
# Workers default to one per CPU: the cores, lowered to the container's CPU quota rounded down (--cpus 2.5 gives 2 workers).

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles from source where no prebuilt binary can be fetched
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json nx.json tsconfig.base.json tsup.shared.ts vitest.shared.ts eslint.config.mjs eslint.boundaries.mjs ./
COPY libs ./libs
COPY apps ./apps
RUN npm ci
ENV NX_DAEMON=false NX_NO_CLOUD=true
RUN npx nx run @switchyard/gateway:build
# keep production dependencies only: the gateway's package.json lists the drivers its config can
# name (better-sqlite3, pg, ioredis, @aws-sdk/credential-provider-node), which the libraries
# only declare as optional peers
RUN npm prune --omit=dev
# what the runtime needs, nothing else: the workspace packages' package.json and dist (the
# symlinks in node_modules/@switchyard point at them), no sources or tests, and the nested
# node_modules npm puts beside a package whose version differs from the hoisted one
RUN set -eu; mkdir -p /out/apps/gateway; \
    cp -a package.json node_modules /out/; \
    for d in libs/*; do \
      mkdir -p "/out/$d"; cp "$d/package.json" "/out/$d/"; \
      for part in dist node_modules; do if [ -d "$d/$part" ]; then cp -a "$d/$part" "/out/$d/"; fi; done; \
    done; \
    cp -a apps/gateway/package.json apps/gateway/bin apps/gateway/dist /out/apps/gateway/; \
    if [ -d apps/gateway/node_modules ]; then cp -a apps/gateway/node_modules /out/apps/gateway/; fi

FROM node:20-bookworm-slim
# SWITCHYARD_ADDRESS_FILE: start records there where it listens, which the HEALTHCHECK and docker exec'd commands read
# (the admin commands send the master key there): in a directory only the node user may enter, not the shared /tmp
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 SWITCHYARD_ADDRESS_FILE=/run/switchyard/address.json
# owned by root: the node user runs the code but cannot change it; it writes only to /data and /run/switchyard
COPY --from=build /out /app
RUN mkdir -p /data /run/switchyard && chown node:node /data /run/switchyard && chmod 700 /run/switchyard
USER node
WORKDIR /data
EXPOSE 8080
# `switchyard healthcheck` asks the address start recorded in SWITCHYARD_ADDRESS_FILE, so flags of
# start (--port, --config) are seen too; without the file (a read-only /run/switchyard) it finds the port as
# start does from the same environment: PORT and HOST, else the server section of SWITCHYARD_CONFIG
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "/app/apps/gateway/dist/cli.js", "healthcheck"]
ENTRYPOINT ["node", "/app/apps/gateway/dist/cli.js"]
CMD ["start"]
