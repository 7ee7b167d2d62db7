"""Model providers behind one small async interface (see `base.py`)."""
