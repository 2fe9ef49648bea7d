# Types of waits.py for the compiled core (see setup.py). Same float arithmetic in the
# same order as the Python source: C doubles are IEEE doubles, so averages are identical.

cdef double _KEEP

cdef class WaitTable:
    cdef public Py_ssize_t capacity
    cdef public double grace
    cdef public double fade
    cdef public object entries

    cdef double _value(self, list entry, double now)
    cpdef double get(self, str node, str key, double now)
    cpdef bint known(self, str node, str key, double now)
    cpdef void add(self, str node, str key, double seconds, double now)
