ARG BASE=python:3.12-slim
FROM ${BASE}

# Keep the image free of .pyc clutter and get log lines out immediately (docker logs, CI output).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src

# Only what the wheel needs: metadata, the README it declares, the package, and the built-in scenarios
# (hatchling force-includes scenarios/ as mock_finapi/builtin_scenarios).
COPY pyproject.toml README.md ./
COPY mock_finapi/ ./mock_finapi/
COPY scenarios/ ./scenarios/

RUN pip install --no-cache-dir . \
 && cd / && rm -rf /src \
 && useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin mockfinapi \
 && mkdir /data \
 && chown 10001:10001 /data

# State that outlives the container: a volume on /data and a state file in it, e.g.
#   docker run -v mock-finapi-state:/data -e MOCK_FINAPI_STATE_FILE=/data/state.json -p 127.0.0.1:8080:8080 mock-finapi
# The server loads the file at start when it is there, and writes it (atomically: a temporary file beside it, then a
# rename) on `docker stop`/`restart` (SIGTERM) and every MOCK_FINAPI_STATE_INTERVAL seconds (default 5) while requests
# change the state. The image does not set MOCK_FINAPI_STATE_FILE: without it every container starts from its
# scenario, fresh. A new named volume takes /data's owner (uid 10001, the server's user) from the image; a bind mount
# (-v "$PWD/state:/data") must be writable by uid 10001. The file holds the emulator's fake credentials (client
# secrets, user passwords, tokens). /data is made above: Docker drops what later instructions write under a VOLUME.
VOLUME ["/data"]

USER 10001:10001
WORKDIR /home/mockfinapi

# Every `serve` option can also come from MOCK_FINAPI_<OPTION>, e.g.
#   docker run -e MOCK_FINAPI_SCENARIO=default -e MOCK_FINAPI_SEED=42 -e MOCK_FINAPI_PORT=9090 -p 9090:9090 ...
# The image sets its defaults as variables, not as flags (a flag would beat the variable): 0.0.0.0 on purpose, since
# inside the container 127.0.0.1 would be unreachable through the published port. The CLI's own default stays
# 127.0.0.1; choose the host-side exposure with -p (e.g. -p 127.0.0.1:8080:8080).
# The server writes its URL to MOCK_FINAPI_URL_FILE once it is ready; the health check reads it from there, so it
# probes the port and address actually served, however they were chosen.
ENV MOCK_FINAPI_HOST=0.0.0.0 \
    MOCK_FINAPI_PORT=8080 \
    MOCK_FINAPI_URL_FILE=/tmp/mock-finapi.url
EXPOSE 8080

# No curl in slim images: probe with the Python that is there anyway (no URL file yet: not ready, exit 1).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import os, sys, urllib.request as u; url = open(os.environ['MOCK_FINAPI_URL_FILE']).read().strip(); sys.exit(0 if u.urlopen(url + '/__admin/health', timeout=2).status == 200 else 1)"]

ENTRYPOINT ["mock-finapi"]
CMD ["serve"]
