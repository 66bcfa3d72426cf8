# syntax=docker/dockerfile:1
# Build: CGO is needed for the embedded SQLite (mattn/go-sqlite3).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hotline ./cmd/hotline

# Run: a small Debian image (glibc for the cgo binary),
# a non-root user, data in a volume. Probe GET /healthz for health.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10001 hotline \
	&& useradd --system --uid 10001 --gid hotline --home-dir /data --shell /usr/sbin/nologin hotline \
	&& mkdir -p /data && chown hotline:hotline /data && chmod 0700 /data
COPY --from=build /out/hotline /usr/local/bin/hotline
USER hotline:hotline
VOLUME ["/data"]
ENV HOTLINE_DATA=/data \
	HOTLINE_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hotline"]
CMD ["serve"]
