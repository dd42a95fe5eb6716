"""The Event Atlas dashboard: ``streamlit run dashboard/app.py``.

``app.py`` only wires Streamlit widgets; the logic lives in importable,
Streamlit-free modules: :mod:`dashboard.data` (load and filter frames),
:mod:`dashboard.mapview` (the folium map), :mod:`dashboard.export` (GeoJSON)
and :mod:`dashboard.assets` (the map's JS/CSS, served locally).
"""
