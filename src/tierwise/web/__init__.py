"""The web dashboard and its JSON API (``tierwise serve``); see docs/web.md.

:func:`create_app` builds the FastAPI app for a config and a store. The pieces, each in its own
module: accounts (``accounts``), who sees what (``access``), the server's copy of the store
(``snapshots``), the scoped queries (``queries``), sign-in and CSRF (``security``), the routes
(``api``, ``pages``) and their response models (``models``).

The web stack (FastAPI, uvicorn, python-multipart, argon2-cffi, itsdangerous) is the ``[web]``
extra: without it, importing this package raises :class:`~tierwise.errors.MissingDependencyError`,
which the CLI shows as one line with the install command.
"""

from importlib import import_module

from ..errors import MissingDependencyError

#: import name -> distribution of each package of the ``[web]`` extra.
WEB_PACKAGES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "argon2": "argon2-cffi",
                "itsdangerous": "itsdangerous", "python_multipart": "python-multipart"}


def _check_web_extra() -> None:
    for module, distribution in WEB_PACKAGES.items():
        try:
            import_module(module)
        except ImportError:
            raise MissingDependencyError(
                distribution, "web", "The web dashboard ('tierwise serve', 'tierwise users')"
            ) from None


_check_web_extra()

from .app import create_app, serve  # noqa: E402 - after the check, for its one-line message

__all__ = ["create_app", "serve"]
