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
 && useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin mockfinapi

USER 10001:10001
WORKDIR /home/mockfinapi

# Every `serve` option can also come from MOCK_FINAPI_<OPTION>, e.g.
#   docker run -e MOCK_FINAPI_SCENARIO=default -e MOCK_FINAPI_SEED=42 ...
# (--host/--port below are flags and so win over MOCK_FINAPI_HOST/PORT: map the port with -p instead.)
EXPOSE 8080

# No curl in slim images: probe with the Python that is there anyway.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/__admin/health', timeout=2).status == 200 else 1)"]

ENTRYPOINT ["mock-finapi"]
# Binding 0.0.0.0 on purpose: inside the container 127.0.0.1 would be unreachable through the published port.
# The CLI's own default stays 127.0.0.1; choose the host-side exposure with -p (e.g. -p 127.0.0.1:8080:8080).
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
