# SPDX-License-Identifier: MIT
"""Device side of the fake vfio-user server (see fake-vfio-user-server.py): a 16 KiB BAR0
memfd whose queue pages the client may map, emulated pages 0-1 (CTRL.RST, STATUS, the
mailbox with read-to-clear bits and the igb PF policy, EIMC/EIAC, statistics), PCI config
space, a polled 82576-VF queue model working on the DMA-mapped guest RAM, the scenario
hooks (loopback impairments, frame injection, BAR layout flips) and test-frame helpers.

Written from igbvf-vf.md and the vfio-user specification; shares no code with
native/guest, so the two implementations check each other.
"""

import mmap
import os
import struct
import zlib

BAR0_SIZE = 0x4000

# ---- 82576 VF registers (igbvf-vf.md) -----------------------------------------------------
CTRL, STATUS, V2PMAILBOX = 0x0000, 0x0008, 0x0C40
VMBMEM = 0x0800
EIMC, EIAC = 0x1528, 0x152C
VFGPRC, VFGPTC, VFGORC, VFGOTC = 0x0F10, 0x0F14, 0x0F18, 0x0F34
RDBAL, RDBAH, RDLEN, SRRCTL, RDH, RDT, RXDCTL = 0x2800, 0x2804, 0x2808, 0x280C, 0x2810, 0x2818, 0x2828
TDBAL, TDBAH, TDLEN, TDH, TDT, TXDCTL = 0x3800, 0x3804, 0x3808, 0x3810, 0x3818, 0x3828
RQERR, TQERR = 0x2834, 0x3834
MBX_REQ, MBX_ACK, MBX_VFU, MBX_PFU, MBX_PFSTS, MBX_PFACK, MBX_RSTI, MBX_RSTD = 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80
MSG_ACK, MSG_NACK, MSG_CTS = 0x80000000, 0x40000000, 0x20000000
XDCTL_ENABLE = 0x02000000
TXD_DTYP_DATA, TXD_DEXT, TXD_EOP, TXD_IFCS, TXD_RS = 0x00300000, 0x20000000, 0x01000000, 0x02000000, 0x08000000
RXD_DD, RXD_EOP = 1, 2


class Report:
    def __init__(self):
        self.violations = []
        self.commands = []
        self.data = {}

    def bad(self, text):
        if len(self.violations) < 200:
            self.violations.append(text)


