#!/usr/bin/env python3
# bench_sswan.py — drive two strongSwan charon daemons over VICI for tools/bench_sswan.sh
# (performance.md §5: childless IKE_SAs, CPU per IKE_SA from /proc, heap from VICI stats).
#
#   bench_sswan.py load SOCK ROLE KEYTYPE DH CERTDIR LOCAL REMOTE
#       load the CA, our certificate and key, and the "bench" connection (ROLE: i | r)
#   bench_sswan.py run ISOCK RSOCK IPID RPID N WINDOW
#       initiate N childless IKE_SAs from the initiator, WINDOW at a time; print the CPU
#       (utime + stime from /proc) and heap (mallinfo "used") each daemon spent per IKE_SA
#
# VICI (strongSwan's src/libcharon/plugins/vici/README.md): a 32-bit big-endian length,
# a packet type, for requests the command name, then the message: typed elements
# (section start/end, key = value, list start/item/end). Written here from that
# description; no strongSwan code.
import os
import socket
import struct
import sys
import threading
import time

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN, EVENT = 0, 1, 2, 7
SEC_START, SEC_END, KV, LIST_START, LIST_ITEM, LIST_END = 1, 2, 3, 4, 5, 6


def _b(v):
    return v if isinstance(v, bytes) else str(v).encode()


def encode(msg):
    out = bytearray()
    for k, v in msg.items():
        kb = k.encode()
        if isinstance(v, dict):
            out += bytes([SEC_START, len(kb)]) + kb + encode(v) + bytes([SEC_END])
        elif isinstance(v, list):
            out += bytes([LIST_START, len(kb)]) + kb
            for item in v:
                ib = _b(item)
                out += bytes([LIST_ITEM]) + struct.pack(">H", len(ib)) + ib
            out += bytes([LIST_END])
        else:
            vb = _b(v)
            out += bytes([KV, len(kb)]) + kb + struct.pack(">H", len(vb)) + vb
    return bytes(out)


def decode(b):
    i, stack, cur_list = 0, [{}], None
    while i < len(b):
        t = b[i]
        i += 1
        if t in (SEC_START, KV, LIST_START):
            n = b[i]
            name = b[i + 1:i + 1 + n].decode()
            i += 1 + n
        if t == SEC_START:
            d = {}
            stack[-1][name] = d
            stack.append(d)
        elif t == SEC_END:
            stack.pop()
        elif t == KV:
            n = struct.unpack(">H", b[i:i + 2])[0]
            stack[-1][name] = b[i + 2:i + 2 + n].decode(errors="replace")
            i += 2 + n
        elif t == LIST_START:
            cur_list = []
            stack[-1][name] = cur_list
        elif t == LIST_ITEM:
            n = struct.unpack(">H", b[i:i + 2])[0]
            cur_list.append(b[i + 2:i + 2 + n].decode(errors="replace"))
            i += 2 + n
        elif t == LIST_END:
            cur_list = None
        else:
            raise ValueError("bad VICI element %d" % t)
    return stack[0]


