"""Small helpers every stage may use: dense attributes <-> NumPy, the IR
checks xDSL's verifier leaves out, IR size limits, machine facts and the
tuning store.
"""
