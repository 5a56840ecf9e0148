# courierd and vrpsolve in a small image. Build: docker build -t courierd .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# cgo stays on: geo/ uses uber/h3-go, whose C sources are bundled.
RUN go build -trimpath -ldflags="-s -w" -o /out/courierd ./cmd/courierd && \
    go build -trimpath -ldflags="-s -w" -o /out/vrpsolve ./cmd/vrpsolve

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata && rm -rf /var/lib/apt/lists/* && \
    useradd --system --uid 10001 --home /var/lib/courierd courierd && mkdir -p /var/lib/courierd && chown courierd /var/lib/courierd
COPY --from=build /out/courierd /out/vrpsolve /usr/local/bin/
USER courierd
WORKDIR /var/lib/courierd
ENV COURIER_ADDR=:8080 COURIER_DATA_DIR=/var/lib/courierd COURIER_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/courierd"]
