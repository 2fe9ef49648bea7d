cdef class Pool:
    cdef public str node
    cdef public Py_ssize_t busy
    cdef public object idle

cdef class Containers:
    cdef public double idle_timeout
    cdef public Py_ssize_t capacity
    cdef public dict pools, per_node
    cdef public Py_ssize_t total
    cdef public object _lapse_t, _lapse_k, _lapse_p
    cdef public Py_ssize_t _idle_count
    cdef public dict _on_node
    cpdef object take(self, str node, str key, double now)
    cpdef void release(self, str node, str key, double now, bint alive=*)
    cpdef void sweep(self, double now)
    cdef void _forget(self)
    cdef void _expire(self, str key, Pool pool, double since)
    cdef void _drop(self, str node, Py_ssize_t n)
    cdef void _remove(self, str key, dict mine, str node)
