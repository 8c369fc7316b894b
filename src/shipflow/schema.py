"""Every table module shipflow's migrations manage, registered on one MetaData."""

from __future__ import annotations

import importlib

from shipflow.projections.tables import metadata

#: Modules that define tables on ``shipflow.projections.tables.metadata``.
TABLE_MODULES = (
    "shipflow.projections.tables",
    "shipflow.webhooks.tables",
    "shipflow.accounts.tables",
    "shipflow.auth.tables",
)


def load_metadata():  # noqa: ANN201 - sqlalchemy MetaData
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            # The feature is not there (the module or its package); a missing dependency
            # inside an existing module is a bug and is raised.
            if not (e.name and (name == e.name or name.startswith(e.name + "."))):
                raise
    return metadata
