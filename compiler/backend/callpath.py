"""The C call path: a generated kernel called on NumPy arrays through the
CPython and NumPy C APIs, with no Python frame between the caller and C.

Expects: a kernel `int NAME(inputs..., outputs..., void *work)` (the ABI of
gradc.backend.target_c, every parameter a pointer), its address, and the
(shape, dtype) of every input and output.

Guarantees: `entry(...)` returns an `Entry`, a callable that checks each
argument with the C API (exact ndarray type, dtype, shape, C-contiguous and
aligned; or a Python float / int / NumPy scalar where the signature says
so), allocates the outputs, releases the GIL around the kernel (serialized
by its own lock when it has a workspace), and returns the outputs bare, as
a list or tuple, nested as its `out_tree` says, or through a `finish`
callable. With an `in_tree`, the
arguments are containers (dicts, lists, tuples) whose leaves are the
inputs, each container checked against it. With `out=` (when the
entry has an `out_tree`) it writes into those arrays instead and returns
`out` itself, after checking that `out` is nested as `out_tree` says, that
each leaf is exactly its output's array (dtype, shape, C-contiguous,
aligned, writeable) and that no leaf shares a byte with an array argument
or another leaf. Any argument it does not take goes, untouched, to
`mismatch(*args)` (or, for an array of the right type, dtype and shape
that is not contiguous, `fallback(*args)`), with `out=` when it was given:
the slow Python path explains what is wrong. A nonzero status calls
`fail(status)`.

The module is one C file (`SOURCE`) compiled once per machine into the
build cache, like cffi's glue; `available()` is False (and gradc keeps the
Python call path, gradc.backend.runtime) when it cannot be built, e.g.
without NumPy's headers. Where the time of a call goes: docs/backend.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from gradc.errors import GradcError
from gradc.backend.build import (
    BuildError, _check_asan_loaded, _writable_root, compiler_command, compiler_version, sanitize_flags, sanitizers,
)

MAX_POINTERS = 64
"""Inputs plus outputs the C entry calls a kernel with (more: the Python path)."""

BARE, LIST, TUPLE, FINISH, TREE = 0, 1, 2, 3, 4
"""How an Entry returns its outputs: the one output, a list, a tuple,
`finish(*outputs)`, or nested as its `out_tree` says."""

ARRAY, FLOAT, INT = 0, 1, 2
"""What an input slot takes: an ndarray (or, 0-d, the NumPy scalar of its
dtype), a Python float (0-d float64), a Python int (0-d int64)."""

MODULE = "_gradc_callpath"


def _calls() -> str:
    """The kernel call for each number of pointers, a switch over n."""
    lines = []
    for n in range(1, MAX_POINTERS + 2):
        params = ", ".join(["void *"] * n)
        args = ", ".join(f"p[{k}]" for k in range(n))
        lines.append(f"    case {n}: return ((int (*)({params}))fn)({args});")
    return "\n".join(lines)


SOURCE = r"""/* gradc.backend.callpath: the C entry of compiled functions. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>
#include <structmember.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_POINTERS %(max)d
enum { ARRAY = 0, FLOAT = 1, INT = 2 };
enum { BARE = 0, LIST = 1, TUPLE = 2, FINISH = 3, TREE = 4 };

typedef void (*kernel_fn)(void);  /* the generic function pointer type: casts from it do not warn */

static int call_kernel(kernel_fn fn, int n, void **p) {
    switch (n) {
%(calls)s
    }
    return -1;
}

typedef struct {
    PyArray_Descr *descr;
    PyObject *scalar;   /* 0-d input: the NumPy scalar type it also takes */
    int kind, ndim, type_num;
    npy_intp *dims;
    npy_intp nbytes;    /* of an array of this slot */
} Slot;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    kernel_fn fn;
    void *work;
    PyThread_type_lock lock;
    int n_args, n_in, n_out, result, scalars;
    Slot *slots;
    PyObject *finish, *mismatch, *fallback, *fail, *keep;
    PyObject *in_tree;   /* how each argument nests the inputs (see take_leaves), or NULL: the inputs */
    PyObject *out_tree;  /* how `out=` is nested, or NULL: no `out=` */
} Entry;

typedef union { double d; float f; int64_t i; char b[16]; } Value;

static PyObject *redirect(PyObject *to, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    return PyObject_Vectorcall(to, args, nargsf, kwnames);
}

