# Types of upstream.py for the compiled core (see setup.py).

from fnlb.proxy.exchange cimport Exchange
from fnlb.proxy.flow cimport FlowControl
from fnlb.proxy.head cimport ResponseHead, scan_response

cdef int NO_BODY, RAW, CHUNKED
cdef int IDLE, WAITING, STREAMING, DONE
cdef dict _kind
cdef frozenset _CONNECTION_PLAIN
cdef list _SCAN_NAMES
cdef ResponseHead _RESPONSE

cdef class UpstreamProtocol:
    cdef public object pool
    cdef public str node
    cdef public object transport
    cdef public FlowControl flow
    cdef public object parser
    cdef public bint expose_wait
    cdef public Exchange ex
    cdef public bint closed
    cdef public double idle_since
    cdef public double deadline
    cdef public int state
    cdef public long long rx_mark
    cdef public long long rx
    cdef public bint keep
    cdef public int mode
    cdef public bint until_close
    cdef public list out
    cdef public list parts
    cdef public object cl, te, conn
    cdef public bint interim
    cdef public bint closes
    cdef public bint stand_in

    cpdef void bind(self, Exchange ex, FlowControl client_flow)
    cpdef void unbind(self)
    cpdef bint answered(self)
    cpdef void close(self)
    cpdef void abort(self)
    cdef object _scanned(self, Exchange ex, bytes data, Py_ssize_t end)
