"""Packaging that pyproject.toml cannot express: the top-level `migrations/` folder ships inside
the package as `app/migrations`, so an installed service can migrate its database on start.
Everything else is declared in pyproject.toml."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        # Namespace packages too: app/web/templates and app/web/static hold no Python.
        *find_namespace_packages(include=["app", "app.*"], exclude=["app.migrations*"]),
        "app.migrations",
        "app.migrations.versions",
    ],
    package_dir={"app.migrations": "migrations"},
)
