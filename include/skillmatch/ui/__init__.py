"""The skillmatch dashboard served inside the Airflow UI (plugins/skillmatch_plugin.py mounts `create_app()`).

`queries` reads the DuckDB marts (parameterised SQL only), `charts` draws inline SVG, `app` holds the FastAPI
routes, the Airflow login check and the Jinja2 templates in `templates/`.
"""
