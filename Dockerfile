# The standalone simulator as a small production image: the built server only, non-root, a
# health check on GET /, configured by the same environment variables (README: Configuration).
#   docker build -t aoai-simulator . && docker run -p 8000:8000 -e SIMULATOR_API_KEY=... aoai-simulator

FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY server ./server
COPY functions ./functions
COPY examples ./examples
RUN npm run build && npm prune --omit=dev

FROM node:22-slim
ENV NODE_ENV=production PORT=8000 HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm start` runs after its build step.
CMD ["node", "dist/server/index.js"]
