# runner-preflight container image: a multi-stage build, small non-root runtime image.
#
#   docker build -t runner-preflight .
#   docker run --rm runner-preflight check --profile dotcom
#
# The build stage runs the same dist build as the README (docs/readme-issue-6.md, "dist build").

FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked \
    && rm -rf src
COPY . .
RUN cargo build --profile dist --locked

FROM debian:bookworm-slim
# ca-certificates: the system trust store the runner itself would use (SSL_CERT_FILE/SSL_CERT_DIR
# may point elsewhere, e.g. at a mounted corporate CA bundle).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin preflight
COPY --from=build /src/target/dist/runner-preflight /usr/local/bin/runner-preflight
USER 10001
ENTRYPOINT ["runner-preflight"]
CMD ["check", "--profile", "dotcom"]
