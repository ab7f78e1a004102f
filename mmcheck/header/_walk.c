/*
 * mmcheck.header._walk: the string-array walk of the GGUF header reader, in C.
 *
 * A GGUF string array is `count` elements of (u64 length, bytes). Finding where it ends means
 * reading every length: 262,144 of them for a Gemma 3 vocabulary, ~35 ms in pure Python and the
 * largest part of reading such a header. This module does only that walk; every error is left
 * to the pure-Python walk in reader.py, which says what is wrong and where.
 *
 * walk(data, start, count, avail, big_endian, every) -> (end, checkpoints) | None
 *   data        a bytes-like object (bytes, mmap, memoryview) holding the first bytes of the file
 *   start       offset of the first element's length
 *   count       number of elements
 *   avail       how many bytes of `data` may be read (the held part of the file)
 *   big_endian  the lengths are big-endian
 *   every       a checkpoint (element start offset) is recorded every `every` elements
 * Returns None when a length, or an element, does not fit in the held bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static uint64_t load_u64(const unsigned char *p, int big_endian)
{
    uint64_t n = 0;
    if (big_endian) {
        for (int i = 0; i < 8; i++)
            n = (n << 8) | p[i];
    } else {
        for (int i = 7; i >= 0; i--)
            n = (n << 8) | p[i];
    }
    return n;
}

static PyObject *walk(PyObject *self, PyObject *args)
{
    Py_buffer view;
    unsigned long long start, count, avail, every;
    int big_endian;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*KKKpK", &view, &start, &count, &avail, &big_endian, &every))
        return NULL;
    if (every == 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "every must be positive");
        return NULL;
    }
    const unsigned char *bytes = (const unsigned char *)view.buf;
    uint64_t held = (uint64_t)view.len < avail ? (uint64_t)view.len : avail;
    PyObject *checkpoints = PyList_New(0);
    if (checkpoints == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    uint64_t pos = start;
    int fits = 1;
    for (uint64_t i = 0; i < count; i++) {
        if (i % every == 0) {
            PyObject *at = PyLong_FromUnsignedLongLong(pos);
            if (at == NULL || PyList_Append(checkpoints, at) < 0) {
                Py_XDECREF(at);
                Py_DECREF(checkpoints);
                PyBuffer_Release(&view);
                return NULL;
            }
            Py_DECREF(at);
        }
        if (pos > held || held - pos < 8) {
            fits = 0;
            break;
        }
        uint64_t n = load_u64(bytes + pos, big_endian);
        if (n > held - pos - 8) { /* no overflow: pos + 8 + n <= held below */
            fits = 0;
            break;
        }
        pos += 8 + n;
    }
    PyBuffer_Release(&view);
    if (!fits || pos > held) { /* pos > held: an empty array that starts past the held bytes */
        Py_DECREF(checkpoints);
        Py_RETURN_NONE;
    }
    return Py_BuildValue("KN", (unsigned long long)pos, checkpoints);
}

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS, "Skip a GGUF string array: (end, checkpoints), or None when it does not fit."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_walk", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__walk(void)
{
    return PyModule_Create(&module);
}
