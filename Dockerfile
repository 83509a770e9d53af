FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/uitstroomtafel

COPY pyproject.toml setup.py README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install . && useradd --system --create-home uitstroom && mkdir /data && chown uitstroom /data

USER uitstroom
ENV UITSTROOM_DATABASE_URL=sqlite:////data/uitstroomtafel.db
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD \
    python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"
# Migrates the database on start (UITSTROOM_MIGRATE_ON_START=true by default), then serves.
CMD ["uitstroomtafel", "serve", "--host", "0.0.0.0", "--port", "8000"]
