from fnlb.routing.inflight cimport InFlight
from fnlb.routing.waits cimport WaitTable

cdef class Policy:
    cdef dict __dict__
    cdef public object params, rng
    cdef public InFlight inflight
    cdef public WaitTable waits
