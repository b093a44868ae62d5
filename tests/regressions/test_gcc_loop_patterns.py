"""gcc 12 miscompiles this C (reduced from what gradc generated for a
jacrev through a fori_loop with plan_memory=False, found by the program
fuzzer, lit/regressions/found-gcc-loop-patterns.py) at -O3
-march=native -fno-tree-slp-vectorize on AVX-512 machines: element 3 of
`t10` must stay 0 (its seed in `k8` is 0), it comes out nonzero. The
loop-to-memcpy/memset rewrite is what breaks it; gradc's default flags
turn it off (compiler/backend/build.py), and this test checks that they give the
right number with whatever compiler $CC is, also when a user's own flags
replace the defaults (gradc keeps the workarounds then; with only
-fno-tree-slp-vectorize of the two, gcc 12 gives -1.6243755206597532)."""

import subprocess

import pytest

from gradc.backend.build import compiler_command, resolve_flags

SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <stdio.h>
__attribute__((noinline))
int g(double *restrict out_1, void *restrict work) {
    static const double k0[5] = {0.0, 0.0, 0.0, 1.0, 0.0};
    double *restrict t3 = (double *)((char *)work + 128);
    double *restrict t5 = (double *)((char *)work + 256);
    t3[0] = 0; t3[1] = 1; t3[2] = 2; t5[0] = 0.4058; t5[1] = 0.2; t5[2] = 0.1;
    static const double k8[5] = {1.0, 1.0, 1.0, 0.0, 1.0};
    double *restrict t9 = (double *)((char *)work + 448);
    double *restrict t10 = (double *)((char *)work + 512);
    double *restrict t11 = (double *)((char *)work + 576);
    double *restrict t12 = (double *)((char *)work + 640);
    for (int64_t i = 0; i < 5; ++i) t9[i] = k8[i];
    for (int64_t i = 0; i < 5; ++i) t10[i] = 0.0;
    for (int64_t step = 0; step < 3; ++step) {
        double *restrict t13 = (double *)((char *)work + 704);
        const double v2 = t5[step * -1 + 2];
        t13[0] = cos(v2);
        for (int64_t i = 0; i < 5; ++i) t11[i] = t9[i] * 0.5 * t13[0];
        for (int64_t i = 0; i < 5; ++i) t12[i] = t10[i] + t9[i] * t3[step * -1 + 2];
        for (int64_t i = 0; i < 5; ++i) t9[i] = t11[i];
        for (int64_t i = 0; i < 5; ++i) t10[i] = t12[i];
    }
    double *restrict t14 = (double *)((char *)work + 768);
    for (int64_t i = 0; i < 5; ++i) t14[i] = -(k0[i] + t10[i] * 0.25);
    out_1[0] = t14[3];
    return 0;
}
int main(void) { static double work[200]; double o; g(&o, work); printf("%.17g\n", o); return 0; }
"""


@pytest.mark.parametrize("user_flags", [None, ("-O3", "-march=native"), ("-O3", "-march=native", "-fno-tree-slp-vectorize")],
                         ids=["default", "O3-native", "O3-native-no-slp"])
def test_default_flags_compile_the_reverse_scan_copies_right(tmp_path, user_flags) -> None:
    (tmp_path / "scan.c").write_text(SOURCE)
    subprocess.run([*compiler_command(), *resolve_flags(user_flags), "scan.c", "-o", "scan", "-lm"],
                   cwd=tmp_path, check=True, capture_output=True)
    out = subprocess.run([str(tmp_path / "scan")], capture_output=True, text=True, check=True)
    assert float(out.stdout) == -1.0
