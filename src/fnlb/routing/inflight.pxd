cdef class InFlight:
    cdef public dict by_node
    cdef public Py_ssize_t total
    cpdef void start(self, str node)
    cpdef void finish(self, str node)
    cpdef Py_ssize_t node(self, str node)
