# printwarden as a container: `docker compose up` uses it (docker-compose.yml).
#
# Two stages: the first installs every dependency and builds what `npm ci` builds (the console);
# the second takes the result with the production dependencies only. scripts/check-dockerfile.ts
# runs these same steps in a temporary copy, where no Docker engine is at hand.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# The lock file first, so that a change of code alone reuses the layer of dependencies.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Native modules (better-sqlite3) and the console's build, which --ignore-scripts left out.
RUN npm rebuild better-sqlite3 && npm run --if-present build:console
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# tini is PID 1: it hands SIGTERM to node (so `docker stop` stops the service cleanly, readings in
# flight stored) and reaps zombies.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PRINTWARDEN_HOST=0.0.0.0 \
    PRINTWARDEN_DATA_DIR=/data \
    PRINTWARDEN_RULES_DIR=/app/rules
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/rules ./rules
COPY --from=build /app/console/dist ./console/dist
COPY --from=build /app/deploy/init-accounts.sh ./deploy/init-accounts.sh
# /secrets: the tokens the compose stack's accounts service writes for Prometheus and the admin.
RUN mkdir -p /data /secrets && chown node:node /data /secrets
USER node
VOLUME ["/data"]
EXPOSE 1883 9001 3000 8883 8884
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PRINTWARDEN_HTTP_PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/cli.ts"]
