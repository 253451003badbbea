# Oneday's image: the hash-checked lock, then the package itself, run as a non-root user.
# Build: docker build -t oneday .   Run the whole stack: docker compose up (compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

WORKDIR /app
# Every dependency exactly as pinned, each checked against its hash; then the package, with no resolution of its own.
COPY requirements-lock.txt ./
RUN pip install --require-hashes --no-deps -r requirements-lock.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY models ./models
COPY migrations ./migrations
RUN pip install --no-deps --no-build-isolation . && rm -rf /app/build

# No root at run time: a system user with no login shell and no home of its own to write to.
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin oneday
USER 10001:10001
WORKDIR /tmp

EXPOSE 3000
CMD ["oneday", "serve", "--host", "0.0.0.0", "--port", "3000"]