static PyObject *out_name;  /* "out", interned: a call's keyword names usually are */

/* Whether the keywords of a call are exactly `out`. */
static int only_out(PyObject *kwnames) {
    if (PyTuple_GET_SIZE(kwnames) != 1) return 0;
    PyObject *name = PyTuple_GET_ITEM(kwnames, 0);
    return name == out_name || (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "out") == 0);
}

#define MAX_KEYS 32

/* The values of dict `node` (of the size of `keys`, at most MAX_KEYS) in
   the order of `keys`, into `values` (borrowed): one walk over the dict
   when its keys are the very objects of `keys` (string literals and keys
   passed on from one call to the next usually are), else lookups. 0, or -1
   when a key is missing (no exception set). */
static int dict_values(PyObject *node, PyObject *keys, PyObject **values) {
    Py_ssize_t size = PyTuple_GET_SIZE(keys), pos = 0, found = 0, j = 0;
    PyObject *key, *value;
    while (PyDict_Next(node, &pos, &key, &value)) {
        Py_ssize_t tries = 0;  /* from where the last key was: the next one is likely after it */
        while (tries < size && PyTuple_GET_ITEM(keys, j) != key) {
            j = j + 1 < size ? j + 1 : 0;
            ++tries;
        }
        if (tries == size) break;
        values[j] = value;
        ++found;
    }
    if (found == size) return 0;
    for (Py_ssize_t k = 0; k < size; ++k) {
        values[k] = PyDict_GetItemWithError(node, PyTuple_GET_ITEM(keys, k));
        if (values[k] == NULL) {
            PyErr_Clear();
            return -1;
        }
    }
    return 0;
}

/* The leaves of `node` (borrowed, at most `max`) if it has the structure
   `tree` describes: None for a leaf, else (type, dict keys or None,
   children), every container of exactly that type (a tuple, a named tuple,
   a list, a dict with exactly those keys, or None) and size. 0 on a match,
   -1 on any difference (no exception set). */
static int take_leaves(PyObject *node, PyObject *tree, PyObject **leaves, int *n, int max) {
    if (tree == Py_None) {
        if (*n >= max) return -1;
        leaves[(*n)++] = node;
        return 0;
    }
    PyObject *kind = PyTuple_GET_ITEM(tree, 0), *keys = PyTuple_GET_ITEM(tree, 1);
    PyObject *children = PyTuple_GET_ITEM(tree, 2);
    Py_ssize_t size = PyTuple_GET_SIZE(children);
    if ((PyObject *)Py_TYPE(node) != kind) return -1;
    if (PyTuple_Check(node) ? PyTuple_GET_SIZE(node) != size
        : PyList_Check(node) ? PyList_GET_SIZE(node) != size
        : PyDict_Check(node) ? keys == Py_None || PyDict_GET_SIZE(node) != size
        : size != 0)
        return -1;
    PyObject *values[MAX_KEYS];
    int in_order = PyDict_Check(node) && size <= MAX_KEYS;
    if (in_order && dict_values(node, keys, values) < 0) return -1;
    for (Py_ssize_t k = 0; k < size; ++k) {
        PyObject *child;
        if (PyTuple_Check(node)) {
            child = PyTuple_GET_ITEM(node, k);
        } else if (PyList_Check(node)) {
            child = PyList_GET_ITEM(node, k);
        } else if (in_order) {
            child = values[k];
        } else {
            child = PyDict_GetItemWithError(node, PyTuple_GET_ITEM(keys, k));
            if (child == NULL) {
                PyErr_Clear();
                return -1;
            }
        }
        if (take_leaves(child, PyTuple_GET_ITEM(children, k), leaves, n, max) < 0) return -1;
    }
    return 0;
}

/* A new reference to the tree `tree` describes, with `leaves` (from *k on)
   as its leaves: what pytree.unflatten builds (dicts in key order, a named
   tuple from its class), or NULL with an exception set. */
