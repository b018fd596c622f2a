"""Radio propagation: path-loss models, diffraction primitives, area engine.

Modules
-------
diffraction
    numba scalar / profile primitives shared by ITU-R P.1812 and the area engine
    (knife-edge J(nu), Bullington, spherical-earth and delta-Bullington diffraction).
p1812
    ITU-R P.1812-8 basic transmission loss for one terrain profile.
models
    Closed-form models: free space (P.525), Okumura-Hata, COST-231 Hata.

jitcache
    Where numba keeps the compiled kernels (configured here, before numba is imported).

numba is imported only by the kernel modules here, never by the light commands (see the note
in ``coverage/__init__.py`` on the name clash with coverage.py).
"""

from coverage.radio import jitcache

jitcache.configure()

__all__: list[str] = []
