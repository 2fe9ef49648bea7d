# Types of nodeset.py for the compiled core (see setup.py).


cdef class NodeSet:
    cdef public tuple nodes
    cdef public dict index
    cdef public list _node_hashes
    cdef public object _hash
    cdef public dict primaries
    cdef public dict _orders
    cdef public Py_ssize_t _cap

    cpdef object primary(self, str key)
    cpdef str home(self, str key)
