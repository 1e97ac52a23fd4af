#!/usr/bin/env python3
"""peer.py: a switch peer for the tests, speaking QEMU's socket framings.

  peer.py stream PATH [--send N] [--size S] [--expect M] [--timeout T] [--raw HEX]...
  peer.py dgram PATH --bind MYPATH [same options]

Connects to the switch (stream: 4-byte big-endian length, then the frame;
dgram: one frame per datagram), optionally waits for a file named by
--ready-after before sending, sends N broadcast frames of S bytes (or the
raw bytes given, sent as they are, framing and all), then reads frames
until M have come or T seconds have passed, and prints
"received COUNT BYTES" and, with --eof, whether the switch closed the
connection ("eof yes/no").  --touch FILE makes FILE once the frames are
sent; --hold S then keeps the connection S seconds before reading;
--no-read exits without reading; --interval S paces the frames (a unix
datagram socket queues only 10); --fast sends identical frames, a thousand
to a write; --print-index lists the number each received frame carries; --linger S
stays connected S seconds after reading.
"""
import argparse, os, socket, struct, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("kind", choices=["stream", "dgram"])
ap.add_argument("path")
ap.add_argument("--bind")
ap.add_argument("--send", type=int, default=0)
ap.add_argument("--size", type=int, default=60)
ap.add_argument("--src", default="02:00:00:00:00:01")
ap.add_argument("--dst", default="ff:ff:ff:ff:ff:ff")
ap.add_argument("--expect", type=int, default=0)
ap.add_argument("--timeout", type=float, default=2.0)
ap.add_argument("--raw", action="append", default=[])
ap.add_argument("--wait-file")
ap.add_argument("--touch")
ap.add_argument("--no-read", action="store_true")
ap.add_argument("--hold", type=float, default=0)
ap.add_argument("--interval", type=float, default=0)
ap.add_argument("--fast", action="store_true")
ap.add_argument("--print-index", action="store_true")
ap.add_argument("--linger", type=float, default=0)
a = ap.parse_args()

def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))

if a.kind == "stream":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(a.path)
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if a.bind:
        try:
            os.unlink(a.bind)
        except FileNotFoundError:
            pass
        s.bind(a.bind)
if a.wait_file:
    deadline = time.time() + 10
    while not os.path.exists(a.wait_file) and time.time() < deadline:
        time.sleep(0.02)

def send_frame(frame):
    if a.kind == "stream":
        s.sendall(struct.pack(">I", len(frame)) + frame)
    else:
        s.sendto(frame, a.path)

for raw in a.raw:
    data = bytes.fromhex(raw)
    if a.kind == "stream":
        s.sendall(data)
    else:
        s.sendto(data, a.path)
if a.fast and a.kind == "stream":    # identical frames, 1000 to a write
    hdr = mac(a.dst) + mac(a.src) + b"\x88\xb5"
    one = (hdr + bytes(max(0, a.size - 14)))[:a.size]
    block = (struct.pack(">I", len(one)) + one) * 1000
    for i in range(a.send // 1000):
        s.sendall(block)
    a.send %= 1000
for i in range(a.send):
    hdr = mac(a.dst) + mac(a.src) + b"\x88\xb5"    # local experimental ethertype
    body = struct.pack(">I", i) + bytes(max(0, a.size - 18))
    send_frame((hdr + body)[:a.size])
    if a.interval:
        time.sleep(a.interval)
if a.touch:
    open(a.touch, "w").close()
if a.hold:
    time.sleep(a.hold)
if a.no_read:
    sys.exit(0)

count = nbytes = 0
indexes = []
eof = False
buf = b""
s.settimeout(0.1)
deadline = time.time() + a.timeout
while time.time() < deadline and (a.expect == 0 or count < a.expect):
    try:
        data = s.recv(65536)
    except socket.timeout:
        continue
    except ConnectionResetError:
        eof = True
        break
    if a.kind == "dgram":
        count += 1
        nbytes += len(data)
        indexes.append(struct.unpack(">I", data[14:18])[0] if len(data) >= 18 else -1)
        continue
    if not data:
        eof = True
        break
    buf += data
    pos = 0
    while len(buf) - pos >= 4:
        n = struct.unpack_from(">I", buf, pos)[0]
        if len(buf) - pos < 4 + n:
            break
        count += 1
        nbytes += n
        if a.print_index:
            indexes.append(struct.unpack_from(">I", buf, pos + 18)[0] if n >= 18 else -1)
        pos += 4 + n
    buf = buf[pos:]
if a.linger:
    time.sleep(a.linger)
print("received %d %d" % (count, nbytes))
print("eof %s" % ("yes" if eof else "no"))
if a.print_index:
    print("indexes " + ",".join(str(i) for i in indexes))
