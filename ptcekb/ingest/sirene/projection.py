"""Lambert-93 (the coordinates of SIRENE establishments) -> WGS84 longitude and latitude."""

from __future__ import annotations

import math


# Lambert-93 (EPSG:2154): Lambert conformal conic on GRS80, secant at 44° and 49° N, origin 46.5° N
# 3° E, false easting 700,000 m, false northing 6,600,000 m. Constants of IGN's algorithms
# (notes techniques NT/G 71, ALG0004 for the inverse): n, C and Ys computed from those parameters.
_E = 0.0818191910428158                    # first eccentricity of GRS80
_N = 0.7256077650532670
_C = 11754255.426096
_XS, _YS = 700000.0, 12655612.049876
_LON0 = math.radians(3.0)


def lambert93_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """(longitude, latitude) in degrees of a Lambert-93 point (RGF93 ~ WGS84 to better than a metre)."""
    dx, dy = x - _XS, y - _YS
    radius = math.hypot(dx, dy)
    gamma = math.atan2(dx, -dy)
    lon = _LON0 + gamma / _N
    isometric = -math.log(radius / _C) / _N
    lat = 2 * math.atan(math.exp(isometric)) - math.pi / 2
    for _ in range(20):  # ALG0001: latitude from isometric latitude
        e_sin = _E * math.sin(lat)
        new = 2 * math.atan(((1 + e_sin) / (1 - e_sin)) ** (_E / 2) * math.exp(isometric)) - math.pi / 2
        if abs(new - lat) < 1e-12:
            lat = new
            break
        lat = new
    return math.degrees(lon), math.degrees(lat)


# Metropolitan France and Corsica, generously: a converted point outside is a wrong coordinate.
METROPOLE = (-5.8, 41.2, 10.0, 51.3)
