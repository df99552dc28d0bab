"""Learning from outcomes: evaluation against labels (SCORING.md), training sets, backtests.

Submodules are imported by what they do (``rampart.learn.evaluate``); this package imports
nothing on its own so that loading one tool never pays for the others.
"""
