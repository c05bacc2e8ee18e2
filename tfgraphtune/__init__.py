"""tfgraphtune: pre-train and fine-tune graph neural networks on TensorFlow/Keras.

Importing this package selects Keras 2 (tf_keras) for ``tf.keras`` before TensorFlow is
imported, so TF-GNN GraphTensors work whatever ``TF_USE_LEGACY_KERAS`` was set to.
"""

from tfgraphtune import _keras_setup  # noqa: F401  (must run before TensorFlow is imported)
from tfgraphtune._keras_setup import KerasVersionError

__version__ = "0.1.0"

__all__ = ["KerasVersionError", "__version__"]