static PyObject *make_tree(PyObject *tree, PyObject *const *leaves, int *k) {
    if (tree == Py_None) {
        PyObject *leaf = leaves[(*k)++];
        Py_INCREF(leaf);
        return leaf;
    }
    PyObject *kind = PyTuple_GET_ITEM(tree, 0), *keys = PyTuple_GET_ITEM(tree, 1);
    PyObject *children = PyTuple_GET_ITEM(tree, 2);
    Py_ssize_t size = PyTuple_GET_SIZE(children);
    if (kind == (PyObject *)Py_TYPE(Py_None)) Py_RETURN_NONE;
    PyObject *node = kind == (PyObject *)&PyTuple_Type ? PyTuple_New(size)
                     : kind == (PyObject *)&PyList_Type ? PyList_New(size)
                     : PyTuple_New(size);  /* a dict's values, or a named tuple's arguments */
    if (node == NULL) return NULL;
    for (Py_ssize_t j = 0; j < size; ++j) {
        PyObject *child = make_tree(PyTuple_GET_ITEM(children, j), leaves, k);
        if (child == NULL) {
            Py_DECREF(node);
            return NULL;
        }
        if (PyList_Check(node)) PyList_SET_ITEM(node, j, child);
        else PyTuple_SET_ITEM(node, j, child);
    }
    if (kind == (PyObject *)&PyTuple_Type || kind == (PyObject *)&PyList_Type) return node;
    PyObject *built;
    if (kind == (PyObject *)&PyDict_Type) {
        built = PyDict_New();
        for (Py_ssize_t j = 0; j < size && built != NULL; ++j)
            if (PyDict_SetItem(built, PyTuple_GET_ITEM(keys, j), PyTuple_GET_ITEM(node, j)) < 0) Py_CLEAR(built);
    } else {
        built = PyObject_Call(kind, node, NULL);
    }
    Py_DECREF(node);
    return built;
}

/* Whether `x` is an array of the slot's type number, native byte order and
   dimensions, with all of `flags`. */
static int fits(PyArrayObject *x, const Slot *s, int flags) {
    if (PyArray_TYPE(x) != s->type_num || !PyArray_ISNOTSWAPPED(x) || PyArray_NDIM(x) != s->ndim
        || (PyArray_FLAGS(x) & flags) != flags)
        return 0;
    const npy_intp *dims = PyArray_DIMS(x);
    for (int d = 0; d < s->ndim; ++d)  /* a loop, not memcmp: one or two dimensions, mostly */
        if (dims[d] != s->dims[d]) return 0;
    return 1;
}

/* Whether [lo, hi) and [lo2, hi2) share a byte. */
static int overlap(const char *lo, const char *hi, const char *lo2, const char *hi2) {
    return lo < hi2 && lo2 < hi;
}

/* The call on `inputs` (the arguments, or the leaves taken out of them);
   anything unusual goes to mismatch or fallback with the arguments. */
