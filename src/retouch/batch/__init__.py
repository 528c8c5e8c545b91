"""Run one recipe over a folder of images: a local process pool, or a Dask cluster.

:func:`run` walks ``INPUT`` recursively and writes each result under
``OUTPUT`` at the same relative path (the extension follows the recipe's
``[output] format``). Each image is read, processed and written by a worker,
which sends back a small record (status, seconds, megapixels, error line);
pixels never travel through the coordinator, so the same tasks run on a
process pool over the local cores or, with ``scheduler="tcp://HOST:8786"``,
on a Dask distributed cluster whose workers reach the files (shared storage,
or an fsspec URL such as ``s3://bucket/photos``).

Resume
------
Every output is written atomically (a hidden temporary file renamed into
place), so an output that exists is complete. The coordinator keeps a journal,
``OUTPUT/.retouch-batch.jsonl``: before an image is handed to a worker it
records ``started`` with the image's *fingerprint* (a hash of the recipe, the
input's size and modification time, its mask file's and its sidecar values),
and ``done`` / ``failed`` when the record comes back. A rerun then

- skips an image whose output exists and whose journal entry has the same
  fingerprint (also a ``started`` one: the output can only have come from
  that task, since stale outputs are deleted before their task starts);
- redoes an image whose fingerprint changed (the recipe or the input
  changed), whose output is missing, or that failed;
- leaves alone an output that exists with no journal entry (a file that
  retouch did not write), and counts it as skipped; ``overwrite=True``
  redoes everything;
- deletes the hidden temporary files a killed run left behind.

A killed coordinator takes its pool workers along (Linux), and a failing
image (corrupt file, mask of the wrong size) becomes a ``failed`` record while
the batch goes on.

>>> import tempfile, os, numpy as np
>>> from skimage import data
>>> from retouch import io, batch
>>> from retouch.pipeline import Recipe
>>> root = tempfile.mkdtemp(); os.makedirs(os.path.join(root, "in"))
>>> for name in ("a", "b"):
...     _ = io.write(os.path.join(root, "in", name + ".png"), data.camera()[:64, :64])
>>> recipe = Recipe.from_dict({"inputs": {"sidecar": os.path.join(root, "boxes.csv"), "box_as_mask": True}, "inpaint": "telea"})
>>> _ = open(os.path.join(root, "boxes.csv"), "w").write("image,x,y,w,h\\na.png,10,10,8,8\\nb.png,20,20,8,8\\n")
>>> report = batch.run(os.path.join(root, "in"), os.path.join(root, "out"), recipe, workers=0)
>>> report.counts
{'done': 2, 'skipped': 0, 'failed': 0}
>>> batch.run(os.path.join(root, "in"), os.path.join(root, "out"), recipe, workers=0).counts
{'done': 0, 'skipped': 2, 'failed': 0}

Parts
-----
- :mod:`~retouch.batch.planner`: walk the input and decide, per image, to run, copy, skip or fail it;
- :mod:`~retouch.batch.journal`: the resume journal and the lock on the output folder;
- :mod:`~retouch.batch.runner`: :func:`run`, on a local process pool, in this process or on Dask;
- :mod:`~retouch.batch.worker`: what a worker does with one image (read, run the recipe, write);
- :mod:`~retouch.batch.inputs`: per-image masks and sidecar values (CSV / JSON);
- :mod:`~retouch.batch.files`: local paths and fsspec URLs alike (walk, atomic writes);
- :mod:`~retouch.batch.report`: what a batch did (:class:`BatchReport`) and its summary table.
"""

from __future__ import annotations

from .journal import JOURNAL_NAME, LOCK_NAME, Journal, default_state
from .planner import Plan, Task, plan
from .report import REPORT_NAME, BatchReport, summary
from .runner import run

__all__ = ["run", "plan", "default_state", "summary", "BatchReport", "Task", "Plan", "Journal", "JOURNAL_NAME", "REPORT_NAME"]
