"""Automatic differentiation at the array level: the machinery the
derivative passes share.

    emitter.py     what rules are written in: an op builder with symbolic zeros
    rules.py       JVP_RULES / VJP_RULES: one rule per `array` op
    scan_rules.py  MULTI_JVP_RULES / MULTI_VJP_RULES: `array.scan`
    transform.py   jvp_function, vjp_function, grad_function, inline_calls
    jacobian.py    jacfwd_function, jacrev_function, hessian_function (vector mode)
    elimination.py mode "auto": the cost model, its candidates, the emitter
    batching.py    batch_function (vmap), used by the Jacobians
    requests.py    expanding `autodiff` request ops in dependency order

Checkpoint schedules for reversing loops live in the autodiff dialect
(dialects/autodiff/checkpointing.py). The passes that use this package are
passes/autodiff_forward.py, autodiff_reverse.py, autodiff_jacobian.py and
differentiate.py; how it all fits: docs/differentiation.md.
"""
