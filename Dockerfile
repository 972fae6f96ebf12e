# The Pallet image: the `pallet` command (worker, example agents, CLI) with the compiled
# code, Pallet's example workflows and agent cards. Used by docker-compose.yml; run e.g.
#   docker run --rm pallet-temporal:local node bin/pallet.js --help

# Build: install everything, compile src/ (the engine) and examples/ (the example agents and
# app writer) to lib/src/ and lib/examples/ (npm ci runs `prepare` = tsc --build,
# and `npm run build` makes the step explicit), then drop the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY examples ./examples
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# Runtime: production dependencies, lib/ (engine and examples), the launcher, workflows and
# cards (the example agents read theirs from agent-cards/ at start-up); python3 for
# the test agent's real syntax check (review_code falls back to built-in checks without it).
FROM node:20-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
COPY package.json package-lock.json ./
COPY bin ./bin
COPY pallet-workflows ./pallet-workflows
COPY agent-cards ./agent-cards
# `pallet run` inside the container writes its result files to app/.
RUN mkdir -p /app/app && chown node:node /app/app
# The node image's unprivileged user (uid 1000).
USER node
CMD ["node", "bin/pallet.js", "worker"]
