"""UN/EDIFACT for Teledespacho: CUSDEC D.96B declarations in, CUSRES D.96B responses out.

``lexer`` splits segments for everything else, ``syntax`` reads and writes interchanges,
``charsets`` maps UNOA/UNOB/UNOC...
to codecs, ``cusdec_read``/``cusdec_write`` map declarations both ways and ``cusres`` the
office's answers. docs/edifact.md is the implementation guide they follow.
"""

from __future__ import annotations

from edi_formats.edifact.cusdec_read import parse_cusdec
from edi_formats.edifact.cusdec_write import render_cusdec
from edi_formats.edifact.cusres import parse_cusres, render_cusres

__all__ = ["parse_cusdec", "parse_cusres", "render_cusdec", "render_cusres"]
