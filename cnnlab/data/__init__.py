"""Data shipped with cnnlab's numeric core: natural photographs (see PHOTOS.md)."""
