# The trace-aggregator app. Build from the repository root:
#   docker build -f deploy/docker/trace-aggregator.Dockerfile -t topology/trace-aggregator .
FROM node:20.20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# better-sqlite3 is compiled here (node 20 needs the 12.x line built from source).
ENV npm_config_build_from_source=true
RUN npm ci
COPY . .
# The in-process ClickHouse engine (chdb, about 550 MB) stays: it is the store when no server is named.
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Message and API schemas are read at run time (protoDir() looks for proto/ above dist/).
COPY --from=build /src/proto ./proto
USER node
EXPOSE 4386
# SIGTERM drains: stop consuming, flush, commit, exit 0; spans still waiting are read again at the next start.
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/trace-aggregator/src/main.js"]