class Vici:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(100):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("bench_sswan: no VICI socket at %s" % path)

    def _read(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise SystemExit("bench_sswan: VICI connection closed")
            buf += chunk
        return bytes(buf)

    def request(self, cmd, msg=None):
        c = cmd.encode()
        body = bytes([CMD_REQUEST, len(c)]) + c + encode(msg or {})
        self.s.sendall(struct.pack(">I", len(body)) + body)
        while True:
            n = struct.unpack(">I", self._read(4))[0]
            data = self._read(n)
            if data[0] == CMD_RESPONSE:
                return decode(data[1:])
            if data[0] == CMD_UNKNOWN:
                raise SystemExit("bench_sswan: charon does not know VICI command %s" % cmd)
            # events (not registered for) and anything else: skip


def pem_to_der(path):
    import base64
    lines = open(path).read().splitlines()
    body = [l for l in lines if l and not l.startswith("-----")]
    return base64.b64decode("".join(body))


def load(sock, role, keytype, dh, certdir, local, remote):
    v = Vici(sock)
    ca, me = ("ca", "r" if role == "r" else "n0") if keytype == "ecdsa" else \
        ("rca", "rr" if role == "r" else "rn0")
    for f, flag in ((ca, "CA"), (me, "NONE")):
        r = v.request("load-cert", {"type": "X509", "flag": flag,
                                     "data": pem_to_der(os.path.join(certdir, f + ".pem"))})
        if r.get("success") != "yes":
            raise SystemExit("bench_sswan: load-cert %s: %s" % (f, r.get("errmsg")))
    r = v.request("load-key", {"type": "rsa" if keytype == "rsa" else "ecdsa",
                               "data": open(os.path.join(certdir, me + ".key")).read()})
    if r.get("success") != "yes":
        raise SystemExit("bench_sswan: load-key %s: %s" % (me, r.get("errmsg")))
    conn = {
        "version": "2",
        "local_addrs": [local],
        "remote_addrs": [remote],
        "proposals": ["aes256gcm16-prfsha512-" + dh],
        "childless": "force" if role == "i" else "allow",
        "unique": "never",
        "send_cert": "always",
        "encap": "no",
        "mobike": "no",
        "dpd_delay": "0",
        "rekey_time": "0",
        "reauth_time": "0",
        "local": {"auth": "pubkey",
                  "certs": [pem_to_der(os.path.join(certdir, me + ".pem"))]},
        "remote": {"auth": "pubkey", "id": "%any",
                   "cacerts": [pem_to_der(os.path.join(certdir, ca + ".pem"))]},
    }
    r = v.request("load-conn", {"bench": conn})
    if r.get("success") != "yes":
        raise SystemExit("bench_sswan: load-conn: %s" % r.get("errmsg"))


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])       # utime + stime (fields 14, 15)


def heap_used(v):
    st = v.request("stats")
    return int(st.get("mallinfo", {}).get("used", 0))


def established(v):
    st = v.request("stats")
    return int(st.get("ikesas", {}).get("total", 0))


def run(isock, rsock, ipid, rpid, n, window):
    vi, vr = Vici(isock), Vici(rsock)
    hz = os.sysconf("SC_CLK_TCK")
    h_i0, h_r0 = heap_used(vi), heap_used(vr)
    c_i0, c_r0 = cpu_ticks(ipid), cpu_ticks(rpid)
    t0 = time.monotonic()
    left = [n]
    fails = []
    lock = threading.Lock()

    def worker():
        c = Vici(isock)
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            r = c.request("initiate", {"ike": "bench", "timeout": "0", "init-limits": "no",
                                       "loglevel": "-1"})
            if r.get("success") != "yes":
                with lock:
                    fails.append(r.get("errmsg", "?"))

    threads = [threading.Thread(target=worker) for _ in range(window)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    c_i1, c_r1 = cpu_ticks(ipid), cpu_ticks(rpid)
    up_i, up_r = established(vi), established(vr)
    h_i1, h_r1 = heap_used(vi), heap_used(vr)
    ok = n - len(fails)
    if fails:
        print("# strongswan: %d of %d initiations failed (first: %s)" % (len(fails), n, fails[0]))
    if ok == 0:
        raise SystemExit("bench_sswan: no IKE_SA came up")
    ri = (c_i1 - c_i0) / hz / ok * 1e6
    rr = (c_r1 - c_r0) / hz / ok * 1e6
    print("responder %7.0f us = %6.0f/s per core | initiator %7.0f us = %6.0f/s | "
          "wall %.2f s (%.0f/s, both daemons on the %d vCPUs) | IKE_SAs up %d / %d" %
          (rr, 1e6 / rr, ri, 1e6 / ri, wall, ok / wall, os.cpu_count(), up_r, up_i))
    print("heap responder %.0f B per IKE_SA, initiator %.0f B (mallinfo used, VICI stats)" %
          ((h_r1 - h_r0) / max(up_r, 1), (h_i1 - h_i0) / max(up_i, 1)))


def main(a):
    if len(a) == 9 and a[1] == "load":
        load(*a[2:])
    elif len(a) == 8 and a[1] == "run":
        run(a[2], a[3], int(a[4]), int(a[5]), int(a[6]), int(a[7]))
    else:
        raise SystemExit(__doc__ if False else "usage: see the header of bench_sswan.py")


if __name__ == "__main__":
    main(sys.argv)
