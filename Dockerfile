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
#   VERSION (e.g. v0.3.1), REVISION (the commit), SOURCE (the repository URL);
#   IMAGE, the image's own reference for kubegate verify-self (default
#   ghcr.io/kubegate/kubegate:VERSION[-shell]).

# Base images are pinned by digest (multi-arch indexes); Dependabot's docker
# updates move the tag and the digest together (.github/dependabot.yml).

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
FROM --platform=$BUILDPLATFORM golang:1.26@sha256:d7722066f0b60ceccb6c0643cbed1f5f9e15506ac237146c95333504d7805d89 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# Reproducible: no paths (-trimpath), no build ID, no VCS stamp beyond the
# version; BuildKit's SOURCE_DATE_EPOCH (the release commit's time) and
# rewrite-timestamp give the layers fixed times (release.yml).
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags="-s -w -buildid= -X github.com/kubegate/kubegate/internal/cli.Version=${VERSION}" \
      -o /out/kubegate ./cmd/kubegate

FROM alpine:3.22@sha256:5291449c3df73caf6ed85e649dec1b9e818b39a5d8c871e97afc13e9cd5e8fa8 AS shell
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
# The image kubegate verify-self checks by default (the release tag; the
# released action.yml names it by digest instead).
ARG IMAGE=ghcr.io/kubegate/kubegate:${VERSION}-shell
ENV KUBEGATE_IMAGE=${IMAGE}
ENTRYPOINT []
CMD ["/bin/sh"]

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab AS nonroot
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
ARG IMAGE=ghcr.io/kubegate/kubegate:${VERSION}
ENV KUBEGATE_IMAGE=${IMAGE}
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubegate"]
