"""Training torch networks and writing per-epoch weight snapshots (Barney, Winer & Galitski,
arXiv 2408.06421, section 3). torch is imported only by the modules that train."""
