"""Build the Cython kernels in ``src/omsim/_kernels``.

Compiler directives are set here, once for every kernel: bounds checking and
negative indexing off, C division on. ``OMSIM_DEBUG=1`` builds with bounds
checks on (and ``-O0 -g``) for chasing memory errors.  ``OMSIM_KERNELS`` (a
comma-separated list of kernel names) restricts a development build to some
kernels.
"""
import glob
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("OMSIM_DEBUG", "") not in ("", "0")
ONLY = {k.strip() for k in os.environ.get("OMSIM_KERNELS", "").split(",") if k.strip()}

directives = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "cdivision": not DEBUG,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "embedsignature": True,
}
compile_args = ["-O0", "-g"] if DEBUG else ["-O3"]

extensions = []
for pyx in sorted(glob.glob(os.path.join("src", "omsim", "_kernels", "*.pyx"))):
    name = os.path.splitext(os.path.basename(pyx))[0]
    if ONLY and name.lstrip("_") not in ONLY and name not in ONLY:
        continue
    extensions.append(
        Extension(
            f"omsim._kernels.{name}",
            [pyx],
            include_dirs=[np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=compile_args,
        )
    )

setup(
    ext_modules=cythonize(extensions, compiler_directives=directives, annotate=False),
)
