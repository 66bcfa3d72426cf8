# syntax=docker/dockerfile:1
# Build: CGO is needed for the embedded SQLite (mattn/go-sqlite3).
# .dockerignore keeps data directories (databases, server keys), .git and
# build output out of the context.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hotline ./cmd/hotline

# Run: a small Debian image (glibc for the cgo binary), a non-root user
# with a fixed numeric id (10001: Kubernetes' runAsNonRoot can check it, and
# a key file or secret on the host can be owned by it), data in a volume.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10001 hotline \
	&& useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin hotline \
	&& mkdir -p /data && chown 10001:10001 /data && chmod 0700 /data
COPY --from=build /out/hotline /usr/local/bin/hotline
USER 10001:10001
VOLUME ["/data"]
ENV HOTLINE_DATA=/data \
	HOTLINE_ADDR=0.0.0.0:8080
EXPOSE 8080
# The image has no curl: the binary asks its own /healthz, which fails when
# the database cannot be read or written.
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 \
	CMD ["/usr/local/bin/hotline", "healthcheck", "--timeout", "5s"]
ENTRYPOINT ["/usr/local/bin/hotline"]
CMD ["serve"]
