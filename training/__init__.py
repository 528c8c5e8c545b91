"""How every model retouch ships is made: ``python -m training.NAME --data DIR``.

- ``train_scratches``: the random forest that weighs scratch chains
  (``src/retouch/segment/defects/models/scratches_forest.yml.gz``);
- ``train_spots``: the gradient-boosted trees that weigh dust candidates
  (``spots_colour.npz``, ``spots_grey.npz``);
- ``train_spots_net``: the speck network (``spots_net.onnx``), step by step;
- ``common``: the command line, row extraction and forest fitting the first two share;
- ``export``: scikit-learn's boosted trees written as the arrays retouch walks.

Training is not a benchmark: ``benchmarks/`` only scores and times. Both read
the data under ``--data`` (see ``shared/data/README.md``); training never uses
the CBSD68 photos that ``benchmarks.restore`` scores on.
"""
