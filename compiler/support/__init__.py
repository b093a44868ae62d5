"""Small helpers every stage may use: dense attributes <-> NumPy, the IR
checks xDSL's verifier leaves out, IR size limits, machine facts, the
tuning store, wall-time breakdowns of a compilation and the colorings that
compress sparse derivatives.
"""
