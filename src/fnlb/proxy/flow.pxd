# Types of flow.py for the compiled core (see setup.py).

cdef int PEER_FULL

cdef class FlowControl:
    cdef public object transport
    cdef public int paused_by
    cdef public bint write_paused
    cdef public FlowControl peer

    cpdef void pause_reading(self, int reason)
    cpdef void resume_reading(self, int reason)
    cpdef void pause_writing(self)
    cpdef void resume_writing(self)
    cpdef void couple(self, FlowControl other)
    cpdef void decouple(self)
    cpdef void release(self)
