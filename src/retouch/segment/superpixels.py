"""Superpixels: SLIC, Felzenszwalb or watershed segments, and the ones under clicks.

:func:`superpixel_labels` returns the label image; :func:`superpixels` (the
registered segmenter) returns the mask of the segments under given points.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from scipy import ndimage as ndi
from skimage.filters import sobel
from skimage.morphology import h_minima
from skimage.segmentation import felzenszwalb, relabel_sequential, slic, watershed

from .. import registry
from ..convert import split_alpha, to_float, to_lab
from ..validate import RetouchError, check_image, check_number, check_points

__all__ = ["superpixels", "superpixel_labels"]

Method = Literal["slic", "felzenszwalb", "watershed"]


def _lab_gradient(lab: np.ndarray) -> np.ndarray:
    """Colour gradient: Euclidean norm of the Sobel magnitudes of L, a, b (Lab / 100)."""
    scaled = lab.astype(np.float64) / 100.0
    return np.sqrt(sum(sobel(scaled[..., c]) ** 2 for c in range(3)))


def _grid_markers(shape: tuple[int, int], n: int) -> np.ndarray:
    """About ``n`` markers on a regular grid (the seeds SLIC starts from)."""
    h, w = shape
    step = max(1.0, float(np.sqrt(h * w / n)))
    ys = np.arange(step / 2, h, step).astype(int)
    xs = np.arange(step / 2, w, step).astype(int)
    markers = np.zeros(shape, np.int32)
    yy, xx = np.meshgrid(np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1), indexing="ij")
    markers[yy.ravel(), xx.ravel()] = np.arange(1, yy.size + 1, dtype=np.int32)
    return markers


@registry.checked("segment")
def superpixel_labels(
    image: np.ndarray,
    *,
    algorithm: Method = "slic",
    n_segments: Annotated[int, Field(ge=1)] = 400,
    compactness: Annotated[float, Field(ge=0)] | None = None,
    scale: Annotated[float, Field(gt=0)] = 100.0,
    sigma: Annotated[float, Field(ge=0, le=20)] = 0.8,
    min_size: Annotated[int, Field(ge=1)] = 20,
    markers: Literal["grid", "minima"] = "grid",
) -> np.ndarray:
    """Split an image into superpixels and return the label image.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    algorithm : {'slic', 'felzenszwalb', 'watershed'}
        SLIC (k-means in Lab and position), Felzenszwalb's graph merging, or a
        watershed of the Lab colour gradient.
    n_segments : int
        About how many segments SLIC and grid-marker watershed make.
    compactness : float, optional
        Trade-off between colour and shape: higher is more square. Default:
        10 for SLIC (on Lab values), 0 for watershed (classic watershed;
        try 0.001 to 0.01 for regular segments). Not used by Felzenszwalb.
    scale : float
        Felzenszwalb's scale: higher makes larger segments.
    sigma : float
        Standard deviation in pixels of the Gaussian smoothing before
        segmenting (SLIC and Felzenszwalb) or before the gradient (watershed).
    min_size : int
        Felzenszwalb's smallest segment in pixels.
    markers : {'grid', 'minima'}
        Watershed seeds: ``n_segments`` points on a regular grid, or the
        regional minima of the gradient deeper than 2 % of its range (the
        number of segments then follows the image).

    Returns
    -------
    ndarray of int32
        ``H x W`` labels 0 .. n - 1, one per superpixel.

    Raises
    ------
    RetouchError
        For an unknown keyword or a setting out of range (one line, from the
        same settings checker as :func:`superpixels`), and for images retouch
        does not take: 3-D volumes, channel-first (``C x H x W``) arrays and
        images with other than 1, 3 or 4 channels, each named in the message.

    Notes
    -----
    Where this differs from ``skimage.segmentation``, on purpose:

    - Felzenszwalb's ``scale`` must be greater than 0 (scikit-image's
      ``scale=0`` runs only its merging of small segments), and its default
      here is 100, not 1: segments a person can click on in a photo.
    - SLIC always clusters in CIE Lab, with ``compactness`` in Lab units
      (a grey picture is its L channel), enforces connectivity, and reads a
      uint16 image on 0..65535 (the file's scale) where scikit-image stretches
      each image from its minimum to its maximum: a uint16 copy made with
      ``* 257`` segments like the uint8 picture, one made with ``* 256`` is a
      slightly darker picture.
    - The watershed floods the Lab colour gradient of the picture from
      markers it makes itself (``markers``); it takes no relief image,
      markers, mask or connectivity.
    - Labels are int32 from 0 for every algorithm (scikit-image's watershed
      returns its markers' dtype, its SLIC starts at 1 by default).

    References
    ----------
    R. Achanta, A. Shaji, K. Smith, A. Lucchi, P. Fua, S. Süsstrunk, "SLIC
    Superpixels Compared to State-of-the-Art Superpixel Methods", IEEE TPAMI
    34(11), 2012. :DOI:`10.1109/TPAMI.2012.120`

    P. F. Felzenszwalb, D. P. Huttenlocher, "Efficient Graph-Based Image
    Segmentation", IJCV 59(2), 2004. :DOI:`10.1023/B:VISI.0000022288.95266.c8`

    P. Neubert, P. Protzel, "Compact Watershed and Preemptive SLIC", ICPR
    2014. :DOI:`10.1109/ICPR.2014.181`

    Examples
    --------
    >>> from skimage import data
    >>> from retouch.segment.superpixels import superpixel_labels
    >>> labels = superpixel_labels(data.astronaut()[:128, :128], n_segments=50)
    >>> labels.shape, labels.dtype, int(labels.min())
    ((128, 128), dtype('int32'), 0)
    """
    image = check_image(image)
    n = int(check_number(n_segments, "n_segments", low=1, integer=True))
    comp = None if compactness is None else check_number(compactness, "compactness", low=0)
    sc = check_number(scale, "scale", low=0, low_open=True)
    sig = check_number(sigma, "sigma", low=0)
    ms = int(check_number(min_size, "min_size", low=1, integer=True))

    if algorithm == "slic":
        lab = to_lab(image).astype(np.float64)
        # skimage stretches its input to [0, 1] (min and max over all channels)
        # before measuring colour distances; dividing the compactness by the
        # same span keeps distances, and so the compactness, in Lab units.
        span = float(lab.max() - lab.min()) or 1.0
        labels = slic(
            lab, n_segments=n, compactness=(10.0 if comp is None else comp) / span, sigma=sig,
            start_label=0, convert2lab=False, channel_axis=-1, enforce_connectivity=True,
        )
    elif algorithm == "felzenszwalb":
        color, _ = split_alpha(image)
        f = to_float(color).astype(np.float64)
        labels = felzenszwalb(f, scale=sc, sigma=sig, min_size=ms, channel_axis=-1 if f.ndim == 3 else None)
    elif algorithm == "watershed":
        lab = to_lab(image)
        if sig > 0:
            lab = ndi.gaussian_filter(lab, (sig, sig, 0), mode="nearest")
        grad = _lab_gradient(lab)
        if markers == "grid":
            seeds = _grid_markers(grad.shape, n)
        elif markers == "minima":
            depth = 0.02 * float(grad.max() - grad.min())
            seeds, _ = ndi.label(h_minima(grad, depth) if depth > 0 else np.ones(grad.shape, bool))
        else:
            raise RetouchError(f"markers must be one of grid, minima; got {markers!r}")
        labels = watershed(grad, seeds, compactness=0.0 if comp is None else comp)
    else:
        raise RetouchError(f"algorithm must be one of slic, felzenszwalb, watershed; got {algorithm!r}")
    labels, _, _ = relabel_sequential(np.asarray(labels) - int(np.min(labels)))
    return labels.astype(np.int32, copy=False)


@registry.register("segment")
def superpixels(
    image: np.ndarray,
    *,
    points: list[tuple[float, float]],
    algorithm: Method = "slic",
    n_segments: Annotated[int, Field(ge=1)] = 400,
    compactness: Annotated[float, Field(ge=0)] | None = None,
    scale: Annotated[float, Field(gt=0)] = 100.0,
    sigma: Annotated[float, Field(ge=0, le=20)] = 0.8,
    min_size: Annotated[int, Field(ge=1)] = 20,
    markers: Literal["grid", "minima"] = "grid",
) -> np.ndarray:
    """Select the superpixels under the given points.

    Parameters
    ----------
    image : ndarray
        ``H x W`` grey, ``H x W x 3`` RGB or ``H x W x 4`` RGBA (alpha is
        ignored); uint8, uint16 or float32 in [0, 1].
    points : list of (x, y)
        Pixels whose superpixels are selected.
    algorithm : {'slic', 'felzenszwalb', 'watershed'}
        How the image is split (see :func:`superpixel_labels`).
    n_segments : int
        About how many segments SLIC and grid-marker watershed make.
    compactness : float, optional
        Colour against shape trade-off (SLIC default 10, watershed default 0).
    scale : float
        Felzenszwalb's scale: higher makes larger segments.
    sigma : float
        Standard deviation in pixels of the Gaussian smoothing first.
    min_size : int
        Felzenszwalb's smallest segment in pixels.
    markers : {'grid', 'minima'}
        Watershed seeds: a regular grid or the gradient's regional minima.

    Returns
    -------
    ndarray of bool
        ``H x W`` mask, the union of the segments that contain a point.

    Raises
    ------
    RetouchError
        If there are no points or a point is outside the image.

    References
    ----------
    R. Achanta et al., "SLIC Superpixels Compared to State-of-the-Art
    Superpixel Methods", IEEE TPAMI 34(11), 2012. :DOI:`10.1109/TPAMI.2012.120`

    Examples
    --------
    >>> import numpy as np
    >>> from retouch.segment.superpixels import superpixels
    >>> image = np.zeros((40, 60), np.uint8); image[:, 30:] = 255
    >>> mask = superpixels(image, points=[(45, 20)], algorithm="felzenszwalb", sigma=0)
    >>> bool(mask[:, 30:].all()), bool(mask[:, :30].any())
    (True, False)
    """
    image = check_image(image)
    pts = check_points(points, image.shape, "points")
    labels = superpixel_labels(
        image, algorithm=algorithm, n_segments=n_segments, compactness=compactness, scale=scale,
        sigma=sigma, min_size=min_size, markers=markers,
    )
    chosen = np.unique(labels[pts[:, 1], pts[:, 0]])
    return np.isin(labels, chosen)
