# syntax=docker/dockerfile:1
# ductor: build with `docker build -t ductor .`; see docs/operations.md for compose and proxy recipes.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY plugins ./plugins
COPY routes ./routes
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-slim
ARG INSTALL_CLIS=true
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini ca-certificates git \
  && rm -rf /var/lib/apt/lists/*
# The agents' CLIs. Log in once inside the container (`docker compose exec ductor claude`), or mount
# ~/.claude and ~/.codex; see docs/operations.md.
RUN if [ "$INSTALL_CLIS" = "true" ]; then npm install -g @anthropic-ai/claude-code @openai/codex && npm cache clean --force; fi
WORKDIR /app
ENV NODE_ENV=production \
    DUCTOR_HOME=/data \
    DUCTOR_HOST=0.0.0.0 \
    DUCTOR_PORT=8742
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY templates ./templates
# The CLIs' login folders exist in the image so that new volumes mounted there belong to `node`.
RUN ln -s /app/bin/ductor /usr/local/bin/ductor \
  && mkdir -p /data /home/node/.claude /home/node/.codex \
  && chown node:node /data /home/node/.claude /home/node/.codex
USER node
VOLUME ["/data"]
EXPOSE 8742
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.DUCTOR_PORT || 8742) + '/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# `ductor serve`: the sh launcher, whose shell supervises the service (ADR 46).
CMD ["/bin/sh", "/app/bin/ductor", "serve"]
