# Types of app.py for the compiled core (see setup.py): the four calls of the data path
# are C methods here, callable from Python as usual.

import cython

from fnlb.routing.nodeset cimport NodeSet

cdef object _MISS

cdef class Balancer:
    cdef dict __dict__              # other attributes may be set as on any object
    cdef public object cfg, router, stats, registry, mgmt, server
    cdef public object retries
    cdef public object _begin, _started, _finished, _record, _passive_success
    cdef public set _suspects

    @cython.locals(nodeset=NodeSet)
    cpdef object begin(self, str key, double now)
    cpdef object begin_retry(self, str key, list tried, double now)
    @cython.locals(nodeset=NodeSet)
    cpdef void request_done(self, str node, str key, int status, double latency, object wait_header, double now)
    cpdef void upstream_failed(self, str node, str key, double now)
