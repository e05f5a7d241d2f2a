# syntax=docker/dockerfile:1
# One image for all five services; the command picks one:
#   docker run IMAGE python -m services.intake serve      (or: migrate, dead-letters, ...)
# The Kubernetes manifests (deploy/k8s) set that command per Deployment and migration Job.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: resolve the locked runtime dependencies into a virtualenv ---------------------------
FROM ${PYTHON_IMAGE} AS build
# The uv the project locks with (python3 -m uv --version), pinned: it must read uv.lock.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first, so a code change reuses this layer. Only [project].dependencies: no
# dependency group, neither `dev` (tests, linters) nor `embedded` (the local PostgreSQL and broker
# of devstack/, which the image does not carry either).
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-default-groups --no-install-project
COPY shared ./shared
COPY services ./services
# The root filesystem is read-only at run time: compile now, never at import.
RUN python -m compileall -q shared services

# --- run: the interpreter, the virtualenv and the code; no uv, no compiler, no root ------------
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 fayuan \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin fayuan
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/shared /app/shared
COPY --from=build /app/services /app/services
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FAYUAN_HOST=0.0.0.0 \
    FAYUAN_PORT=8080
# Numeric, so Kubernetes can check runAsNonRoot without resolving a name.
USER 10001:10001
EXPOSE 8080
# Not an ENTRYPOINT: the manifests' `args` replace this whole command.
CMD ["python", "-m", "services.intake", "serve"]
