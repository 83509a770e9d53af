"""Run the Alembic migrations of the top-level `migrations/` folder.

A wheel (`pip install .`, the Dockerfile) carries that folder as `app/migrations` (see setup.py);
a source checkout, installed editable or not, has it next to `app/`.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config

_PACKAGE = Path(__file__).resolve().parent


def migrations_dir() -> Path:
    """The folder with `env.py` and `versions/`: the installed copy, else the checkout's."""
    for candidate in (_PACKAGE / "migrations", _PACKAGE.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"no Alembic migrations in {_PACKAGE / 'migrations'} or beside it")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "heads")


def downgrade_to_base(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")
