"""A DNS server on loopback that answers TXT queries from a file and knows
no other name (NXDOMAIN), so that verifying a domain needs no DNS provider
and no query leaves the machine. `make contract` runs it with no records;
the README's walkthrough publishes a domain's record into it.

    python3 .ci/txt_dns.py PORT [RECORDS_FILE]

RECORDS_FILE has one record per line, `NAME VALUE`, and is read again for
every query: append a line and the record is published.
"""

import socket
import sys

TXT, NXDOMAIN = 16, 3


def records(path):
    found = {}
    if path:
        try:
            with open(path, encoding="utf-8") as lines:
                for line in lines:
                    name, _, value = line.strip().partition(" ")
                    if name and value:
                        found.setdefault(name.lower().rstrip("."), []).append(value)
        except FileNotFoundError:
            pass
    return found


def question(query):
    """The queried name, and where the question (name, type, class) ends."""
    labels, at = [], 12
    while at < len(query) and query[at] != 0:
        labels.append(query[at + 1 : at + 1 + query[at]].decode("ascii", "replace"))
        at += query[at] + 1
    qtype = int.from_bytes(query[at + 1 : at + 3], "big")
    return ".".join(labels).lower(), qtype, at + 5


def txt_rdata(value):
    data = value.encode("utf-8")
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return b"".join(len(chunk).to_bytes(1, "big") + chunk for chunk in chunks)


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", int(sys.argv[1])))
path = sys.argv[2] if len(sys.argv) > 2 else None
while True:
    query, peer = sock.recvfrom(4096)
    if len(query) < 12:
        continue
    name, qtype, end = question(query)
    values = records(path).get(name, []) if qtype == TXT else []
    # Same id; QR, the query's opcode and RD, AA, RA; NXDOMAIN when there is
    # nothing to answer. One question, the answers.
    flags = 0x8000 | (query[2] << 8 & 0x7900) | 0x0400 | 0x0080 | (0 if values else NXDOMAIN)
    header = query[:2] + flags.to_bytes(2, "big") + b"\0\1" + len(values).to_bytes(2, "big") + b"\0\0\0\0"
    answers = b"".join(
        b"\xc0\x0c" + TXT.to_bytes(2, "big") + b"\0\1" + b"\0\0\0\0" + len(rdata).to_bytes(2, "big") + rdata
        for rdata in (txt_rdata(value) for value in values)
    )
    sock.sendto(header + query[12:end] + answers, peer)
