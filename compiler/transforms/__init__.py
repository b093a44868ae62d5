"""The entry points that take Python functions: `jit`, `lower`, `export_c`
(api), `grad` and its kin (derivatives), `scan`, `fori_loop` and
`checkpoint` (control_flow)."""
