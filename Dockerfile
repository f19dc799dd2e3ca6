# syntax=docker/dockerfile:1

# ---- build ----------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /app

# Dependencies first, in their own layer: a stub crate with the real manifests
# builds every dependency, and stays cached until Cargo.toml/Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && echo '' > src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src target/release/deps/user_service* target/release/user-service*

# The service itself (migrations and GraphiQL's files are embedded at
# compile time).
COPY src ./src
COPY migrations ./migrations
COPY assets ./assets
RUN cargo build --release --locked \
    && strip target/release/user-service

# ---- run ------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=builder /app/target/release/user-service /usr/local/bin/user-service

USER app:app
ENV APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl --fail --silent --show-error http://127.0.0.1:8080/health > /dev/null || exit 1
ENTRYPOINT ["user-service"]
CMD ["serve"]
