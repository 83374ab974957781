# smart-chat: WhatsApp support-chat runtime.
#
# Debian 12 (bookworm) + Node 20 on purpose: the uWebSockets.js binary shipped
# in the npm package is built for Node ABI 115 (Node 20) on glibc, and is known
# to load on bookworm (glibc 2.36). On Alpine (musl) or another Node major the
# package silently loads its slow pure-JS fallback, which the service refuses
# to start with (see UWS_ALLOW_FALLBACK); the deps stage below checks this.
#
#   docker build -t smart-chat .
#   docker run --rm -p 5000:5000 -e AGENT_JWT_SECRET=... -e WEBHOOK_SECRET=... smart-chat
#
# Stop timeout: the service drains for up to SHUTDOWN_GRACE_MS (10 s) and exits
# by itself at most 5 s later, while `docker stop` sends SIGKILL after 10 s by
# default. Give it more: `docker stop -t 20`, or `stop_grace_period: 20s` in
# compose (docker-compose.yml does).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
# build: all dependencies (TypeScript is a devDependency), compile src -> dist
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
# --ignore-scripts: no dependency needs its install script (uWS ships prebuilt
# binaries; esbuild/bufferutil/utf-8-validate find theirs at run time), and it
# keeps node-gyp from trying to compile in an image without a toolchain.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Emits dist/ (rootDir src, so the entry point is dist/main.js).
RUN npm run build

# ---------------------------------------------------------------------------
# deps: production dependencies only, trimmed to this platform's uWS binary
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
# The uWS package carries ~90 MB of binaries for every OS/arch/Node ABI. Keep
# only the one this image loads (fail the build if it is missing), then check
# that it really loads natively here, not through the pure-JS fallback.
RUN set -eu; \
    dir=node_modules/uWebSockets.js/binaries; \
    keep="uws_$(node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules').node"; \
    test -f "$dir/$keep" || { echo "no uWebSockets.js binary $keep for this platform" >&2; exit 1; }; \
    find "$dir" -type f ! -name "$keep" -delete; \
    node -e 'const u = require("uWebSockets.js"); if (!Function.prototype.toString.call(u.App).includes("[native code]")) { console.error("uWebSockets.js native binary did not load"); process.exit(1); }'

# ---------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root: the unprivileged process can read but not modify
# its own code. It writes nothing to disk (logs go to stdout).
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The discount route catalogue seed, read at first start (dist/actors/runtime.js → ../../data).
COPY data ./data
# The `node` user (uid 1000) comes with the official image.
USER node
EXPOSE 5000
# Liveness, with node itself (the slim image has no curl/wget). PORT is read
# the same way the service reads it; /api/health/ready is the readiness probe
# for orchestrators that distinguish the two.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/api/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The service drains on SIGTERM. Exec form, so node receives the signal itself
# (it installs its own handlers, so running as PID 1 is fine; compose adds an
# init anyway, see docker-compose.yml).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
