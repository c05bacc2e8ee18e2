"""A restricted unpickler for the Planetoid files (Python 2 pickles of numpy/scipy objects).

A bare ``pickle.load`` of a downloaded file runs whatever code the file names. This
unpickler resolves only the few numpy and scipy.sparse globals those files are made of.
"""

from __future__ import annotations

import collections
import pickle
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from tfgraphtune.data.errors import ValidationError


def _numpy_reconstruct():
    from numpy._core.multiarray import _reconstruct

    return _reconstruct


_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct(),
    ("scipy.sparse.csr", "csr_matrix"): sp.csr_matrix,
    ("scipy.sparse._csr", "csr_matrix"): sp.csr_matrix,
    ("scipy.sparse", "csr_matrix"): sp.csr_matrix,
    # The adjacency file is a collections.defaultdict(list).
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that admits only numpy arrays, scipy CSR matrices and dict-of-lists."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only numpy/scipy.sparse data is allowed"
            ) from None


def load_planetoid_pickle(path: Path):
    """Loads one Planetoid file: a dense array, a CSR matrix or the adjacency dict.

    Returns:
      A numpy array, a `scipy.sparse.csr_matrix`, or a ``dict[int, list[int]]``.

    Raises:
      ValidationError: The file holds anything else.
    """
    try:
        with open(path, "rb") as stream:
            obj = RestrictedUnpickler(stream, encoding="latin1").load()
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001  (a malformed pickle fails in many ways)
        message = str(err).strip()[:200] or type(err).__name__
        raise ValidationError(f"{path} is not a Planetoid data file: {message}") from None
    if isinstance(obj, sp.csr_matrix):
        # Rebuild from the raw buffers: the pickle carries an old scipy's attribute layout.
        try:
            state = vars(obj)
            shape = state.get("_shape", state.get("shape"))
            return sp.csr_matrix(
                (
                    np.asarray(state["data"]),
                    np.asarray(state["indices"]),
                    np.asarray(state["indptr"]),
                ),
                shape=tuple(shape),
            )
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise ValidationError(
                f"{path} holds a malformed sparse matrix ({str(err)[:200] or type(err).__name__})."
            ) from None
    if isinstance(obj, np.ndarray) and obj.dtype != object:
        return obj
    if isinstance(obj, dict):
        try:
            return {int(k): [int(v) for v in values] for k, values in obj.items()}
        except (TypeError, ValueError, OverflowError):
            raise ValidationError(
                f"{path} must map each node id to a list of node ids (the adjacency lists); "
                "some entry is not."
            ) from None
    raise ValidationError(f"{path} holds a {type(obj).__name__}, not Planetoid data.")
