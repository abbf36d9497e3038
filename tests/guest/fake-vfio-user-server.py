#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fake vfio-user server for the vfmed-guest tests.

A deliberately independent implementation (Python, written from the vfio-user
specification and igbvf-vf.md, sharing no code with native/guest) of just enough of the
device side to drive the guest runner end to end:

  * the vfio-user protocol: every client message is checked byte by byte against the
    specification (header, sizes, argsz, flags, reserved fields, fd counts) and every
    deviation is recorded as a "violation" in the report;
  * a 16 KiB BAR0 memfd whose pages 2-3 are offered as sparse-mmap areas (passthrough),
    pages 0-1 emulated through REGION_READ/WRITE: CTRL.RST, STATUS, the mailbox with its
    read-to-clear bits and the igb PF policy (VF_RESET -> MAC, SET_MAC_ADDR), EIMC/EIAC,
    statistics;
  * PCI config space (vendor/device, command register);
  * a tiny 82576-VF queue model polled like the real device polls passthrough pages: TX
    descriptors are fetched from the DMA-mapped guest RAM, recorded and written back with
    DD; frames can be looped back or injected into the RX ring.

This file is the protocol half; the device half is fake_vf_device.py. Scenarios
(--scenario) choose what the "wire" does and which faults to inject: basic, loopback
(--drop/--dup/--swap/--corrupt SEQ), fwd, echo, layout, dma-rw, nack-mac, no-mac,
bad-version, bad-json, region-no-fd, close-mid. At the end (client EOF, or --timeout) a
JSON report is written to --report for the test to assert on.
"""

import argparse
import json
import mmap
import os
import select
import signal
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__
from fake_vf_device import (RDBAL, RDLEN, RDT, RXDCTL, SRRCTL, TDBAH, TDBAL, TDLEN, TDT,
                            TXDCTL, XDCTL_ENABLE, Device, Report)  # noqa: E402

# ---- protocol constants (vfio-user spec, linux/vfio.h) ----------------------------------
CMD_NAMES = {
    1: "VERSION", 2: "DMA_MAP", 3: "DMA_UNMAP", 4: "DEVICE_GET_INFO",
    5: "DEVICE_GET_REGION_INFO", 6: "DEVICE_GET_REGION_IO_FDS", 7: "DEVICE_GET_IRQ_INFO",
    8: "DEVICE_SET_IRQS", 9: "REGION_READ", 10: "REGION_WRITE", 11: "DMA_READ",
    12: "DMA_WRITE", 13: "DEVICE_RESET", 14: "DIRTY_PAGES", 15: "REGION_WRITE_MULTI",
    16: "DEVICE_FEATURE", 17: "MIG_DATA_READ", 18: "MIG_DATA_WRITE",
}
F_REPLY, F_NO_REPLY, F_ERROR = 0x1, 0x10, 0x20
REGION_F_READ, REGION_F_WRITE, REGION_F_MMAP, REGION_F_CAPS = 1, 2, 4, 8
CAP_SPARSE_MMAP = 1
IRQ_INFO_EVENTFD = 1
IRQ_SET_DATA_NONE, IRQ_SET_DATA_BOOL, IRQ_SET_DATA_EVENTFD = 1, 2, 4
IRQ_SET_ACTION_TRIGGER = 0x20
BAR0, CONFIG = 0, 7
NUM_REGIONS, NUM_IRQS = 9, 6           # IRQ index 5: vfmed BAR-layout notification
LAYOUT_IRQ = 5
BAR0_SIZE = 0x4000
EINVAL, ENOTSUP, EEXIST, ENOENT = 22, 95, 17, 2

# ---- protocol server ---------------------------------------------------------------------
class Server:
    def __init__(self, args):
        self.args = args
        self.rep = Report()
        self.dev = Device(args, self.rep)
        self.got_version = False
        self.dma_maps = []
        self.region_reads = 0
        self.region_writes = 0
        self.injected = False
        self.config_writes = []

    def recv_exact(self, sock, n, fds):
        buf = b""
        while len(buf) < n:
            data, got, _flags, _addr = socket.recv_fds(sock, n - len(buf), 16)
            fds.extend(got)
            if not data:
                return None
            buf += data
        return buf

    def reply(self, sock, hdr, payload=b"", fds=(), error=0):
        msg_id, cmd = hdr[0], hdr[1]
        flags = F_REPLY | (F_ERROR if error else 0)
        if error:
            payload = b""
        data = struct.pack("<HHIII", msg_id, cmd, 16 + len(payload), flags, error) + payload
        if fds:
            socket.send_fds(sock, [data], list(fds))
        else:
            sock.sendall(data)

    def serve(self, sock):
        while True:
            timeout = 0.0005
            r, _, _ = select.select([sock], [], [], timeout)
            if r:
                fds = []
                raw = self.recv_exact(sock, 16, fds)
                if raw is None:
                    return
                msg_id, cmd, size, flags, err = struct.unpack("<HHIII", raw)
                if size < 16 or size > 16 + (1 << 20) + 64:
                    self.rep.bad(f"message size {size} out of range")
                    return
                payload = self.recv_exact(sock, size - 16, fds) if size > 16 else b""
                if payload is None:
                    return
                self.handle(sock, (msg_id, cmd, size, flags, err), payload, fds)
            self.dev.poll()
            if self.dev.rd(RXDCTL) & XDCTL_ENABLE and not self.injected:
                self.injected = True
                self.dev.start_injection()
            if self.args.scenario == "close-mid" and self.region_reads + self.region_writes >= 12:
                self.rep.data["closed_mid_run"] = True
                return

    def handle(self, sock, hdr, p, fds):
        msg_id, cmd, size, flags, err = hdr
        name = CMD_NAMES.get(cmd, f"UNKNOWN({cmd})")
        if name not in ("REGION_READ", "REGION_WRITE") or len(self.rep.commands) < 40:
            self.rep.commands.append(name)
        if flags != 0:
            self.rep.bad(f"{name}: command flags {flags:#x} (type must be 0, no_reply unused)")
        if err != 0:
            self.rep.bad(f"{name}: error field {err} in a command")
        if not self.got_version and cmd != 1:
            self.rep.bad(f"{name} before VERSION")
        if cmd not in (2, 8) and fds:
            self.rep.bad(f"{name} carried {len(fds)} fds")
            for fd in fds:
                os.close(fd)
            fds = []
        handler = getattr(self, "cmd_" + name.lower(), None)
        if handler is None:
            self.rep.bad(f"unexpected command {name}")
            self.reply(sock, hdr, error=ENOTSUP)
            return
        handler(sock, hdr, p, fds)

    # -- commands --
    def cmd_version(self, sock, hdr, p, fds):
        if self.got_version:
            self.rep.bad("second VERSION")
        self.got_version = True
        if len(p) < 4:
            self.rep.bad("VERSION payload shorter than 4 bytes")
            return self.reply(sock, hdr, error=EINVAL)
        major, minor = struct.unpack_from("<HH", p)
        self.rep.data["client_version"] = [major, minor]
        js = p[4:]
        if js:
            if js[-1] != 0:
                self.rep.bad("VERSION JSON not NUL-terminated")
            try:
                caps = json.loads(js[:-1].decode())
                self.rep.data["client_caps"] = caps
                c = caps.get("capabilities", {})
                if not isinstance(c.get("max_msg_fds", 1), int) or not isinstance(c.get("max_data_xfer_size", 1), int):
                    self.rep.bad("client capability of the wrong type")
            except Exception as e:  # noqa: BLE001
                self.rep.bad(f"VERSION JSON does not parse: {e}")
        sc = self.args.scenario
        if sc == "bad-version":
            major = 1
        reply_minor = min(minor, 1)
        caps = {"capabilities": {"max_msg_fds": 8, "max_data_xfer_size": 1048576,
                                 "migration": {"pgsize": 4096}}}
        if sc == "bad-json":
            body = b'{"capabilities":{"max_msg_fds":"eight"}}\0'
        else:
            body = json.dumps(caps).encode() + b"\0"
        self.reply(sock, hdr, struct.pack("<HH", major, reply_minor) + body)

    def cmd_device_get_info(self, sock, hdr, p, fds):
        if len(p) != 16:
            self.rep.bad(f"DEVICE_GET_INFO payload {len(p)} bytes, expected 16")
            return self.reply(sock, hdr, error=EINVAL)
        argsz, flags, nreg, nirq = struct.unpack("<IIII", p)
        if argsz < 16 or flags or nreg or nirq:
            self.rep.bad("DEVICE_GET_INFO request fields (argsz >= 16, others zero)")
        self.reply(sock, hdr, struct.pack("<IIII", 16, 3, NUM_REGIONS, NUM_IRQS))  # RESET | PCI

    def cmd_device_get_region_info(self, sock, hdr, p, fds):
        if len(p) != 32:
            self.rep.bad(f"GET_REGION_INFO payload {len(p)} bytes, expected 32")
            return self.reply(sock, hdr, error=EINVAL)
        argsz, flags, index, cap_off, size, offset = struct.unpack("<IIIIQQ", p)
        self.rep.data.setdefault("region_info_requests", []).append({"index": index, "argsz": argsz})
        if argsz < 32 or flags or cap_off or size or offset:
            self.rep.bad("GET_REGION_INFO request fields (argsz >= 32, others zero)")
        if index != BAR0:
            info = struct.pack("<IIIIQQ", 32, REGION_F_READ | REGION_F_WRITE, index, 0,
                               256 if index == CONFIG else 0, 0)
            return self.reply(sock, hdr, info)
        areas = self.dev.sparse
        caps = struct.pack("<HHI", CAP_SPARSE_MMAP, 1, 0) + struct.pack("<II", len(areas), 0)
        for off, sz in areas:
            caps += struct.pack("<QQ", off, sz)
        need = 32 + len(caps)
        rflags = REGION_F_READ | REGION_F_WRITE | REGION_F_MMAP | REGION_F_CAPS
        info = struct.pack("<IIIIQQ", need, rflags, BAR0, 32, BAR0_SIZE, 0)
        send_fd = self.args.scenario != "region-no-fd"
        if argsz < need:
            return self.reply(sock, hdr, info, fds=[self.dev.bar_fd] if send_fd else ())
        self.dev.layout_queries += 1
        self.dev.tx_paused = False
        if self.dev.layout_phase == 1 and not self.dev.sparse:
            self.dev.trapped_since = self.dev.tx_seen
            self.dev.region_tdt = self.dev.rd(TDT)
        self.reply(sock, hdr, info + caps, fds=[self.dev.bar_fd] if send_fd else ())

    def cmd_device_get_irq_info(self, sock, hdr, p, fds):
        if len(p) != 16:
            self.rep.bad(f"GET_IRQ_INFO payload {len(p)} bytes")
            return self.reply(sock, hdr, error=EINVAL)
        argsz, flags, index, count = struct.unpack("<IIII", p)
        if argsz < 16 or flags or count:
            self.rep.bad("GET_IRQ_INFO request fields")
        if index >= NUM_IRQS:
            return self.reply(sock, hdr, error=EINVAL)
        cnt = {2: 3, LAYOUT_IRQ: 1}.get(index, 0)
        self.reply(sock, hdr, struct.pack("<IIII", 16, IRQ_INFO_EVENTFD if cnt else 0, index, cnt))

    def cmd_device_set_irqs(self, sock, hdr, p, fds):
        if len(p) < 20:
            self.rep.bad("SET_IRQS payload shorter than 20")
            return self.reply(sock, hdr, error=EINVAL)
        argsz, flags, index, start, count = struct.unpack_from("<IIIII", p)
        self.rep.data.setdefault("set_irqs", []).append(
            {"flags": flags, "index": index, "start": start, "count": count, "fds": len(fds)})
        if argsz != len(p):
            self.rep.bad(f"SET_IRQS argsz {argsz} != payload {len(p)}")
        if flags == IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER:
            if len(fds) != count:
                self.rep.bad(f"SET_IRQS eventfd: {len(fds)} fds for count {count}")
            if index == LAYOUT_IRQ and count == 1 and start == 0 and len(fds) == 1:
                self.dev.layout_fd = fds.pop()
        elif flags == IRQ_SET_DATA_NONE | IRQ_SET_ACTION_TRIGGER and count == 0:
            if index == LAYOUT_IRQ and self.dev.layout_fd is not None:
                os.close(self.dev.layout_fd)
                self.dev.layout_fd = None
        else:
            self.rep.bad(f"SET_IRQS flags {flags:#x}")
        for fd in fds:
            os.close(fd)
        self.reply(sock, hdr)

    def cmd_device_reset(self, sock, hdr, p, fds):
        if p:
            self.rep.bad("DEVICE_RESET with a payload")
        self.reply(sock, hdr)

    def cmd_dma_map(self, sock, hdr, p, fds):
        if len(p) != 32:
            self.rep.bad(f"DMA_MAP payload {len(p)} bytes, expected 32")
            return self.reply(sock, hdr, error=EINVAL)
        argsz, flags, offset, addr, size = struct.unpack("<IIQQQ", p)
        self.rep.data.setdefault("dma_maps", []).append(
            {"argsz": argsz, "flags": flags, "offset": offset, "addr": addr, "size": size, "fds": len(fds)})
        if argsz != 32:
            self.rep.bad(f"DMA_MAP argsz {argsz}")
        if flags != 3:
            self.rep.bad(f"DMA_MAP flags {flags:#x}, expected READ|WRITE")
        if len(fds) != 1:
            self.rep.bad(f"DMA_MAP with {len(fds)} fds")
            for fd in fds:
                os.close(fd)
            return self.reply(sock, hdr, error=EINVAL)
        fd = fds[0]
        if any(addr < a + s and a < addr + size for a, s, _ in self.dma_maps):
            os.close(fd)
            return self.reply(sock, hdr, error=EEXIST)
        mm = mmap.mmap(fd, size, offset=offset)
        os.close(fd)
        self.dma_maps.append((addr, size, mm))
        self.dev.ram = (addr, size, mm)
        self.reply(sock, hdr)

    def cmd_dma_unmap(self, sock, hdr, p, fds):
        if len(p) != 24:
            self.rep.bad(f"DMA_UNMAP payload {len(p)} bytes, expected 24")
            return self.reply(sock, hdr, error=EINVAL)
        argsz, flags, addr, size = struct.unpack("<IIQQ", p)
        self.rep.data.setdefault("dma_unmaps", []).append({"argsz": argsz, "flags": flags, "addr": addr, "size": size})
        if argsz < 24 or flags:
            self.rep.bad("DMA_UNMAP argsz/flags")
        for i, (a, s, mm) in enumerate(self.dma_maps):
            if a == addr and s == size:
                del self.dma_maps[i]
                if self.dev.ram and self.dev.ram[0] == a:
                    self.dev.ram = None
                return self.reply(sock, hdr, p)
        self.rep.bad("DMA_UNMAP of a range that was not mapped")
        self.reply(sock, hdr, error=ENOENT)

    def region_check(self, name, p, want_len):
        off, region, count = struct.unpack_from("<QII", p)
        if count not in (1, 2, 4, 8):
            self.rep.bad(f"{name} count {count}")
        if len(p) != want_len(count):
            self.rep.bad(f"{name} payload {len(p)} bytes for count {count}")
        size = BAR0_SIZE if region == BAR0 else 256 if region == CONFIG else 0
        if off + count > size:
            self.rep.bad(f"{name} outside region {region}: {off:#x}+{count}")
            return None
        return off, region, count

    def cmd_region_read(self, sock, hdr, p, fds):
        self.region_reads += 1
        if len(p) < 16:
            self.rep.bad("REGION_READ payload shorter than 16")
            return self.reply(sock, hdr, error=EINVAL)
        chk = self.region_check("REGION_READ", p, lambda c: 16)
        if chk is None:
            return self.reply(sock, hdr, error=EINVAL)
        off, region, count = chk
        if region == BAR0:
            if off >= 0x2000 and any(o <= off < o + s for o, s in self.dev.sparse):
                self.rep.data["trapped_reads_of_mapped_pages"] = \
                    self.rep.data.get("trapped_reads_of_mapped_pages", 0) + 1
            val = self.dev.reg_read(off, count)
            data = val.to_bytes(count, "little")
        else:
            data = bytes(self.dev.config[off:off + count])
        self.reply(sock, hdr, p[:16] + data)

    def server_command(self, sock, cmd, payload, msg_id):
        """Sends a server-to-client command and returns (flags, error, reply payload)."""
        sock.sendall(struct.pack("<HHIII", msg_id, cmd, 16 + len(payload), 0, 0) + payload)
        fds = []
        raw = self.recv_exact(sock, 16, fds)
        rid, rcmd, size, flags, err = struct.unpack("<HHIII", raw)
        body = self.recv_exact(sock, size - 16, fds) if size > 16 else b""
        if rid != msg_id or rcmd != cmd or flags & 0xF != F_REPLY:
            self.rep.bad(f"bad reply to server command {cmd}: id {rid} cmd {rcmd} flags {flags:#x}")
        return flags, err, body

    def dma_exercise(self, sock):
        """DMA_WRITE then DMA_READ through the socket, and one DMA_READ outside the map,
        interleaved with a pending client command (the client must serve them)."""
        addr = self.dev.ram[0] + 0x800000
        data = bytes(range(64))
        res = {}
        f, e, body = self.server_command(sock, 12, struct.pack("<QQ", addr, len(data)) + data, 0x7001)
        res["write_ok"] = not (f & F_ERROR) and body[:16] == struct.pack("<QQ", addr, len(data))
        f, e, body = self.server_command(sock, 11, struct.pack("<QQ", addr, len(data)), 0x7002)
        res["read_ok"] = not (f & F_ERROR) and body == struct.pack("<QQ", addr, len(data)) + data
        ram_view = self.dev.ram_read(addr, len(data))
        res["ram_matches"] = ram_view == data
        f, e, body = self.server_command(sock, 11, struct.pack("<QQ", 1 << 40, 16), 0x7003)
        res["outside_refused"] = bool(f & F_ERROR) and e != 0 and body == b""
        f, e, body = self.server_command(sock, 16, b"", 0x7004)   # DEVICE_FEATURE to the client
        res["unknown_refused"] = bool(f & F_ERROR)
        self.rep.data["dma_exercise"] = res

    def cmd_region_write(self, sock, hdr, p, fds):
        self.region_writes += 1
        # Inside a trapped BAR0 store: the client serves these from its SIGSEGV handler.
        if (self.args.scenario == "dma-rw" and self.dev.ram and len(p) >= 16 and
                struct.unpack_from("<I", p, 8)[0] == BAR0 and "dma_exercise" not in self.rep.data):
            self.dma_exercise(sock)
        if len(p) < 16:
            self.rep.bad("REGION_WRITE payload shorter than 16")
            return self.reply(sock, hdr, error=EINVAL)
        chk = self.region_check("REGION_WRITE", p, lambda c: 16 + c)
        if chk is None:
            return self.reply(sock, hdr, error=EINVAL)
        off, region, count = chk
        val = int.from_bytes(p[16:16 + count], "little")
        if region == BAR0:
            if off >= 0x2000 and any(o <= off < o + s for o, s in self.dev.sparse):
                self.rep.data["trapped_writes_of_mapped_pages"] = \
                    self.rep.data.get("trapped_writes_of_mapped_pages", 0) + 1
            self.dev.reg_write(off, count, val)
        else:
            self.dev.config[off:off + count] = val.to_bytes(count, "little")
            self.config_writes.append({"off": off, "count": count, "val": val})
        self.reply(sock, hdr, p[:16])

    # -- report --
    def report(self, extra):
        d = self.dev
        out = {
            "violations": self.rep.violations,
            "commands": self.rep.commands,
            "region_reads": self.region_reads,
            "region_writes": self.region_writes,
            "mailbox": d.mbx_log,
            "vf_resets": d.resets,
            "eimc": d.eimc, "eiac": d.eiac,
            "config_command": struct.unpack_from("<H", d.config, 4)[0],
            "config_writes": self.config_writes,
            "tx_frames": d.tx_frames,
            "tx_count": d.tx_seen,
            "rx_delivered": d.rx_delivered,
            "rx_pending": len(d.rx_pending),
            "trapped_tdt_writes": d.trapped_tdt_writes,
            "layout_queries": d.layout_queries,
            "dma_maps_left": len(self.dma_maps),
            "queue_regs": {"tdbal": d.rd(TDBAL), "tdbah": d.rd(TDBAH), "tdlen": d.rd(TDLEN),
                           "rdbal": d.rd(RDBAL), "rdlen": d.rd(RDLEN), "srrctl": d.rd(SRRCTL),
                           "rxdctl": d.rd(RXDCTL), "txdctl": d.rd(TXDCTL), "tdt": d.rd(TDT),
                           "rdt": d.rd(RDT)},
            "mac": d.mac.hex(":"),
        }
        out.update(self.rep.data)
        out.update(extra)
        with open(self.args.report, "w") as f:
            json.dump(out, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--scenario", default="basic")
    ap.add_argument("--mac", default="02:00:00:00:00:01")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--drop", type=int, default=-1)
    ap.add_argument("--dup", type=int, default=-1)
    ap.add_argument("--swap", type=int, default=-1)
    ap.add_argument("--corrupt", type=int, default=-1)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    if os.path.exists(args.socket):
        os.unlink(args.socket)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(args.socket)
    ls.listen(1)
    srv = Server(args)
    ls.settimeout(args.timeout)
    try:
        sock, _ = ls.accept()
    except socket.timeout:
        srv.report({"timeout": "no client connected"})
        return 1
    started = time.monotonic()

    def watchdog(_sig, _frm):
        srv.report({"timeout": "client did not finish"})
        os._exit(1)

    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(int(args.timeout))
    srv.serve(sock)
    signal.alarm(0)
    sock.close()
    srv.report({"elapsed": round(time.monotonic() - started, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
