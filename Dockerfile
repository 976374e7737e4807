# The center's image. Build: docker build -t monitor-center .
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY collectors ./collectors
COPY alerts ./alerts
COPY monitor_center ./monitor_center
RUN pip install --no-cache-dir . && useradd --system --uid 10001 monitor
USER monitor
EXPOSE 8080
ENTRYPOINT ["monitor-center"]
CMD ["serve", "--config", "/etc/monitor-center/config.yaml", "--host", "0.0.0.0", "--port", "8080"]
