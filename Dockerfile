# syntax=docker/dockerfile:1

# cdnproxy's container image: a static binary on distroless, run as the
# nonroot user. Build:  docker build -t cdnproxy .
# Configure with CDNPROXY_* variables (see config.example.env).

FROM golang:1.26.11 AS build
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when go.mod
# or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/cdnproxy ./cmd/cdnproxy

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cdnproxy /cdnproxy
# 65532, distroless's nonroot user; numeric so that runtimes that check
# for a non-root user without reading /etc/passwd accept it.
USER 65532:65532
# API port (CDNPROXY_LISTEN_ADDR) and admin port (CDNPROXY_ADMIN_ADDR);
# publish the admin port on a private interface only.
EXPOSE 8080 9090
# The image has no shell or curl: the binary checks itself through the
# admin listener's /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/cdnproxy", "healthcheck"]
ENTRYPOINT ["/cdnproxy"]
