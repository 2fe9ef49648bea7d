import cython
from fnlb.routing.containers cimport Containers, Pool
from fnlb.routing.nodeset cimport NodeSet
from fnlb.routing.policy cimport Policy
from fnlb.routing.waits cimport WaitTable

cdef double SLACK, VICTIM_AGE, QUEUED_MIN, SHARED_AT, SHARED_ALPHA

cdef class _Sent:
    cdef public list reused
    cdef public Py_ssize_t fresh

cdef class WarmFirst(Policy):
    cdef public Containers containers
    cdef public double _floor, _factor, _slow, _cold
    cdef public WaitTable node_waits
    cdef public dict _sent
    cdef public double found, missed
    cpdef bint shared(self)
    @cython.locals(home=Pool, mine=dict)
    cpdef tuple decide(self, str key, NodeSet nodes, double now)
    cdef double _limit(self, Py_ssize_t n)
    cdef bint _is_slow(self, str node, str key, double now)
    @cython.locals(sent=_Sent)
    cpdef void started(self, str node, str key, double now)
    cpdef void finished(self, str node, str key, double now, object wait, double latency, int status)
    @cython.locals(sent=_Sent)
    cdef bint _settle(self, str node, str key, object wait)