class Device:
    """BAR0 memfd + emulated pages 0-1 + config space + queue model."""

    def __init__(self, args, rep):
        self.args = args
        self.rep = rep
        self.bar_fd = os.memfd_create("fake-bar0")
        os.ftruncate(self.bar_fd, BAR0_SIZE)
        self.bar = mmap.mmap(self.bar_fd, BAR0_SIZE)
        self.config = bytearray(256)
        struct.pack_into("<HH", self.config, 0, 0x8086, 0x10CA)
        self.sparse = [(0x2000, 0x2000)]          # pages 2-3 mmap-able
        self.mac = bytes.fromhex(args.mac.replace(":", ""))
        self.vmbmem = [0] * 16
        self.vfu = False
        self.r2c = 0
        self.cts = False
        self.reset_done = False
        self.mbx_log = []
        self.resets = 0
        self.eimc = None
        self.eiac = None
        self.stats = {"gptc": 0, "gprc": 0, "gotc": 0, "gorc": 0}
        self.ram = None                            # (iova, size, mmap)
        self.tx_frames = []
        self.rx_pending = []
        self.rx_delivered = 0
        self.layout_fd = None
        self.trapped_tdt_writes = 0
        self.region_tdt = None                     # last TDT written via REGION_WRITE
        self.layout_phase = 0
        self.layout_queries = 0
        self.trapped_since = None                  # set once the client got the trapped layout
        self.tx_seen = 0
        self.tx_paused = False                     # layout flip pending the client's re-query

    # -- register helpers on the memfd (pages 2-3 live here) --
    def rd(self, off):
        return struct.unpack_from("<I", self.bar, off)[0]

    def wr(self, off, v):
        struct.pack_into("<I", self.bar, off, v & 0xFFFFFFFF)

    # -- guest RAM --
    def ram_slice(self, addr, length):
        if self.ram is None:
            return None
        iova, size, mm = self.ram
        if addr < iova or length > size or addr - iova > size - length:
            return None
        return (mm, addr - iova)

    def ram_read(self, addr, length):
        s = self.ram_slice(addr, length)
        if s is None:
            return None
        mm, o = s
        return bytes(mm[o:o + length])

    def ram_write(self, addr, data):
        s = self.ram_slice(addr, len(data))
        if s is None:
            return False
        mm, o = s
        mm[o:o + len(data)] = data
        return True

    # -- pages 0-1: emulated registers --
    def mbx_read(self):
        v = (MBX_VFU if self.vfu else 0) | self.r2c
        self.r2c = 0                               # PFSTS, PFACK, RSTD clear on read
        return v

    def mbx_write(self, v):
        if v & MBX_VFU:
            self.vfu = True                        # PFU is never held by this PF
        else:
            self.vfu = False                       # writing without VFU releases the lock
        if v & MBX_REQ:
            self.handle_msg()
        if v & MBX_ACK:
            self.mbx_log.append({"vf_ack": True})

    def handle_msg(self):
        w0 = self.vmbmem[0]
        msg_id = w0 & 0xFFFF
        entry = {"request": w0, "words": list(self.vmbmem[:3])}
        if w0 & (MSG_ACK | MSG_NACK):
            entry["ignored"] = "stale echo"
            self.mbx_log.append(entry)
            return
        if msg_id == 1:                            # VF_RESET
            if self.args.scenario == "no-mac":
                reply = [1 | MSG_NACK, 0, 0]
            else:
                m = self.mac
                reply = [1 | MSG_ACK, m[0] | m[1] << 8 | m[2] << 16 | m[3] << 24, m[4] | m[5] << 8]
            self.reset_done = True
            self.cts = True
        elif not self.reset_done:
            reply = [w0 | MSG_NACK]
        elif msg_id == 2:                          # SET_MAC_ADDR
            if self.args.scenario == "nack-mac":
                reply = [w0 | MSG_NACK | MSG_CTS]
            else:
                w1, w2 = self.vmbmem[1], self.vmbmem[2]
                self.mac = bytes([w1 & 0xFF, w1 >> 8 & 0xFF, w1 >> 16 & 0xFF, w1 >> 24 & 0xFF,
                                  w2 & 0xFF, w2 >> 8 & 0xFF])
                reply = [w0 | MSG_ACK | MSG_CTS]
        else:
            reply = [w0 | MSG_NACK | MSG_CTS]
        for i, w in enumerate(reply):
            self.vmbmem[i] = w
        entry["reply"] = reply[0]
        self.mbx_log.append(entry)
        self.r2c |= MBX_PFACK | MBX_PFSTS          # synchronous PF: ack and answer at once

    def reg_read(self, off, size):
        if off >= 0x2000:                          # queue pages: the memfd is the register file
            return int.from_bytes(self.bar[off:off + size], "little")
        if size != 4 or off & 3:
            self.rep.bad(f"page 0/1 read of size {size} at {off:#x} (registers are 32-bit)")
        if off == CTRL:
            return 0
        if off == STATUS:
            return 0x83                            # FD | LU | 1000 Mb/s
        if off == V2PMAILBOX:
            return self.mbx_read()
        if VMBMEM <= off < VMBMEM + 64:
            if not self.vfu:
                self.rep.bad("VMBMEM read without holding VFU")
            return self.vmbmem[(off - VMBMEM) // 4]
        if off == VFGPTC:
            return self.stats["gptc"] & 0xFFFFFFFF
        if off == VFGPRC:
            return self.stats["gprc"] & 0xFFFFFFFF
        if off == VFGOTC:
            return self.stats["gotc"] & 0xFFFFFFFF
        if off == VFGORC:
            return self.stats["gorc"] & 0xFFFFFFFF
        return 0

    def reg_write(self, off, size, val):
        if off >= 0x2000:
            self.bar[off:off + size] = val.to_bytes(size, "little")
            if off == TDT:
                self.trapped_tdt_writes += 1
                self.region_tdt = val
            return
        if size != 4 or off & 3:
            self.rep.bad(f"page 0/1 write of size {size} at {off:#x}")
        if off == CTRL and val & 0x04000000:
            self.resets += 1
            self.wr(RXDCTL, self.rd(RXDCTL) & ~XDCTL_ENABLE)
            self.wr(TXDCTL, self.rd(TXDCTL) & ~XDCTL_ENABLE)
            self.r2c |= MBX_RSTD
            self.reset_done = False
            self.cts = False
        elif off == V2PMAILBOX:
            self.mbx_write(val)
        elif VMBMEM <= off < VMBMEM + 64:
            if not self.vfu:
                self.rep.bad("VMBMEM written without holding VFU")
            self.vmbmem[(off - VMBMEM) // 4] = val
        elif off == EIMC:
            self.eimc = val
        elif off == EIAC:
            self.eiac = val

    # -- queue model, polled --
    def poll(self):
        self.poll_tx()
        self.poll_rx()
        if self.trapped_since is not None and self.region_tdt is not None:
            if self.rd(TDT) != self.region_tdt:
                self.rep.bad("TDT changed through a mapping the client should have dropped")
                self.region_tdt = self.rd(TDT)

    def poll_tx(self):
        if self.tx_paused or not self.rd(TXDCTL) & XDCTL_ENABLE:
            return
        n = self.rd(TDLEN) // 16
        base = self.rd(TDBAL) | self.rd(TDBAH) << 32
        tdh, tdt = self.rd(TDH), self.rd(TDT)
        if n == 0 or tdt >= n:
            return
        while tdh != tdt:
            raw = self.ram_read(base + tdh * 16, 16)
            if raw is None:
                self.rep.bad("TX descriptor outside the DMA map")
                self.wr(TQERR, 1)
                self.wr(TXDCTL, self.rd(TXDCTL) & ~XDCTL_ENABLE)
                return
            addr, ctl, olinfo = struct.unpack("<QII", raw)
            length = ctl & 0xFFFF
            want = TXD_DTYP_DATA | TXD_DEXT | TXD_EOP | TXD_IFCS
            if ctl & want != want or (olinfo >> 14) != length:
                self.rep.bad(f"TX descriptor {tdh}: cmd_type_len {ctl:#x} olinfo {olinfo:#x}")
            frame = self.ram_read(addr, length)
            if frame is None:
                self.rep.bad("TX buffer outside the DMA map")
                frame = b""
            self.tx_seen += 1
            self.stats["gptc"] += 1
            self.stats["gotc"] += length + 4
            self.on_tx(frame)
            if ctl & TXD_RS:
                self.ram_write(base + tdh * 16 + 12, struct.pack("<I", olinfo | 1))
            tdh = (tdh + 1) % n
            self.wr(TDH, tdh)

    def poll_rx(self):
        if not self.rx_pending or not self.rd(RXDCTL) & XDCTL_ENABLE:
            return
        n = self.rd(RDLEN) // 16
        base = self.rd(RDBAL) | self.rd(RDBAH) << 32
        bsize = (self.rd(SRRCTL) & 0x7F) * 1024 or 2048
        while self.rx_pending:
            rdh, rdt = self.rd(RDH), self.rd(RDT)
            if n == 0 or rdt >= n or rdh == rdt:
                return                             # no free descriptor: hold (backpressure)
            raw = self.ram_read(base + rdh * 16, 16)
            pkt_addr = struct.unpack_from("<Q", raw)[0] if raw else 0
            frame = self.rx_pending.pop(0)
            if raw is None or len(frame) > bsize or not self.ram_write(pkt_addr, frame):
                self.rep.bad("RX descriptor or buffer outside the DMA map")
                return
            # Write-back: everything but the status dword first, DD last.
            self.ram_write(base + rdh * 16, struct.pack("<HHI", 0, 0, 0))
            self.ram_write(base + rdh * 16 + 12, struct.pack("<HH", len(frame), 0))
            self.ram_write(base + rdh * 16 + 8, struct.pack("<I", RXD_DD | RXD_EOP))
            self.stats["gprc"] += 1
            self.stats["gorc"] += len(frame) + 4
            self.rx_delivered += 1
            self.wr(RDH, (rdh + 1) % n)

    # -- scenario hooks --
    def on_tx(self, frame):
        sc = self.args.scenario
        tag = parse_tag(frame)
        rec = {"len": len(frame), "dst": frame[0:6].hex(":"), "src": frame[6:12].hex(":"),
               "ethertype": frame[12:14].hex() if len(frame) >= 14 else ""}
        if tag:
            rec.update(tag)
        if sc in ("fwd", "echo") or len(self.tx_frames) < 64:
            rec["hex"] = frame.hex()
        if len(self.tx_frames) < 5000:
            self.tx_frames.append(rec)
        if sc == "loopback":
            seq = tag["seq"] if tag else -1
            if seq == self.args.drop:
                return
            if seq == self.args.corrupt:
                frame = bytearray(frame)
                frame[20] ^= 0x40
                frame = bytes(frame)
            if seq == self.args.swap:
                self.held = frame                  # delivered after the next one
                return
            self.rx_pending.append(frame)
            if getattr(self, "held", None) is not None and seq == self.args.swap + 1:
                self.rx_pending.append(self.held)
                self.held = None
            if seq == self.args.dup:
                self.rx_pending.append(frame)
        elif sc == "layout":
            third = max(1, self.args.frames // 3)
            if self.layout_phase == 0 and self.tx_seen >= third:
                self.flip_layout(trapped=True)
            elif self.layout_phase == 1 and self.tx_seen >= 2 * third and self.trapped_since is not None:
                self.flip_layout(trapped=False)

    def flip_layout(self, trapped):
        if self.layout_fd is None:
            self.rep.bad("layout scenario: the client did not register the layout eventfd")
            self.layout_phase = 9
            return
        self.sparse = [] if trapped else [(0x2000, 0x2000)]
        self.layout_phase += 1
        self.rep.data.setdefault("layout_flips", []).append(
            {"trapped": trapped, "at_tx_frame": self.tx_seen})
        if not trapped:
            self.trapped_since = None
            self.region_tdt = None
        # Stop completing TX until the client has re-queried the layout: the client then
        # runs out of descriptors and must notice the eventfd, whatever the timing.
        self.tx_paused = True
        os.eventfd_write(self.layout_fd, 1)

    def start_injection(self):
        sc = self.args.scenario
        if sc == "fwd":
            for i in range(self.args.frames):
                self.rx_pending.append(make_frame(self.mac, bytes.fromhex("02aabbccdd01"), i))
        elif sc == "echo":
            peer = bytes.fromhex("02aabbccdd02")
            # Two frames that must be ignored come first: an ARP request for another
            # address and an echo request with a broken ICMP checksum.
            self.rx_pending.append(arp_request(peer, "10.0.0.2", "10.0.0.9"))
            bad = bytearray(icmp_echo(self.mac, peer, "10.0.0.2", "10.0.0.1", 0x1234, 8, b"x" * 20))
            bad[14 + 20 + 2] ^= 0xFF
            self.rx_pending.append(bytes(bad))
            self.rx_pending.append(arp_request(peer, "10.0.0.2", "10.0.0.1"))
            self.rx_pending.append(icmp_echo(self.mac, peer, "10.0.0.2", "10.0.0.1", 0x1234, 7,
                                             b"vfmed-ping-payload" * 3))


# ---- frames -----------------------------------------------------------------------------
def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def parse_tag(frame):
    if len(frame) < 38:
        return None
    t = frame[-24:]
    magic, stream, rsv, seq, length, crc = struct.unpack("<IHHQII", t)
    if magic != 0x544D4656:
        return None
    ok = length == len(frame) and rsv == 0 and crc == crc32(frame[12:-4])
    return {"stream": stream, "seq": seq, "tag_ok": ok}


def make_frame(dst, src, seq):
    body = dst + src + b"\x88\xb5" + bytes((seq * 7 + i) & 0xFF for i in range(46))
    body = body[:60 - 24]
    frame = bytearray(body + bytes(24))
    struct.pack_into("<IHHQI", frame, 36, 0x544D4656, 0, 0, seq, 60)
    struct.pack_into("<I", frame, 56, crc32(bytes(frame[12:56])))
    return bytes(frame)


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def arp_request(src_mac, src_ip, target_ip):
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src_mac + ip4(src_ip) + bytes(6) + ip4(target_ip)
    return (b"\xff" * 6 + src_mac + b"\x08\x06" + arp).ljust(60, b"\0")


def icmp_echo(dst_mac, src_mac, src_ip, dst_ip, ident, seq, payload):
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", inet_csum(icmp)) + icmp[4:]
    total = 20 + len(icmp)
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0x4242, 0x4000, 64, 1, 0, ip4(src_ip), ip4(dst_ip))
    iph = iph[:10] + struct.pack("!H", inet_csum(iph)) + iph[12:]
    return (dst_mac + src_mac + b"\x08\x00" + iph + icmp).ljust(60, b"\0")
