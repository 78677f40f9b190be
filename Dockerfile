# sipas-survey production image.
#
#   bash docker/build-base.sh                        # once: sipas-base:bookworm from Debian
#   docker build --network host -t sipas-survey .    # or docker/build-image.sh, which
#                                                    # runs both and passes EXTRA_CA_CERT
#
# BASE_IMAGE is any Debian bookworm image: the default is built locally from
# Debian's packages (no container registry needed); with a registry,
# --build-arg BASE_IMAGE=python:3.11-slim-bookworm works too. Bookworm's own
# python3 is 3.11, the version the lock files are resolved for.
ARG BASE_IMAGE=sipas-base:bookworm

# -- runtime: what both stages share -----------------------------------------
FROM ${BASE_IMAGE} AS runtime
# python3 from Debian unless the base has its own (python:*-slim); sqlite3 for
# online backups of a SQLite database (`sqlite3 … ".backup …"`).
RUN set -eux; \
    pkgs="sqlite3"; \
    command -v python3 >/dev/null || pkgs="$pkgs python3"; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs; \
    # The downloaded .deb files (about 10 MB: the base is debootstrap's, without
    # the official images' docker-clean hook), the package lists and the
    # previous copies of dpkg's and debconf's databases.
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
      /var/cache/debconf/*-old /var/lib/dpkg/*-old; \
    # A numeric user without a shell or home; no passwd package needed.
    echo "survey:x:10001:10001:sipas-survey:/app:/usr/sbin/nologin" >> /etc/passwd; \
    echo "survey:x:10001:" >> /etc/group
ENV PATH=/opt/venv/bin:$PATH \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# -- build: the virtualenv, from the lock ------------------------------------
FROM runtime AS build
RUN set -eux; \
    # binutils: strip, below. Both stay in this stage.
    pkgs="binutils"; \
    python3 -c "import ensurepip" 2>/dev/null || pkgs="$pkgs python3-venv"; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs; \
    python3 -m venv /opt/venv
# A proxy that re-signs TLS: --build-arg EXTRA_CA_CERT=path/in/context.pem adds
# its CA to the bundle pip trusts, in this stage only.
ARG EXTRA_CA_CERT=docker/no-extra-ca.pem
COPY ${EXTRA_CA_CERT} /tmp/extra-ca.pem
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY requirements.lock /tmp/requirements.lock
RUN set -eux; \
    if [ -s /tmp/extra-ca.pem ]; then \
      cat "$(python -m pip._vendor.certifi)" /tmp/extra-ca.pem > /tmp/pip-ca.pem; \
      export PIP_CERT=/tmp/pip-ca.pem; \
    fi; \
    pip install --require-hashes --no-deps -r /tmp/requirements.lock; \
    # What the service never reads, to keep the image small: the libraries'
    # own test suites, Cython/C sources and headers, type stubs, and Babel's
    # locale data beyond the root, Vietnamese and English that the app serves.
    sp="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"; \
    find "$sp" -depth -type d -name tests -exec rm -rf {} +; \
    find "$sp" -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.c' \
      -o -name '*.h' -o -name '*.pyi' \) -delete; \
    find "$sp/babel/locale-data" -type f ! -name 'root.dat' ! -name 'vi.dat' ! -name 'vi_*.dat' \
      ! -name 'en.dat' ! -name 'en_*.dat' -delete; \
    # Tools and data nothing imports at run time (each one only on request,
    # never by the libraries the app uses): matplotlib's sample data and its
    # browser backend's JavaScript; numpy's distutils (not f2py: scipy runs
    # `from numpy import *`, which imports it); lxml's objectify, html and
    # isoschematron (python-docx, openpyxl and fontTools use lxml.etree only);
    # fontTools' font-authoring converters (matplotlib needs ttLib and subset,
    # for the fonts PDF and SVG embed). The container test downloads every
    # report format, chart and poster from the image.
    rm -rf "$sp/matplotlib/mpl-data/sample_data" "$sp/matplotlib/backends/web_backend" \
      "$sp/numpy/distutils" "$sp/numpy/_pyinstaller" \
      "$sp/lxml/html" "$sp/lxml/isoschematron" "$sp"/lxml/objectify.* \
      "$sp/fontTools/voltLib" "$sp/fontTools/mtiLib" "$sp/fontTools/svgLib" \
      "$sp/fontTools/merge" /opt/venv/bin/pyftmerge; \
    # Symbol tables of the compiled modules serve debuggers only. Not in the
    # wheels' *.libs folders: strip breaks libraries that auditwheel patched
    # ("ELF load command address/offset not page-aligned").
    find "$sp" -type d -name '*.libs' -prune -o -type f -name '*.cpython-*.so' \
      -exec strip --strip-unneeded {} +
# The package is installed once, editable from /app: Flask then finds the
# migrations beside it and keeps its instance folder at /app/instance. Only
# pyproject.toml and an empty package are needed for that, so this layer too
# survives code changes; the code itself is copied in the last stage.
COPY pyproject.toml README.md /app/
RUN set -eux; \
    if [ -s /tmp/extra-ca.pem ]; then \
      cat "$(python -m pip._vendor.certifi)" /tmp/extra-ca.pem > /tmp/pip-ca.pem; \
      export PIP_CERT=/tmp/pip-ca.pem; \
    fi; \
    mkdir /app/survey && touch /app/survey/__init__.py; \
    pip install --no-deps -e /app; \
    # The running service needs no installer.
    pip uninstall -y setuptools pip

# -- the image -----------------------------------------------------------------
FROM runtime
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY wsgi.py boot.sh /app/
COPY migrations /app/migrations
COPY survey /app/survey
# Writable paths: /app/instance (SQLite database, rendered-report cache) and
# /tmp (matplotlib's font cache). With --read-only, mount a volume on the
# first and a tmpfs on the second; gunicorn's heartbeat files go to /dev/shm.
# The code's bytecode is compiled here: at run time the root is read-only, and
# every worker would otherwise compile the app again.
RUN mkdir -p /app/instance && chown 10001:10001 /app/instance \
    && python -m compileall -q /app/survey /app/migrations /app/wsgi.py
VOLUME /app/instance
ENV FLASK_APP=wsgi \
    SURVEY_ENV=production \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"
ENTRYPOINT ["/app/boot.sh"]
