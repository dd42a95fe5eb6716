"""The panels below the map wait, on a page's first load, until the map is drawn.

Streamlit's browser code loads the code of every element type on the page
before it shows any of them: the charts (Vega, ~0.8 MB of JavaScript), the
table (Arrow and the data grid, ~1.2 MB) and the review panel held the map
back by a second or more at 100,000 events, and the server, building those
panels, starved the requests for the map's own scripts. So on a session's
first run the panels below the map are left out; a hidden component
(``components/after_map``) watches the map's frame and, once it says its
events are drawn (``data-ea-ready``, or after ``timeout_ms``), reruns the
panels' fragment, which draws them. Later runs of the session draw
everything at once: the browser has all the code by then.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

#: Session flag: the browser has reported the map drawn once.
READY_KEY = "_ea_map_drawn_once"
#: Container of the note shown while the panels wait (its CSS class is
#: ``st-key-`` + this: browser tests and the bench wait for it to go).
PENDING_KEY = "ea_panels_pending"
#: The map's frame, as streamlit-folium names its component.
MAP_FRAME = "streamlit_folium.st_folium"
#: Draw the panels anyway after this long (a map that never reports).
TIMEOUT_MS = 8000

_component = components.declare_component(
    "event_atlas_after_map", path=str(Path(__file__).resolve().parent / "components" / "after_map"))


def map_drawn(enabled: bool = True, key: str = "after_map") -> bool:
    """True when the panels below the map may be drawn in this run: waiting
    is off (``enabled`` False: Settings.panels_after_map), the session's map
    was drawn before, or the watcher says it just was."""
    if not enabled or st.session_state.get(READY_KEY):
        return True
    if _component(map_frame=MAP_FRAME, timeout_ms=TIMEOUT_MS, key=key, default=False):
        st.session_state[READY_KEY] = True
        return True
    return False