static PyObject *entry_run(Entry *self, PyObject *const *inputs, PyObject *const *args, size_t nargsf,
                           PyObject *kwnames) {
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *out = NULL;  /* the `out=` tree, if any */
    if (nargs != self->n_args || (kwnames != NULL && (self->out_tree == NULL || !only_out(kwnames))))
        return redirect(self->mismatch, args, nargsf, kwnames);
    if (kwnames != NULL && args[nargs] != Py_None) out = args[nargs];
    void *ptr[MAX_POINTERS + 1];
    Value values[MAX_POINTERS];
    PyObject *outs[MAX_POINTERS];
    const char *ends[MAX_POINTERS];  /* an array argument's bytes are [ptr[k], ends[k]) */
    int n_in = self->n_in, n_out = self->n_out;
    for (int k = 0; k < n_in; ++k) {
        PyObject *a = inputs[k];
        const Slot *s = &self->slots[k];
        ends[k] = NULL;
        if (s->kind == FLOAT) {
            if (!PyFloat_CheckExact(a)) return redirect(self->mismatch, args, nargsf, kwnames);
            values[k].d = PyFloat_AS_DOUBLE(a);
            ptr[k] = &values[k];
        } else if (s->kind == INT) {
            int overflow = 0;
            if (!PyLong_CheckExact(a)) return redirect(self->mismatch, args, nargsf, kwnames);
            long long v = PyLong_AsLongLongAndOverflow(a, &overflow);
            if (overflow || (v == -1 && PyErr_Occurred())) {
                PyErr_Clear();
                return redirect(self->mismatch, args, nargsf, kwnames);
            }
            values[k].i = (int64_t)v;
            ptr[k] = &values[k];
        } else if (Py_TYPE(a) == &PyArray_Type) {
            PyArrayObject *x = (PyArrayObject *)a;
            if (!fits(x, s, 0)) return redirect(self->mismatch, args, nargsf, kwnames);
            if ((PyArray_FLAGS(x) & (NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED))
                != (NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED))
                return redirect(self->fallback, args, nargsf, kwnames);
            ptr[k] = PyArray_DATA(x);
            ends[k] = (const char *)ptr[k] + s->nbytes;
        } else if (s->scalar != NULL && (PyObject *)Py_TYPE(a) == s->scalar) {
            PyArray_ScalarAsCtype(a, &values[k]);
            ptr[k] = &values[k];
        } else {
            return redirect(self->mismatch, args, nargsf, kwnames);
        }
    }
    if (out != NULL) {
        /* Preallocated outputs: each exactly its slot's array, writeable,
           sharing no byte with an array argument or another output. Anything
           else goes to `mismatch`, whose checks say what is wrong. */
        int n = 0;
        if (take_leaves(out, self->out_tree, outs, &n, n_out) < 0 || n != n_out)
            return redirect(self->mismatch, args, nargsf, kwnames);
        for (int j = 0; j < n_out; ++j) {
            const Slot *s = &self->slots[n_in + j];
            PyArrayObject *x = (PyArrayObject *)outs[j];
            if (Py_TYPE(outs[j]) != &PyArray_Type
                || !fits(x, s, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | NPY_ARRAY_WRITEABLE))
                return redirect(self->mismatch, args, nargsf, kwnames);
            const char *lo = PyArray_DATA(x), *hi = lo + s->nbytes;
            for (int k = 0; k < n_in; ++k)
                if (ends[k] != NULL && overlap(lo, hi, ptr[k], ends[k]))
                    return redirect(self->mismatch, args, nargsf, kwnames);
            for (int i = 0; i < j; ++i)
                if (overlap(lo, hi, ptr[n_in + i], ends[n_in + i]))
                    return redirect(self->mismatch, args, nargsf, kwnames);
            ptr[n_in + j] = (void *)lo;
            ends[n_in + j] = hi;
        }
        /* Held while the GIL is released: another thread may empty `out`. */
        for (int j = 0; j < n_out; ++j) Py_INCREF(outs[j]);
    }
    for (int j = 0; j < n_out && out == NULL; ++j) {
        const Slot *s = &self->slots[n_in + j];
        if (self->scalars) {
            ptr[n_in + j] = &values[n_in + j];
            continue;
        }
        Py_INCREF(s->descr);
        outs[j] = PyArray_NewFromDescr(&PyArray_Type, s->descr, s->ndim, s->dims, NULL, NULL, 0, NULL);
        if (outs[j] == NULL) {
            for (int i = 0; i < j; ++i) Py_DECREF(outs[i]);
            return NULL;
        }
        ptr[n_in + j] = PyArray_DATA((PyArrayObject *)outs[j]);
    }
    ptr[n_in + n_out] = self->work;
    int status;
    Py_BEGIN_ALLOW_THREADS
    if (self->lock) PyThread_acquire_lock(self->lock, WAIT_LOCK);
    status = call_kernel(self->fn, n_in + n_out + 1, ptr);
    if (self->lock) PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS
    if (out != NULL) {
        for (int j = 0; j < n_out; ++j) Py_DECREF(outs[j]);
        if (status == 0) {
            Py_INCREF(out);
            return out;
        }
    } else if (self->scalars) {
        for (int j = 0; j < n_out && status == 0; ++j) {
            outs[j] = PyArray_Scalar(&values[n_in + j], self->slots[n_in + j].descr, NULL);
            if (outs[j] == NULL) {
                for (int i = 0; i < j; ++i) Py_DECREF(outs[i]);
                return NULL;
            }
        }
    }
    if (status != 0) {
        if (!self->scalars && out == NULL)
            for (int j = 0; j < n_out; ++j) Py_DECREF(outs[j]);
        PyObject *code = PyLong_FromLong(status);
        if (code == NULL) return NULL;
        PyObject *r = PyObject_CallOneArg(self->fail, code);
        Py_DECREF(code);
        if (r != NULL) {
            Py_DECREF(r);
            PyErr_Format(PyExc_RuntimeError, "the C function returned error code %%d", status);
        }
        return NULL;
    }
    PyObject *result;
    switch (self->result) {
    case BARE:
        return outs[0];
    case LIST:
        result = PyList_New(n_out);
        if (result == NULL) break;
        for (int j = 0; j < n_out; ++j) PyList_SET_ITEM(result, j, outs[j]);
        return result;
    case TUPLE:
        result = PyTuple_New(n_out);
        if (result == NULL) break;
        for (int j = 0; j < n_out; ++j) PyTuple_SET_ITEM(result, j, outs[j]);
        return result;
    case TREE: {
        int k = 0;
        result = make_tree(self->out_tree, outs, &k);
        break;
    }
    default:
        result = PyObject_Vectorcall(self->finish, outs, (size_t)n_out, NULL);
        break;
    }
    for (int j = 0; j < n_out; ++j) Py_DECREF(outs[j]);
    return result;
}

