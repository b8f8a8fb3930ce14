"""Packaging hook: a package install carries the sources that ``ptcekb build`` reads.

The ontology, shapes, competency questions and curated data live at the top of the repository
(DESIGN.md's layout). An editable install reads them there; a wheel or a plain ``pip install .``
copies them into ``ptcekb/_sources/``, where ``ptcekb.config.SOURCES_ROOT`` finds them, so that
``ptcekb build`` works from any directory. The upstream copies of ``data/upstream/`` are for
maintainers and tests, not for the build, and stay out.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCES = ("ontology", "shapes", "queries", "data")
LEFT_OUT = ("upstream", "__pycache__")


class BuildWithSources(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # the repository itself is read
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "ptcekb" / "_sources"
        shutil.rmtree(target, ignore_errors=True)
        for name in SOURCES:
            shutil.copytree(root / name, target / name, ignore=shutil.ignore_patterns(*LEFT_OUT))


setup(cmdclass={"build_py": BuildWithSources})
