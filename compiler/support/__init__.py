"""Small helpers every stage may use: dense attributes <-> NumPy, nested
function lookup, IR size limits, machine facts and the tuning store."""
