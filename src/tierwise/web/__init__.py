"""The web dashboard and its JSON API (``tierwise serve``); see docs/web.md.

:func:`create_app` builds the FastAPI app for a config and a store. The pieces, each in its own
module: accounts (``accounts``), who sees what (``access``), the server's copy of the store
(``snapshots``), the scoped queries (``queries``), sign-in and CSRF (``security``), the routes
(``api``, ``pages``) and their response models (``models``).
"""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
