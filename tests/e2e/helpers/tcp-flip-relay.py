#!/usr/bin/env python3
# A TCP relay for one connection that flips one byte of the forward stream at a given
# offset, and is faithful where Node's sockets are not: when the destination closes with
# bytes unread (an RST), whatever it sent before (the migration's ERROR record on the return
# path) is still read and passed to the source before the relay resets the source too. The
# live-migration failure test uses it to check that the source reports the destination's
# reason for a corrupt stream (tests/e2e/helpers/tcp-fault-proxy.ts does everything else).
#
#   tcp-flip-relay.py LISTEN_HOST TARGET_HOST TARGET_PORT FLIP_OFFSET
#   stdout: {"port": N} once listening, then {"forwarded": N, "returned": N, "flipped": bool,
#           "closed_by": "..."} at the end
import json
import select
import socket
import struct
import sys


def main() -> int:
    listen_host, target_host, target_port, flip_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((listen_host, 0))
    srv.listen(1)
    print(json.dumps({"port": srv.getsockname()[1]}), flush=True)
    src, _ = srv.accept()
    srv.close()
    dst = socket.create_connection((target_host, target_port), timeout=10)
    for s in (src, dst):
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fwd = ret = 0
    flipped = False
    pending = b""          # source bytes not yet written to the destination
    closed_by = None

    def send_back(data: bytes) -> None:
        nonlocal ret
        src.setblocking(True)
        try:
            src.sendall(data)
            ret += len(data)
        finally:
            src.setblocking(False)

    while closed_by is None:
        want_w = [dst] if pending else []
        r, w, _ = select.select([src, dst] if not pending else [dst, src], want_w, [], 30)
        if not r and not w:
            closed_by = "idle 30 s"
            break
        if dst in r:  # the return path first: it carries the destination's verdict
            try:
                data = dst.recv(1 << 16)
            except ConnectionResetError:
                closed_by = "destination reset"
                break
            if not data:
                closed_by = "destination closed"
                break
            send_back(data)
        if src in r and not pending:
            try:
                data = src.recv(1 << 16)
            except ConnectionResetError:
                closed_by = "source reset"
                break
            if not data:
                closed_by = "source closed"
                break
            if not flipped and fwd <= flip_at < fwd + len(data):
                b = bytearray(data)
                b[flip_at - fwd] ^= 0x10
                data = bytes(b)
                flipped = True
            pending = data
        if dst in w and pending:
            try:
                n = dst.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                closed_by = "destination reset"
                break
            fwd += n
            pending = pending[n:]
    if closed_by == "destination reset":
        # Linux keeps what arrived before the RST readable: pass it on.
        while True:
            try:
                data = dst.recv(1 << 16)
            except OSError:
                break
            if not data:
                break
            send_back(data)
    # The source learns it the way the destination ended: a reset, or an orderly close.
    if closed_by and "reset" in closed_by:
        src.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    src.close()
    dst.close()
    print(json.dumps({"forwarded": fwd, "returned": ret, "flipped": flipped, "closed_by": closed_by}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
