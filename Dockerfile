# The center's image. Build: docker build -t monitor-center .
# Run: mount the config at /etc/monitor-center/config.yaml, set MONITOR_DATABASE_URL.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The package first, the code after: editing code does not reinstall the dependencies...
COPY pyproject.toml README.md ./
RUN mkdir -p core collectors alerts monitor_center \
    && touch core/__init__.py collectors/__init__.py alerts/__init__.py monitor_center/__init__.py \
    && pip install . \
    && pip uninstall -y monitor-center
# ...then the project itself, without its dependencies (already there).
COPY core ./core
COPY collectors ./collectors
COPY alerts ./alerts
COPY monitor_center ./monitor_center
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /var/lib/monitor-center --create-home monitor \
    && mkdir -p /etc/monitor-center

# Never root: the center only needs its port, the config and its data folder (the demo's).
USER monitor
WORKDIR /var/lib/monitor-center
VOLUME ["/var/lib/monitor-center"]
EXPOSE 8080

# /healthz answers 200 while the process runs (it reports the database in its body).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

ENTRYPOINT ["monitor-center"]
CMD ["serve", "--config", "/etc/monitor-center/config.yaml", "--host", "0.0.0.0", "--port", "8080"]
