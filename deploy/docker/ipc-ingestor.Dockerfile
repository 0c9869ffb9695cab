# The ipc-ingestor app. Build from the repository root:
#   docker build -f deploy/docker/ipc-ingestor.Dockerfile -t topology/ipc-ingestor .
FROM node:20.20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# better-sqlite3 is compiled here (node 20 needs the 12.x line built from source).
ENV npm_config_build_from_source=true
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev \
  # The ipc-ingestor never loads the in-process ClickHouse engine (about 550 MB).
  && rm -rf node_modules/chdb node_modules/@chdb

FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Message and API schemas are read at run time (protoDir() looks for proto/ above dist/).
COPY --from=build /src/proto ./proto
USER node
EXPOSE 4385
# SIGTERM drains: stop consuming, flush, commit, exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/ipc-ingestor/src/main.js"]
