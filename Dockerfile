# syntax=docker/dockerfile:1
#
# llm-proxy's container image. Build from the repository's root:
#
#   docker build -t llm-proxy --build-arg VERSION="$(node -p 'require("./package.json").version')" .
#
# Three stages: `build` compiles the server and the admin UI and packs the npm package; `app` is
# that package with its production dependencies only, at the versions of package-lock.json; the
# runtime stage copies `app` onto a clean slim image. The runtime is therefore the npm package as
# users install it, which test/deploy/container-runtime.test.ts reproduces without Docker.
# docs/container.md explains how to run it.

# The Node.js major of every stage; package.json's engines must accept it.
ARG NODE_VERSION=26

FROM node:${NODE_VERSION}-trixie-slim AS build
WORKDIR /src
# Dependencies first, so a source change reuses this layer. No package runs an install script
# (better-sqlite3 ships prebuilt binaries); `prepare` would build before the sources are here.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md LICENSE ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
COPY api ./api
COPY pricing ./pricing
RUN node scripts/build.mjs --force \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mv /tmp/llm-proxy-*.tgz /tmp/llm-proxy.tgz

FROM node:${NODE_VERSION}-trixie-slim AS app
WORKDIR /app
COPY --from=build /tmp/llm-proxy.tgz /tmp/llm-proxy.tgz
# The packed files (package.json `files`), then their production dependencies as locked. Of
# better-sqlite3, only this platform's prebuilt binary is needed: not its C sources (for a local
# compile) nor the binaries of other systems (about 25 MB).
COPY package-lock.json ./
RUN tar -xzf /tmp/llm-proxy.tgz --strip-components=1 -C /app \
 && rm /tmp/llm-proxy.tgz \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
 && find node_modules/better-sqlite3/prebuilds -type f \
      ! -name "$(node -p 'process.platform + "-" + process.arch').node" -delete \
 && chmod 755 dist/cli/main.js

FROM node:${NODE_VERSION}-trixie-slim
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="llm-proxy" \
      org.opencontainers.image.description="A transparent, multi-tenant proxy for the OpenAI API: per-project upstream keys, withdrawable expiring tokens, usage capture." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

# tini runs as PID 1: it hands SIGTERM and SIGINT to node and reaps zombies. npm, npx, corepack
# and yarn are not needed at run time, so they go (less to patch, less to exploit). The image's
# own user: numeric, so Kubernetes' runAsNonRoot can check it; /data and the log folder are its
# only writable places.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && groupadd --system --gid 10001 llm-proxy \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin llm-proxy \
 && mkdir -p /data /var/log/llm-proxy \
 && chown 10001:10001 /data /var/log/llm-proxy \
 && chmod 700 /data /var/log/llm-proxy

# Owned by root and not writable by the user: the application folder stays as built.
COPY --from=app /app /app
RUN ln -s /app/dist/cli/main.js /usr/local/bin/llm-proxy

WORKDIR /app
# Logs go to stdout; set LOG_FILE=/var/log/llm-proxy/llm-proxy.log for a file as well.
ENV DATA_DIR=/data \
    LISTEN_ADDR=:8080
VOLUME ["/data", "/var/log/llm-proxy"]
EXPOSE 8080
USER 10001:10001

# Liveness from inside the container, with node itself (the slim image has no curl): the port of
# LISTEN_ADDR on the loopback, over TLS when TLS_CERT_FILE is set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const a=process.env.LISTEN_ADDR||':8080';const tls=!!process.env.TLS_CERT_FILE;require(tls?'node:https':'node:http').get({host:'127.0.0.1',port:a.slice(a.lastIndexOf(':')+1),path:'/live',rejectUnauthorized:false,timeout:4000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["serve"]
