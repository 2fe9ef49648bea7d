# Types of head.py for the compiled core (see setup.py): the scanners are C loops over
# the buffer (``const unsigned char*``), the character classes C lookups.

import cython

cdef int CR, LF, SP, HTAB, COLON, SLASH
cdef Py_ssize_t MAX_NAME, MAX_DIGITS
cdef bytes _TOKEN, _URL, _VISIBLE, _V11
cdef tuple CONNECTION_PLAIN

@cython.locals(m=Py_ssize_t, q="const unsigned char*", j=Py_ssize_t)
cdef bint _at(const unsigned char* p, Py_ssize_t i, Py_ssize_t n, bytes literal)

@cython.locals(q="const unsigned char*", i=Py_ssize_t, c=int, kind=int)
cdef int _name_kind(const unsigned char* p, Py_ssize_t start, Py_ssize_t n, list table)

cdef class LineScan:
    cdef public Py_ssize_t name_end, value, value_end

@cython.locals(token="const unsigned char*", visible="const unsigned char*", s=Py_ssize_t, c=int)
cdef Py_ssize_t _line(const unsigned char* p, Py_ssize_t i, Py_ssize_t n, LineScan scan)

cdef class RequestHead(LineScan):
    cdef public bytes method, target, headers

@cython.locals(p="const unsigned char*", n=Py_ssize_t, i=Py_ssize_t, m=Py_ssize_t, u=Py_ssize_t,
               ue=Py_ssize_t, h=Py_ssize_t, hosts=int, end=Py_ssize_t, kind=int, url="const unsigned char*",
               method=bytes, candidate=bytes)
cpdef Py_ssize_t scan_request(bytes data, Py_ssize_t pos, RequestHead scan, list table)

cdef class ResponseHead(LineScan):
    cdef public int status
    cdef public list kept
    cdef public bytes cl
    cdef public long long length
    cdef public bint closes
    cdef public object wait

@cython.locals(p="const unsigned char*", n=Py_ssize_t, i=Py_ssize_t, c=int, status=int, run=Py_ssize_t,
               end=Py_ssize_t, kind=int, v=Py_ssize_t, ve=Py_ssize_t, j=Py_ssize_t, connections=int,
               closes=bint, length="long long", visible="const unsigned char*", kept=list, cl=bytes,
               spelling=bytes)
cpdef Py_ssize_t scan_response(bytes data, ResponseHead scan, list table, int length_kind, int connection_kind,
                               int wait_kind, int refuse_kind, bint keep_wait)
