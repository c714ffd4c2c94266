# drone's own image: the binary, and the repository's workflows, components and policies, so a
# one-off task (`drone task --on fargate`) runs the very workflow files of the command that
# started it. Build from the repository root: `docker build -t REPOSITORY_URL:TAG .`
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin drone

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/drone /usr/local/bin/drone
WORKDIR /drone
COPY workflows workflows
COPY stdlib/components stdlib/components
COPY policies policies
# The repository is read-only to the task; its audit records go here and to its log group.
ENV DRONE_AUDIT_LOG=/tmp/drone-audit.jsonl
# Nobody: the task holds its grants through its role, not through the image.
USER 65534:65534
ENTRYPOINT ["drone"]
