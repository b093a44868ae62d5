"""Automatic differentiation at the array level.

    rules.py      JVP_RULES / VJP_RULES: one rule per `array` op
    emitter.py    what rules are written in: an op builder with symbolic zeros
    transform.py  jvp_function, vjp_function, grad_function, inline_calls
    jacobian.py   jacfwd_function, jacrev_function, hessian_function (vector mode)
    batching.py   batch_function (vmap), used by the Jacobians
    requests.py   expanding `autodiff` request ops in dependency order
    checkpointing.py  schedules for reversing loops: tape all, every k, binomial

The passes that use them are passes/autodiff_forward.py,
autodiff_reverse.py, autodiff_jacobian.py and differentiate.py.
"""
