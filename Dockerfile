# courierd and vrpsolve in a small image, with the web console, the courier app and the fonts
# of the PDF route sheets. Build: docker build -t courierd .
# scripts/docker-check.sh runs these same steps on a host without a
# container engine (scripts/test.sh runs it).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# cgo stays on: geo/ uses uber/h3-go, whose C sources are bundled.
RUN go build -trimpath -ldflags="-s -w" -o /out/courierd ./cmd/courierd && \
    go build -trimpath -ldflags="-s -w" -o /out/vrpsolve ./cmd/vrpsolve

# The console and the courier app: our ES modules, Leaflet and uPlot from npm (no build step).
FROM node:22-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY web/index.html web/favicon.svg ./
COPY web/src ./src
COPY web/app ./app

FROM debian:bookworm-slim
# fonts-dejavu-core: DejaVu Sans for the PDF route sheets (Cyrillic included).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata fonts-dejavu-core && rm -rf /var/lib/apt/lists/* && \
    useradd --system --uid 10001 --home /var/lib/courierd courierd && mkdir -p /var/lib/courierd && chown courierd /var/lib/courierd
COPY --from=build /out/courierd /out/vrpsolve /usr/local/bin/
COPY --from=web /web/index.html /web/favicon.svg /usr/share/courierd/web/
COPY --from=web /web/src /usr/share/courierd/web/src
COPY --from=web /web/app /usr/share/courierd/web/app
COPY --from=web /web/node_modules/leaflet/dist /usr/share/courierd/web/node_modules/leaflet/dist
COPY --from=web /web/node_modules/uplot/dist /usr/share/courierd/web/node_modules/uplot/dist
USER courierd
WORKDIR /var/lib/courierd
ENV COURIER_ADDR=:8080 COURIER_DATA_DIR=/var/lib/courierd COURIER_LOG_FORMAT=json COURIER_WEB_DIR=/usr/share/courierd/web COURIER_FONT_DIR=/usr/share/fonts/truetype/dejavu
EXPOSE 8080
# No curl or bash in the image: courierd asks itself (GET /readyz on COURIER_ADDR).
HEALTHCHECK --interval=10s --timeout=5s --retries=5 CMD ["/usr/local/bin/courierd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/courierd"]
