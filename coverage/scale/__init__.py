"""Scale: the same prediction tile by tile, in this process or on a dask cluster.

* :mod:`coverage.scale.tiling` — the tile layout and which sites reach which tile;
* :mod:`coverage.scale.cluster` — opening a cluster (embedded or remote) and its checks;
* :mod:`coverage.scale.tasks` — the task functions (site, tile, any-operator, candidate),
  the same in this process and on workers;
* :mod:`coverage.scale.runners` — submitting the tasks and collecting finished tiles;
* :mod:`coverage.scale.cogs` — finished tiles written into cloud-optimised GeoTIFFs;
* :mod:`coverage.scale.streaming` — the prediction step of a region too large for memory;
* :mod:`coverage.scale.candidates` — candidate predictions for planning on a cluster;
* :mod:`coverage.scale.backend` — the one choice of where a run's predictions run.

``scale`` imports :mod:`coverage.predict`, never the reverse.
"""
