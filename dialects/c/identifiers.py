"""Which names generated C may use: `c_identifier` maps any symbol or SSA
name to a valid, unreserved C identifier, deterministically.

Guarantees: `c_identifier(name)` always passes `is_c_identifier`: it is a
valid C identifier, does not start with `_`, and is not a keyword, a name
the headers around generated code declare (libc, libm, cffi's Python.h), or
in a reserved name space (RESERVED_PATTERN). `show_symbol` quotes a hostile
name for a one-line diagnostic.

Why the lists are what they are: docs/dialects.md.
"""

from __future__ import annotations

import json
import re

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern "
    "float for goto if inline int long register restrict return short signed "
    "sizeof static struct switch typedef union unsigned void volatile while "
    "_Bool _Complex _Imaginary bool true false "
    # C11's header macros, C23's new keywords, GNU C's keywords (gcc's
    # default mode): a parameter named `asm` or `typeof` does not compile.
    "alignas alignof noreturn static_assert thread_local complex imaginary "
    "constexpr nullptr typeof typeof_unqual asm".split()
)
"""C99 keywords, the stdbool.h macros, and what C11, C23 and GNU C add."""

LIBRARY_NAMES = frozenset(
    "size_t ptrdiff_t NULL offsetof int8_t int16_t int32_t int64_t uint8_t "
    "uint16_t uint32_t uint64_t intptr_t uintptr_t intmax_t uintmax_t "
    "float_t double_t INFINITY NAN HUGE_VAL HUGE_VALF HUGE_VALL errno main "
    "math_errhandling signgam "
    # Lower-case object-like macros that gcc predefines in GNU mode or that the
    # headers of a cffi build (Python.h: stdio, errno, assert, sys/stat,
    # sched) define; a value of that name would be replaced by the macro.
    "linux unix i386 stdin stdout stderr assert alloca st_atime st_mtime st_ctime "
    "sched_priority environ va_start va_arg va_end va_copy offsetof FILE".split()
)
"""Types, macros and objects of the headers generated code is compiled with."""

LIBC_FUNCTIONS = frozenset(
    # <stdlib.h>, <string.h>, <strings.h>, <stdio.h>, <ctype.h>, <time.h>,
    # <unistd.h>: declared by the headers a Python extension module includes,
    # so a kernel named like one of them would not compile next to them.
    "abort abs atexit atof atoi atol atoll bsearch calloc div exit free getenv labs "
    "ldiv llabs lldiv malloc mblen mbstowcs mbtowc qsort rand realloc srand strtod "
    "strtof strtol strtold strtoll strtoul strtoull system wcstombs wctomb random "
    "srandom drand48 erand48 lrand48 mrand48 seed48 aligned_alloc posix_memalign "
    "memchr memcmp memcpy memmove memset strcat strchr strcmp strcoll strcpy strcspn "
    "strerror strlen strncat strncmp strncpy strpbrk strrchr strspn strstr strtok "
    "strxfrm strdup strndup index rindex bcmp bcopy bzero ffs strcasecmp strncasecmp "
    "clearerr fclose feof ferror fflush fgetc fgetpos fgets fopen fprintf fputc fputs "
    "fread freopen fscanf fseek fsetpos ftell fwrite getc getchar gets perror printf "
    "putc putchar puts remove rename rewind scanf setbuf setvbuf snprintf sprintf "
    "sscanf tmpfile tmpnam ungetc vfprintf vprintf vsnprintf vsprintf fileno "
    "isalnum isalpha isblank iscntrl isdigit isgraph islower isprint ispunct isspace "
    "isupper isxdigit tolower toupper clock difftime mktime time asctime ctime gmtime "
    "localtime strftime access alarm chdir close dup dup2 execv fork getpid pipe read "
    "sleep sync unlink write select poll".split()
)

MATH_FUNCTIONS = frozenset(
    # C99 <math.h>, its classification macros, and glibc's GNU extras
    "acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2 "
    "expm1 exp10 pow10 frexp ilogb ldexp log log10 log1p log2 logb modf scalb "
    "scalbn scalbln cbrt fabs hypot pow sqrt erf erfc lgamma tgamma gamma ceil "
    "floor nearbyint rint lrint llrint round lround llround trunc fmod remainder "
    "remquo drem copysign nan nextafter nexttoward fdim fmax fmin fma sincos "
    "significand j0 j1 jn y0 y1 yn finite fpclassify isfinite isinf isnan "
    "isnormal signbit isgreater isgreaterequal isless islessequal islessgreater "
    "isunordered".split()
)
"""Also taken with an `f` or `l` suffix (`expf`, `y0l`)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

RESERVED_PATTERN = re.compile(r"[A-Z]([A-Z0-9_]|\Z)|Py|PY|gradc_|omp_|pthread_|.*_t\Z")
"""Names that belong to someone else by convention, so that no list of them
is ever complete: macro style (`EOF`, `M_PI`, `PRIdMAX`, `X`: an upper-case
letter not followed by a lower-case one), the Python C API (`Py_None` is a
macro in the cffi build), gradc's own helpers and vector types
(`gradc_tanhf`, `gradc_f32x16`), OpenMP and pthreads, and POSIX's `_t`
typedefs (`ssize_t`, `pid_t`)."""


def is_reserved(name: str) -> bool:
    """Keywords, everything the headers around generated code declare, and
    the reserved name spaces (RESERVED_PATTERN)."""
    if name in C_KEYWORDS or name in LIBRARY_NAMES or name in LIBC_FUNCTIONS or name in MATH_FUNCTIONS:
        return True
    if RESERVED_PATTERN.match(name):
        return True
    return is_math_function(name)


GRADC_PREFIX = "gradc_"


def show_symbol(name: str) -> str:
    """`@name` as MLIR spells it, quoted and escaped (`@"f\\n;"`) unless bare,
    so that a hostile name stays on one line of a diagnostic."""
    if re.fullmatch(r"[A-Za-z_][\w$.-]*", name, re.ASCII):
        return f"@{name}"
    return "@" + json.dumps(name)


def is_math_function(name: str) -> bool:
    """A <math.h> function (`exp`, `expf`, `expl`): what a `c.call` may call
    besides the module's own functions."""
    return name in MATH_FUNCTIONS or (name[-1:] in ("f", "l") and name[:-1] in MATH_FUNCTIONS)


def is_c_identifier(name: str) -> bool:
    """True for names we can print as-is: valid, not reserved, no leading `_`."""
    return (
        _IDENTIFIER.match(name) is not None
        and not name.startswith("_")
        and not is_reserved(name)
    )


def c_identifier(name: str) -> str:
    """Turn any symbol or SSA name into a valid C identifier, deterministically.

    Invalid characters become `_`; names that start with a digit or `_`, or that
    are C keywords or library names, get the prefix `g_` (`2x` -> `g_2x`,
    `int` -> `g_int`, `my-func` -> `my_func`). The result always passes
    `is_c_identifier`."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if is_c_identifier(cleaned):
        return cleaned
    prefixed = "g_" + cleaned
    # A trailing `_` ends what the prefix cannot (`size_t` -> `g_size_t_`).
    return prefixed if is_c_identifier(prefixed) else prefixed + "_"
