# syntax=docker/dockerfile:1
# Muhurta: one image for the API, the Temporal worker and the one-shot `migrate`.
#   docker build -t muhurta .
#   docker run --env-file .env muhurta                 # the API on :8000 (default CMD)
#   docker run --env-file .env muhurta worker          # a Temporal worker
#   docker run --env-file .env muhurta migrate         # upgrade the DB, register search attributes
# The embedded servers (the `embedded` extra) are for development and tests only and are not
# installed: every server is an address (DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS).

# python:3.11-slim on a named Debian release, so that the apt package names below stay valid.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtualenv with the project and its dependencies -----------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# A compiler only for dependencies without a wheel for this platform (e.g. on arm64); it stays
# in this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/muhurta
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/muhurta/bin/pip install .

# -- runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# WeasyPrint (PDF reports) needs Pango >= 1.44, HarfBuzz (with its subsetter) and fontconfig,
# and some fonts to lay text out with: DejaVu for Latin text, Noto for Devanagari and the other
# Indic scripts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
      shared-mime-info fonts-dejavu-core fonts-noto-core \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 muhurta \
 && useradd --system --uid 10001 --gid muhurta --home-dir /app --shell /usr/sbin/nologin muhurta \
 && mkdir -p /app \
 && chown muhurta:muhurta /app

COPY --from=build /opt/muhurta /opt/muhurta
ENV PATH=/opt/muhurta/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MUHURTA_ENV=production \
    MUHURTA_DATA_DIR=/app/.muhurta

USER 10001:10001
WORKDIR /app
EXPOSE 8000

# /health answers as soon as the process serves HTTP (/ready also checks PostgreSQL, Redis and
# Temporal). The worker and migrate services of docker-compose.yml turn this check off.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["muhurta"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
