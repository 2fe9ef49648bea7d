# Types of client.py for the compiled core (see setup.py).

from fnlb.proxy.exchange cimport Exchange
from fnlb.proxy.flow cimport FlowControl
from fnlb.proxy.head cimport RequestHead, scan_request
from fnlb.proxy.pool cimport Pool
from fnlb.proxy.upstream cimport UpstreamProtocol

cdef int HEAD, BODY, BUSY, IDLE
cdef int OPEN, DRAINING, REJECTED, CLOSED
cdef Py_ssize_t KEY_CACHE_MAX, KEY_CACHE_LEN
cdef dict _special, _KEYS
cdef list _SCAN_NAMES
cdef RequestHead _REQUEST

cdef class ClientProtocol:
    cdef public object server
    cdef public Pool pool
    cdef public bint traffic, mgmt
    cdef public object parser
    cdef public object transport
    cdef public FlowControl flow
    cdef public str peer
    cdef public bytes ip
    cdef public Exchange active
    cdef public object queue
    cdef public Exchange reading
    cdef public int state
    cdef public double deadline
    cdef public int phase
    cdef public long long rx, rx_mark, head_rx
    cdef public bint in_head
    cdef public bint in_message
    cdef public object error_after
    cdef public bint in_done
    cdef public list corked
    cdef public UpstreamProtocol cork_up
    cdef public bytes _url
    cdef public list _parts
    cdef public Py_ssize_t _hsize
    cdef public int _hosts
    cdef public object _cl, _te, _conn, _xff, _expect
    cdef public int _te_n
    cdef public dict _keys
    cdef public bytes fwd_end

    cpdef bint accepting(self)
    cdef Py_ssize_t _scan(self, bytes data)
    cdef void _serve(self, Exchange ex, bint body)
    cpdef void send_up(self, UpstreamProtocol up, bytes data)
    cpdef void uncork(self)
    cdef tuple _target(self, bytes method, bytes url)
    cdef bytes _forwarded(self, object te)
    cpdef void closed_for_input(self)
    cpdef void exchange_done(self, Exchange ex)
    cpdef void close(self)
