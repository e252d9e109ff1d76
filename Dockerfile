# syntax=docker/dockerfile:1
# kubegate: a static binary on a minimal, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/kubegate/kubegate/internal/cli.Version=${VERSION}" \
      -o /out/kubegate ./cmd/kubegate

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="kubegate" \
      org.opencontainers.image.description="Policy gate for Kubernetes changes" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/kubegate /usr/local/bin/kubegate
ENTRYPOINT ["/usr/local/bin/kubegate"]
