"""A DNS server on loopback that knows no name: every query is answered
NXDOMAIN. `make contract` points Roster's ROSTER_DNS_RESOLVER at it, so that
verifying a domain looks a record up (and finds none) without any query
leaving the machine.

    python3 openapi/contract/nxdomain.py PORT
"""

import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    query, peer = sock.recvfrom(4096)
    if len(query) < 12:
        continue
    # Same id and question; QR, the query's opcode and RD, RA; RCODE 3;
    # one question, no answers.
    flags = 0x8000 | (query[2] << 8 & 0x7900) | 0x0080 | 3
    header = query[:2] + flags.to_bytes(2, "big") + query[4:6] + b"\0\0\0\0\0\0"
    # The question runs from byte 12 to the end of its name, plus type and class.
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    sock.sendto(header + query[12:end + 5], peer)
