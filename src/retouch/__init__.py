"""retouch: segment what should go in a photo, refine the mask, inpaint the hole.

>>> import retouch
>>> sorted(set(retouch.registry.KINDS))
['inpaint', 'refine', 'segment']
"""

from . import inpaint, registry, segment
from ._validate import ImageFileError, RetouchError

__version__ = "0.1.0"

__all__ = ["RetouchError", "ImageFileError", "registry", "segment", "inpaint", "__version__"]
