"""Development tools, run from the checkout and never installed: the reliability harness
(``make reliability``), JupyterLab/Voila with a sandbox (``make lab``, ``make app``), the
browser and screenshot helpers (``make screenshots``) and the demo driver (``make demo``).
"""