static PyObject *entry_call(PyObject *self_, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Entry *self = (Entry *)self_;
    if (self->in_tree == NULL) return entry_run(self, args, args, nargsf, kwnames);
    /* Containers among the arguments: their leaves are the inputs, held
       while the call runs (another thread may empty a container). */
    PyObject *leaves[MAX_POINTERS];
    int n = 0;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != self->n_args) return redirect(self->mismatch, args, nargsf, kwnames);
    for (Py_ssize_t k = 0; k < nargs; ++k)
        if (take_leaves(args[k], PyTuple_GET_ITEM(self->in_tree, k), leaves, &n, self->n_in) < 0)
            return redirect(self->mismatch, args, nargsf, kwnames);
    if (n != self->n_in) return redirect(self->mismatch, args, nargsf, kwnames);
    for (int k = 0; k < n; ++k) Py_INCREF(leaves[k]);
    PyObject *result = entry_run(self, leaves, args, nargsf, kwnames);
    for (int k = 0; k < n; ++k) Py_DECREF(leaves[k]);
    return result;
}

static int entry_traverse(Entry *self, visitproc visit, void *arg) {
    Py_VISIT(self->finish);
    Py_VISIT(self->mismatch);
    Py_VISIT(self->fallback);
    Py_VISIT(self->fail);
    Py_VISIT(self->keep);
    Py_VISIT(self->in_tree);
    Py_VISIT(self->out_tree);
    return 0;
}

static int entry_clear(Entry *self) {
    Py_CLEAR(self->finish);
    Py_CLEAR(self->mismatch);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->fail);
    Py_CLEAR(self->keep);
    Py_CLEAR(self->in_tree);
    Py_CLEAR(self->out_tree);
    return 0;
}

static void entry_dealloc(Entry *self) {
    PyObject_GC_UnTrack(self);
    entry_clear(self);
    if (self->slots != NULL) {
        for (int k = 0; k < self->n_in + self->n_out; ++k) {
            Py_XDECREF(self->slots[k].descr);
            Py_XDECREF(self->slots[k].scalar);
            PyMem_Free(self->slots[k].dims);
        }
        PyMem_Free(self->slots);
    }
    if (self->lock) PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* One slot from (dtype, shape, kind, scalar type or None). */
static int fill_slot(Slot *s, PyObject *spec) {
    PyObject *dtype, *shape, *scalar;
    int kind;
    if (!PyArg_ParseTuple(spec, "OO!iO", &dtype, &PyTuple_Type, &shape, &kind, &scalar)) return -1;
    if (!PyArray_DescrCheck(dtype)) {
        PyErr_SetString(PyExc_TypeError, "slot dtype must be a numpy.dtype");
        return -1;
    }
    s->descr = (PyArray_Descr *)dtype;
    Py_INCREF(dtype);
    s->type_num = s->descr->type_num;
    s->kind = kind;
    s->scalar = scalar == Py_None ? NULL : scalar;
    Py_XINCREF(s->scalar);
    s->ndim = (int)PyTuple_GET_SIZE(shape);
    s->dims = PyMem_Malloc(sizeof(npy_intp) * (size_t)(s->ndim ? s->ndim : 1));
    if (s->dims == NULL) return -1;
    for (int d = 0; d < s->ndim; ++d) {
        s->dims[d] = (npy_intp)PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, d));
        if (s->dims[d] == -1 && PyErr_Occurred()) return -1;
    }
    s->nbytes = PyDataType_ELSIZE(s->descr);
    for (int d = 0; d < s->ndim; ++d) s->nbytes *= s->dims[d];
    return 0;
}

