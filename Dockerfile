# syntax=docker/dockerfile:1
#
# kubegate's container images. Targets:
#   nonroot    (the default, last) a static binary on distroless, non-root,
#              ENTRYPOINT kubegate:
#              docker run --rm -v "$PWD:/work" -w /work ghcr.io/kubegate/kubegate:v0 check .
#   shell      the same binary on Alpine with a shell and no entrypoint, as root:
#              for GitLab's docker executor (`script:` lines) and the GitHub
#              Action (GitHub runs Docker actions as root, see action.yml).
#   local, local-shell
#              the same two images from a binary built on the host, without
#              pulling anything (CI machines without a registry; .ci/e2e):
#              CGO_ENABLED=0 go build -trimpath -o dist/image/kubegate ./cmd/kubegate
#              plus dist/image/rootfs/ (CA certificates, passwd, group) and
#              dist/image/busybox (static), then
#              docker build --target local -t ghcr.io/kubegate/kubegate:v0 .
# The local stages come first: the classic builder builds every stage up to
# the target, BuildKit only the ones the target needs.
#
# Build arguments, for the OCI labels and `kubegate version`:
#   VERSION (e.g. v0.3.1), REVISION (the commit), SOURCE (the repository URL).

ARG GO_VERSION=1.26
ARG ALPINE_VERSION=3.22

# ---- from a binary built on the host -------------------------------------
FROM scratch AS local
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/kubegate/kubegate
LABEL org.opencontainers.image.title="kubegate" \
      org.opencontainers.image.description="Policy gate for Kubernetes changes" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY dist/image/rootfs/ /
COPY --chown=65532:65532 dist/image/rootfs/home/ /home/
COPY dist/image/kubegate /usr/local/bin/kubegate
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HOME=/home/nonroot
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/kubegate"]

FROM scratch AS local-shell
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/kubegate/kubegate
LABEL org.opencontainers.image.title="kubegate" \
      org.opencontainers.image.description="Policy gate for Kubernetes changes, with a shell for CI jobs" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY dist/image/rootfs/ /
COPY dist/image/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY dist/image/kubegate /usr/local/bin/kubegate
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["/bin/sh"]

# ---- from source ---------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X github.com/kubegate/kubegate/internal/cli.Version=${VERSION}" \
      -o /out/kubegate ./cmd/kubegate

FROM alpine:${ALPINE_VERSION} AS shell
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/kubegate/kubegate
LABEL org.opencontainers.image.title="kubegate" \
      org.opencontainers.image.description="Policy gate for Kubernetes changes, with a shell for CI jobs" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# Alpine's base has the CA bundle (ca-certificates-bundle); no RUN, so a
# multi-platform build needs no emulation.
COPY --from=build /out/kubegate /usr/local/bin/kubegate
ENTRYPOINT []
CMD ["/bin/sh"]

FROM gcr.io/distroless/static-debian12:nonroot AS nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/kubegate/kubegate
LABEL org.opencontainers.image.title="kubegate" \
      org.opencontainers.image.description="Policy gate for Kubernetes changes" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/kubegate /usr/local/bin/kubegate
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubegate"]
