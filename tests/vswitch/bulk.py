#!/usr/bin/env python3
"""bulk.py: a bulk TCP transfer for the rate tests.

  bulk.py recv PORT        accept one connection, read to the end, print
                           "BYTES SECONDS" (from the first byte to the last)
  bulk.py send ADDR PORT N connect and send N bytes
"""
import socket, sys, time

if sys.argv[1] == "recv":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(sys.argv[2])))
    ls.listen(1)
    c, _ = ls.accept()
    total, first = 0, None
    while True:
        d = c.recv(65536)
        if not d:
            break
        if first is None:
            first = time.time()
        total += len(d)
    print(total, "%.3f" % (time.time() - first))
else:
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=60)
    block = bytes(65536)
    left = int(sys.argv[4])
    while left > 0:
        n = s.send(block[:min(left, len(block))])
        left -= n
    s.close()
