# Multi-stage build: dependencies are installed once without dev tools, the runtime image runs as
# a non-root user. Earshot runs its TypeScript through tsx (a runtime dependency), so the image
# needs no build step and ships the same files that are tested.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 EARSHOT_DATA_DIR=/var/lib/earshot
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY manifests ./manifests
RUN mkdir -p /var/lib/earshot && chown node:node /var/lib/earshot
USER node
EXPOSE 3000
# Without SLACK_BOT_TOKEN this runs sandbox mode, listening on loopback inside the container only (its
# page lets anyone act as anyone). To evaluate it from the host:
#   docker run -e EARSHOT_SANDBOX_HOST=0.0.0.0 -p 127.0.0.1:3000:3000 earshot
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
