"""retouch: segment what should go in a photo, refine the mask, inpaint the hole.

The data flow is ``io.read -> segment.* -> refine.* -> inpaint.* -> io.write``;
:class:`retouch.pipeline.Recipe` runs the three steps, :func:`fill` is the one
fill-then-blend every front end calls, and :func:`remove` / :func:`restore`
are one-call recipes. The front ends (``retouch.cli``, ``retouch.demo``,
``retouch.web``, ``retouch.batch``) sit on top; the core never imports them.

>>> import retouch
>>> sorted(retouch.registry.KINDS)
['inpaint', 'refine', 'segment']
"""

from . import inpaint, io, refine, registry, segment
from .validate import ImageFileError, RetouchError
from .io import read, read_mask, write, write_mask
from .pipeline import Recipe, fill, remove, restore

__version__ = "0.1.0"

__all__ = [
    "RetouchError",
    "ImageFileError",
    "Recipe",
    "fill",
    "read",
    "read_mask",
    "write",
    "write_mask",
    "remove",
    "restore",
    "io",
    "registry",
    "segment",
    "refine",
    "inpaint",
    "__version__",
]