static PyObject *entry_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    unsigned long long fn, work;
    PyObject *inputs, *outputs, *finish, *mismatch, *fallback, *fail, *keep, *in_tree, *out_tree;
    int result, scalars, locked;
    (void)kwds;
    if (!PyArg_ParseTuple(args, "KKO!O!iOOOOppOOO", &fn, &work, &PyTuple_Type, &inputs, &PyTuple_Type, &outputs,
                          &result, &finish, &mismatch, &fallback, &fail, &locked, &scalars, &keep, &in_tree,
                          &out_tree))
        return NULL;
    if (in_tree != Py_None && !PyTuple_Check(in_tree)) {
        PyErr_SetString(PyExc_TypeError, "in_tree must be a tuple (one tree per argument) or None");
        return NULL;
    }
    Py_ssize_t n_in = PyTuple_GET_SIZE(inputs), n_out = PyTuple_GET_SIZE(outputs);
    if (n_in + n_out > MAX_POINTERS || n_out < 1 || (result == BARE && n_out != 1)
        || (result == TREE && out_tree == Py_False)) {
        PyErr_SetString(PyExc_ValueError, "unsupported signature for the C entry");
        return NULL;
    }
    Entry *self = (Entry *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->vectorcall = entry_call;
    self->fn = (kernel_fn)(uintptr_t)fn;
    self->work = (void *)(uintptr_t)work;
    self->n_in = (int)n_in;
    self->n_out = (int)n_out;
    self->n_args = in_tree == Py_None ? (int)n_in : (int)PyTuple_GET_SIZE(in_tree);
    if (in_tree != Py_None) {
        self->in_tree = in_tree;
        Py_INCREF(in_tree);
    }
    self->result = result;
    self->scalars = scalars;
    self->finish = finish; Py_INCREF(finish);
    self->mismatch = mismatch; Py_INCREF(mismatch);
    self->fallback = fallback; Py_INCREF(fallback);
    self->fail = fail; Py_INCREF(fail);
    self->keep = keep; Py_INCREF(keep);
    if (out_tree != Py_False) {
        self->out_tree = out_tree;
        Py_INCREF(out_tree);
    }
    self->slots = PyMem_Calloc((size_t)(n_in + n_out), sizeof(Slot));
    if (self->slots == NULL) goto error;
    for (Py_ssize_t k = 0; k < n_in + n_out; ++k) {
        PyObject *spec = PyTuple_GET_ITEM(k < n_in ? inputs : outputs, k < n_in ? k : k - n_in);
        if (!PyTuple_Check(spec) || fill_slot(&self->slots[k], spec) < 0) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "bad slot");
            goto error;
        }
    }
    if (locked) {
        self->lock = PyThread_allocate_lock();
        if (self->lock == NULL) goto error;
    }
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

static PyTypeObject EntryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_gradc_callpath.Entry",
    .tp_basicsize = sizeof(Entry),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = entry_new,
    .tp_dealloc = (destructor)entry_dealloc,
    .tp_traverse = (traverseproc)entry_traverse,
    .tp_clear = (inquiry)entry_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Entry, vectorcall),
};

/* Dispatcher: the base of gradc.jit's function objects. A call with n
   positional arguments and no keywords (or only `out`, once `_out_fast` is
   set) goes straight to recent[n] (set by `_set_recent`), anything else to
   the instance's `_call_slow`. */
#define MAX_RECENT 16

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *recent[MAX_RECENT];
    char out_fast;  /* `out=` is the preallocated outputs, not the function's own parameter */
} Dispatcher;

static PyObject *dispatcher_call(PyObject *self_, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Dispatcher *self = (Dispatcher *)self_;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyObject *call, *result;
    if ((kwnames == NULL || (self->out_fast && only_out(kwnames))) && n < MAX_RECENT && self->recent[n] != NULL) {
        call = self->recent[n];
        Py_INCREF(call);  /* the call may replace recent[n] */
        result = PyObject_Vectorcall(call, args, (size_t)n, kwnames);
        Py_DECREF(call);
        return result;
    }
    call = PyObject_GetAttrString(self_, "_call_slow");
    if (call == NULL) return NULL;
    result = PyObject_Vectorcall(call, args, nargsf, kwnames);
    Py_DECREF(call);
    return result;
}

static PyObject *dispatcher_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    Dispatcher *self = (Dispatcher *)type->tp_alloc(type, 0);
    if (self != NULL) self->vectorcall = dispatcher_call;
    return (PyObject *)self;
}

