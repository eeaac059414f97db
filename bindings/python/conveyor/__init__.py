"""conveyor: a high-throughput dataset pipeline engine.

``conveyor.dataset`` mirrors ``mindspore.dataset`` (migrating is an import line); the engine is
native C++ (oneTBB), and batches reach NumPy and torch without copying.
"""

from conveyor._core import PipelineError, Tensor

__all__ = ["PipelineError", "Tensor"]
__version__ = "0.1.0"
