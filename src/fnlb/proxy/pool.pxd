# Types of pool.py for the compiled core (see setup.py).

from fnlb.proxy.upstream cimport UpstreamProtocol

cdef class Pool:
    cdef public object loop
    cdef public Py_ssize_t size
    cdef public object idle_timeout
    cdef public object connect_timeout
    cdef public bint expose_wait
    cdef public dict idle
    cdef public set _tasks
    cdef public bint closing

    cpdef UpstreamProtocol acquire(self, str node)
    cpdef void release(self, UpstreamProtocol up)
    cpdef void forget(self, UpstreamProtocol up)
    cpdef void connect(self, str node, object exchange)
