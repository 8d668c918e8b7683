# syntax=docker/dockerfile:1
# Multi-stage build of the reference gateway. Build: docker build -t switchyard .
# Run:   docker run -p 8080:8080 -e OPENAI_API_KEY -e SWITCHYARD_MASTER_KEY=<a long random string> switchyard
# HOST=0.0.0.0: without client keys or a master key the gateway refuses to start (SWITCHYARD_ALLOW_OPEN=1 overrides).
# Workers default to one per core Node sees (it may not honour --cpus): pass -e SWITCHYARD_WORKERS=N with --cpus N.

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
# keep production dependencies only, with the workspace packages' built dist
RUN npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /src/package.json ./
COPY --from=build --chown=node:node /src/node_modules ./node_modules
COPY --from=build --chown=node:node /src/libs ./libs
COPY --from=build --chown=node:node /src/apps/gateway/package.json ./apps/gateway/package.json
COPY --from=build --chown=node:node /src/apps/gateway/bin ./apps/gateway/bin
COPY --from=build --chown=node:node /src/apps/gateway/dist ./apps/gateway/dist
RUN mkdir -p /data && chown node:node /data
USER node
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "/app/apps/gateway/dist/cli.js"]
CMD ["start"]
