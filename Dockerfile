# runner-preflight container image: a multi-stage build, small non-root runtime image.
#
#   docker build -t runner-preflight .
#   docker run --rm runner-preflight check --profile dotcom
#   docker run -d -p 127.0.0.1:9798:9798 runner-preflight serve --listen 0.0.0.0:9798 --no-throughput
#
# The build stage runs the same dist build as the README (docs/ci.md, "Dist build"). The release
# workflow (.github/workflows/release.yml) builds the multi-arch image from the static binaries it
# has already built instead (--build-arg BINARY_SOURCE=prebuilt, dist/amd64 and dist/arm64 in the
# context): no Rust compile under emulation.

# build: compile here (the default); prebuilt: dist/$TARGETARCH/runner-preflight from the context.
ARG BINARY_SOURCE=build

FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked \
    && rm -rf src
COPY . .
RUN cargo build --profile dist --locked

FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/${TARGETARCH}/runner-preflight /src/target/dist/runner-preflight

# BuildKit builds only the stage named here.
FROM ${BINARY_SOURCE} AS binary

FROM debian:bookworm-slim
# ca-certificates: the system trust store the runner itself would use (SSL_CERT_FILE/SSL_CERT_DIR
# may point elsewhere, e.g. at a mounted corporate CA bundle).
# Not pinned (hadolint DL3008): ca-certificates must follow Debian's security updates, and a
# bookworm-slim image only offers the current version anyway.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin preflight
COPY --from=binary /src/target/dist/runner-preflight /usr/local/bin/runner-preflight
USER 10001
# `serve`'s port (docs/fleet-monitoring.md). It listens on 127.0.0.1 unless told
# `--listen 0.0.0.0:9798`, which a published port needs.
EXPOSE 9798
# Healthy while every gating capability passes (exit 1 = unhealthy). It checks the profile and
# flags of the environment (RUNNER_PREFLIGHT_PROFILE, RUNNER_PREFLIGHT_CAPABILITY, proxy
# variables…), not the command's arguments: set those in the environment to check the same.
# No throughput measurement every 5 minutes. Kubernetes ignores HEALTHCHECK: the DaemonSet in
# deploy/kubernetes/exporter-daemonset.yaml probes /healthz instead.
HEALTHCHECK --interval=5m --timeout=2m --start-period=30s --retries=1 \
    CMD ["runner-preflight", "check", "--fail-on", "fail", "--quiet", "--no-throughput"]
ENTRYPOINT ["runner-preflight"]
CMD ["check", "--profile", "dotcom"]
