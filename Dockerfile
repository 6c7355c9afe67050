# One image for every stage service; docker-compose.yml picks the stage with its command.
FROM node:20-bookworm
WORKDIR /app
ENV NODE_ENV=production NX_DAEMON=false NX_NO_CLOUD=true
COPY . .
# Sources are TypeScript run through tsx; better-sqlite3 (the embedded store) builds here.
RUN npm ci --no-audit --no-fund && npm cache clean --force
USER node
EXPOSE 8080
CMD ["node", "apps/cli/bin/apo.mjs", "--help"]