static int dispatcher_traverse(Dispatcher *self, visitproc visit, void *arg) {
    for (int n = 0; n < MAX_RECENT; ++n) Py_VISIT(self->recent[n]);
    return 0;
}

static int dispatcher_clear(Dispatcher *self) {
    for (int n = 0; n < MAX_RECENT; ++n) Py_CLEAR(self->recent[n]);
    return 0;
}

static void dispatcher_dealloc(Dispatcher *self) {
    /* A Python subclass's dealloc calls this one, then drops its type. */
    PyObject_GC_UnTrack(self);
    dispatcher_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *dispatcher_set_recent(Dispatcher *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *call;
    if (!PyArg_ParseTuple(args, "nO", &n, &call)) return NULL;
    if (n >= 0 && n < MAX_RECENT) {
        PyObject *old = self->recent[n];
        self->recent[n] = call == Py_None ? NULL : call;
        Py_XINCREF(self->recent[n]);
        Py_XDECREF(old);
    }
    Py_RETURN_NONE;
}

/* Python 3.11 gives a Python subclass no vectorcall of its own: every call
   would make an argument tuple (and a dict for keywords) to go through
   tp_call. A subclass that keeps this type's __call__ gets the flag back,
   as Python 3.12 does itself; one that defines __call__ keeps it. */
static PyObject *dispatcher_init_subclass(PyObject *cls, PyObject *args, PyObject *kwds) {
    (void)args;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "Dispatcher subclasses take no class keywords");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    if (type->tp_call == PyVectorcall_Call && type->tp_vectorcall_offset == offsetof(Dispatcher, vectorcall))
        type->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
    Py_RETURN_NONE;
}

