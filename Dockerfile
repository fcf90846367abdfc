# One image for every app; APP picks the entry point (apps/$APP/src/main.ts).
#   docker build -t payments .
#   docker run -e DATABASE_URL=… -e NATS_URL=… -p 4000:4000 payments          # command API
#   docker run -e DATABASE_URL=… payments npm run ops -- apps create my-app    # ops CLI
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, so code changes reuse the cached layer. Only production
# packages: @swc/core compiles the apps below, the ops CLI included
# (`npm run ops` runs dist/apps/ops/src/main.js).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
COPY proto ./proto
COPY scripts ./scripts
COPY tsconfig.json ./
RUN node scripts/build.mjs --force

ARG APP=command-api
ENV APP=${APP} \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    COMMAND_API_PORT=4000

USER node
EXPOSE 4000 4001 4002 4003 9400 9401 9402

# exec replaces the shell, so node is PID 1 and receives `docker stop`'s SIGTERM; the app drains
# in-flight requests and exits. The apps run compiled (scripts/build.mjs, run above as root).
CMD ["sh", "-c", "exec node --enable-source-maps \"dist/apps/${APP}/src/main.js\""]
