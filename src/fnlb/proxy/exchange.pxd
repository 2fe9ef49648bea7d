# Types of exchange.py for the compiled core (see setup.py).

from fnlb.proxy.client cimport ClientProtocol
from fnlb.proxy.upstream cimport UpstreamProtocol

cdef Py_ssize_t REPLAY_LIMIT
cdef tuple _NO_BODY

cdef class Exchange:
    cdef public ClientProtocol client
    cdef public object server
    cdef public bytes method
    cdef public bytes target
    cdef public str key
    cdef public bytes head
    cdef public bint chunked
    cdef public bint keep_alive
    cdef public bint http10
    cdef public bint is_head
    cdef public bint expect
    cdef public object buf
    cdef public Py_ssize_t buffered
    cdef public bint body_done
    cdef public UpstreamProtocol up
    cdef public str node
    cdef public bint open
    cdef public list tried
    cdef public bint reused
    cdef public double t0
    cdef public int status
    cdef public object wait
    cdef public long long sent
    cdef public bint over
    cdef public object local
    cdef public object parts

    cpdef void start(self)
    cdef void _use(self, str node)
    cdef void _attach(self, UpstreamProtocol up, bint reused)
    cpdef void body(self, bytes data)
    cpdef void body_end(self)
    cpdef void bad_body(self, int status, str msg)
    cpdef void response_done(self, UpstreamProtocol up)
    cpdef void upstream_lost(self, UpstreamProtocol up)
    cpdef void upstream_broken(self, UpstreamProtocol up, str msg)
    cpdef void upstream_timed_out(self, UpstreamProtocol up)
    cdef void _drop(self, UpstreamProtocol up)
    cdef void _failed_before_response(self, bint reused)
    cpdef void client_gone(self)
    cdef void _report(self, int status, bint failed=*)
    cpdef void answer(self, int status, str msg)
    cpdef void _finish(self)
