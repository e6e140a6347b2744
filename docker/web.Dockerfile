# syntax=docker/dockerfile:1
# The chat widget (webchat/widget, built with esbuild) and the demo page, served by nginx as an
# unprivileged user. The reverse proxy (docker/proxy-nginx.conf, the Kubernetes Ingress) sends
# everything that is not the chat, the login or a receipt here.
#
#   docker build -f docker/web.Dockerfile -t buergerassistent/web:<version> .
#
# Base images: exact tags; for a release add their digests (`docker buildx imagetools inspect`).
ARG NODE_IMAGE=node:20.19.5-bookworm-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.27.5-alpine

# --- widget: npm ci from the lock file, then `npm run build` (as `make webchat`) -----------------
FROM ${NODE_IMAGE} AS widget
WORKDIR /src/webchat/widget
COPY webchat/widget/package.json webchat/widget/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY webchat/widget/ ./
RUN npm run --silent build
COPY webchat/demo/ /src/webchat/demo/
# Without data-server the widget talks to the origin it was loaded from: the proxy, which routes
# /socket.io/ to Rasa.
RUN sed -i 's/ data-server="__RASA_URL__"//' /src/webchat/demo/index.html \
 && ! grep -q __RASA_URL__ /src/webchat/demo/index.html

# --- runtime: static files only ------------------------------------------------------------------
FROM ${NGINX_IMAGE} AS runtime
COPY docker/web-nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=widget /src/webchat/dist/ /usr/share/nginx/html/widget/
COPY --from=widget /src/webchat/demo/index.html /src/webchat/demo/demo.css /usr/share/nginx/html/
# The image's user nginx (uid 101), never root.
USER 101
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD ["wget", "-q", "--spider", "http://127.0.0.1:8080/widget/buergerassistent-chat.js"]
