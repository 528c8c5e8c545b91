"""Damage detectors: scratches, dust spots and overlaid text, with their models.

Each detector finds one kind of damage nobody wants to trace by hand and
returns a bool ``H x W`` mask (True = damage), ready to grow a little and
fill. They are registered as segment methods (``scratches``, ``spots``,
``text``, ``damage``) and re-exported by :mod:`retouch.segment`.

The parts, in the order a photo goes through them:

- :mod:`.detectors`: the three public functions and the steps they share
  with the training scripts (:func:`~.detectors.scratch_chains`,
  :func:`~.detectors.spot_candidates`, :func:`~.detectors.colour_float`);
- :mod:`.lines`: line response, chains and the measures of a scratch chain;
- :mod:`.specks`: dust candidates and the measures of a speck;
- :mod:`.glyphs`: colour modes, glyphs and lines of overlaid text;
- :mod:`.trees`: loading the shipped tree models and what they say of a row;
- :mod:`.speck_net`: the speck network (ONNX, run by ``cv2.dnn``);
- :mod:`.damage_net`: the damage network (ONNX, run by ``cv2.dnn``) that :func:`~.detectors.damage` runs;
- ``models/``: the shipped model files, made by the scripts in ``training/``.
"""

from .detectors import damage, scratches, spots, text

__all__ = ["scratches", "spots", "text", "damage"]
