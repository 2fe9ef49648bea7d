import cython
from fnlb.routing.containers cimport Containers, Pool
from fnlb.routing.nodeset cimport NodeSet
from fnlb.routing.policy cimport Policy
from fnlb.routing.waits cimport WaitTable

cdef double SLACK, VICTIM_AGE, QUEUED_MIN, SHARED_AT, SHARED_ALPHA, QUEUE_AT, QUEUE_ALPHA, FULL_FOR

cdef class _Sent:
    cdef public list reused
    cdef public Py_ssize_t fresh, behind, handed

cdef class WarmFirst(Policy):
    cdef public Containers containers
    cdef public double _floor, _factor, _slow, _cold
    cdef public WaitTable node_waits
    cdef public dict _sent
    cdef public double found, missed
    cdef public dict queue_share, evicted_at
    cpdef bint queues_first(self, str node, double now)
    cpdef bint shared(self)
    @cython.locals(home=Pool, mine=dict)
    cpdef tuple decide(self, str key, NodeSet nodes, double now)
    cdef double _limit(self, Py_ssize_t n)
    @cython.locals(pool=Pool)
    cdef object _queue_behind(self, str key, dict mine, NodeSet nodes, double now)
    cdef bint _is_slow(self, str node, str key, double now)
    @cython.locals(sent=_Sent)
    cpdef void started(self, str node, str key, double now)
    @cython.locals(sent=_Sent)
    cpdef void finished(self, str node, str key, double now, object wait, double latency, int status)
    cdef bint _hand_over(self, _Sent sent, str node, double now)
    @cython.locals(share=double)
    cdef void _note_queue(self, str node, bint queued)
    cdef bint _settle(self, _Sent sent, str node, object wait, double now)
