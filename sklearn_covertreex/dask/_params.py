"""Docstring entries of the parameters and attributes the Dask estimators share.

:func:`document_dask` replaces each ``%(name)s`` line of a class docstring
that names an entry of :data:`DASK_PARAMS` or :data:`DASK_ATTRIBUTES`, then
hands the docstring to :func:`~sklearn_covertreex.estimators._params.document_params`
for the entries every estimator shares.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import TypeVar

from ..estimators._params import document_params

#: name -> (numpydoc type, description)
DASK_PARAMS: dict[str, tuple[str, str]] = {
    "n_shards": ("int", """
        Shards of the fitted data. None: a dask collection keeps its row
        chunks, an in-memory array gets one shard per worker."""),
    "query_block_size": ("int", """
        Rows per query block of an in-memory query array (a dask array keeps
        its chunks). A block is sent to every shard; a merge holds at most
        ``2 × query_block_size × n_neighbors`` pairs."""),
    "client": ("distributed.Client", """
        The cluster; None means the current default client
        (``distributed.get_client()``)."""),
    "n_jobs": ("int", """
        Kernel threads of each shard's build and queries; None means the
        threads of the worker running it."""),
}

#: name -> (numpydoc type, description)
DASK_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "shards_": ("list of distributed.Future", """
        One future per shard (a :class:`~sklearn_covertreex.dask.shard.Shard`
        living on a worker); the client holds no data."""),
    "shard_sizes_": ("tuple of int", "Rows per shard."),
    "offsets_": ("tuple of int", """
        Global id of each shard's first row (shards are in id order)."""),
}

_PLACEHOLDER = re.compile(r"^( *)%\((\w+)\)s$", flags=re.MULTILINE)

E = TypeVar("E", bound=type)


def document_dask(cls: E) -> E:
    """Class decorator: the Dask entries, then :func:`document_params`."""
    if cls.__doc__ is None:  # python -OO
        return cls
    signature = inspect.signature(cls.__init__)

    def entry(match: re.Match[str]) -> str:
        indent, name = match.group(1), match.group(2)
        if name in DASK_PARAMS:
            kind, doc = DASK_PARAMS[name]
            default = signature.parameters[name].default
            header = f"{name} : {kind}, default={default!r}"
        elif name in DASK_ATTRIBUTES:
            kind, doc = DASK_ATTRIBUTES[name]
            header = f"{name} : {kind}"
        else:
            return match.group(0)  # a shared entry: document_params writes it
        body = textwrap.indent(textwrap.dedent(doc).strip(), indent + "    ")
        return f"{indent}{header}\n{body}"

    cls.__doc__ = _PLACEHOLDER.sub(entry, cls.__doc__)
    return document_params(cls)