static PyMethodDef dispatcher_methods[] = {
    {"__init_subclass__", (PyCFunction)(void (*)(void))dispatcher_init_subclass,
     METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "Subclasses that keep Dispatcher's __call__ are called by vectorcall."},
    {"_set_recent", (PyCFunction)dispatcher_set_recent, METH_VARARGS,
     "_set_recent(n, call): calls with n positional arguments and no keywords (or only out=, with _out_fast) "
     "go to call (None: to _call_slow)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef dispatcher_members[] = {
    {"_out_fast", T_BOOL, offsetof(Dispatcher, out_fast), 0,
     "Whether calls with only `out=` among the keywords may go to the recent calls."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject DispatcherType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_gradc_callpath.Dispatcher",
    .tp_basicsize = sizeof(Dispatcher),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = dispatcher_new,
    .tp_dealloc = (destructor)dispatcher_dealloc,
    .tp_traverse = (traverseproc)dispatcher_traverse,
    .tp_clear = (inquiry)dispatcher_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Dispatcher, vectorcall),
    .tp_methods = dispatcher_methods,
    .tp_members = dispatcher_members,
};

static struct PyModuleDef callpath_module = {
    PyModuleDef_HEAD_INIT, .m_name = "_gradc_callpath", .m_size = -1,
};

PyMODINIT_FUNC PyInit__gradc_callpath(void) {
    import_array();
    out_name = PyUnicode_InternFromString("out");
    if (out_name == NULL || PyType_Ready(&EntryType) < 0 || PyType_Ready(&DispatcherType) < 0) return NULL;
    PyObject *m = PyModule_Create(&callpath_module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Entry", (PyObject *)&EntryType) < 0
        || PyModule_AddObjectRef(m, "Dispatcher", (PyObject *)&DispatcherType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
""" % {"max": MAX_POINTERS, "calls": _calls()}

_lock = threading.Lock()
_module: list[ModuleType | None] = []


def _build() -> ModuleType | None:
    """The module from the cache, compiled there first if needed; None when
    it cannot be built or loaded."""
    try:
        active = sanitizers()
        if "address" in active:
            _check_asan_loaded()  # else loading an ASan-built module kills the process
    except (BuildError, ValueError):
        return None  # the first kernel build explains what is wrong
    flags = sanitize_flags(("-O2",), active)
    command = compiler_command()
    python_include = sysconfig.get_paths()["include"]
    numpy_include = np.get_include()
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    key = hashlib.sha256("\x1f".join(
        [SOURCE, *flags, *command, compiler_version(tuple(command)), python_include, numpy_include, np.__version__, suffix]
    ).encode()).hexdigest()
    root = _writable_root()
    folder = root / f".callpath-{key[:16]}"
    library = folder / (MODULE + suffix)
    if not library.exists():
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-callpath-{key[:16]}-", dir=root))
        (tmp / "callpath.c").write_text(SOURCE)
        cmd = [*command, *flags, "-shared", "-fPIC", "-fvisibility=hidden", f"-I{python_include}",
               f"-I{numpy_include}", "callpath.c", "-o", library.name]
        try:
            built = subprocess.run(cmd, cwd=tmp, capture_output=True, check=False).returncode == 0
        except OSError:
            built = False
        if built:
            try:
                os.rename(tmp, folder)
            except OSError:
                pass  # another process finished first; its module is identical
        shutil.rmtree(tmp, ignore_errors=True)  # left when the build failed or another process won
        if not library.exists():
            return None
    spec = importlib.util.spec_from_file_location(MODULE, library)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError:
        return None
    return module


def module() -> ModuleType | None:
    """The built module (built on first use, once per process), or None."""
    with _lock:
        if not _module:
            _module.append(None if os.environ.get("GRADC_CALLPATH") == "python" else _build())
        return _module[0]


def available() -> bool:
    """Whether compiled functions are called through the C entry."""
    return module() is not None


Nesting = Any
"""How an argument nests inputs or `out=` nests the outputs, as the C entry
walks it: None for one leaf, else `(container type, dict keys in flatten
order or None, child Nestings)`, the type exactly that of the container
(tuple, a named tuple class, list, dict, NoneType)."""

NO_OUT = False
"""The `out_tree` of an entry that takes no `out=`."""

InputSlot = tuple[np.dtype[Any], tuple[int, ...], int, Any]
OutputSlot = tuple[np.dtype[Any], tuple[int, ...], int, None]


def entry(
    fn_address: int,
    work_address: int,
    inputs: Sequence[InputSlot],
    outputs: Sequence[OutputSlot],
    result: int,
    *,
    finish: Callable[..., Any] | None,
    mismatch: Callable[..., Any],
    fallback: Callable[..., Any],
    fail: Callable[[int], Any],
    locked: bool,
    scalars: bool,
    keep: Any,
    in_tree: tuple[Nesting, ...] | None = None,
    out_tree: Nesting = NO_OUT,
) -> Callable[..., Any] | None:
    """The C entry for one kernel, or None when the module is missing or the
    signature has more than MAX_POINTERS inputs and outputs (or none out).
    `keep` is held as long as the entry: whatever owns the kernel's code
    and workspace. `in_tree`: how each argument nests the inputs (None: the
    arguments are the inputs); `out_tree`: how a call's `out=` nests the
    outputs (NO_OUT: the entry takes no `out=`); both as Nesting says."""
    built = module()
    if built is None or len(inputs) + len(outputs) > MAX_POINTERS or not outputs:
        return None
    return built.Entry(fn_address, work_address, tuple(inputs), tuple(outputs), result,
                       finish, mismatch, fallback, fail, locked, scalars, keep, in_tree, out_tree)


MAX_RECENT = 16
"""Numbers of positional arguments a Dispatcher keeps a direct call for."""


class PythonDispatcher:
    """What the C `Dispatcher` does, in Python: the base of gradc.jit's
    function objects when the C module is not available."""

    _out_fast = False
    """Whether calls whose only keyword is `out` may go to the recent calls."""

    def _set_recent(self, n: int, call: Callable[..., Any] | None) -> None:
        """Calls with n positional arguments and no keywords go to `call`
        (None: to `_call_slow`)."""
        recent = self.__dict__.setdefault("_recent_calls", {})
        if call is None:
            recent.pop(n, None)
        elif 0 <= n < MAX_RECENT:
            recent[n] = call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if not kwargs or (self._out_fast and len(kwargs) == 1 and "out" in kwargs):
                call = self.__dict__.get("_recent_calls", {}).get(len(args))
                if call is not None:
                    return call(*args, **kwargs)
            return self._call_slow(*args, **kwargs)  # type: ignore[attr-defined]
        except GradcError as err:
            # Raised again here, so the traceback goes from this one frame
            # straight to the caller's code (as from the C Dispatcher).
            raise err.with_traceback(None) from None


def dispatcher_base() -> type:
    """The C `Dispatcher` when the module is available, else PythonDispatcher."""
    built = module()
    return PythonDispatcher if built is None else built.Dispatcher
