#!/usr/bin/env python3
"""A hostile HTTP/2 peer for t_limits.sh: raw frames over the gateway's Unix
socket (h2c, prior knowledge), so it can do what well-behaved clients refuse to:
ignore MAX_CONCURRENT_STREAMS, send oversized header lists, hold connections,
send a body as thousands of one-byte DATA frames, stop reading tunnels,
send HPACK bombs and rapid resets; plus plain TCP and idle TLS connection
floods on the TLS port (tcpflood, idletls).  Standard library only.
Every read is bounded by a deadline.  Prints one result line per mode."""
import os
import select
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 1, 4, 1


def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, sid) + payload


def hint(n, prefix_bits, first=0):
    lim = (1 << prefix_bits) - 1
    if n < lim:
        return bytes([first | n])
    out = [first | lim]
    n -= lim
    while n >= 128:
        out.append((n & 127) | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def hpack(headers):
    """Literal header fields without indexing, new names, no Huffman."""
    b = b""
    for k, v in headers:
        k, v = k.encode(), v.encode()
        b += b"\x00" + hint(len(k), 7) + k + hint(len(v), 7) + v
    return b


def headers(sid, block, end_stream=True):
    """HEADERS, then CONTINUATION frames: a frame carries at most 16384 bytes."""
    parts = [block[i:i + 16384] for i in range(0, len(block), 16384)] or [b""]
    out = b""
    for i, part in enumerate(parts):
        fl = END_HEADERS if i == len(parts) - 1 else 0
        if i == 0:
            out += frame(HEADERS, fl | (END_STREAM if end_stream else 0), sid, part)
        else:
            out += frame(9, fl, sid, part)
    return out


def req(method, path, extra=()):
    return hpack([(":method", method), (":scheme", "http"), (":authority", "localhost"),
                  (":path", path)] + list(extra))


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""
        self.s.sendall(PREFACE + frame(SETTINGS, 0, 0) +
                       frame(WINDOW, 0, 0, struct.pack(">I", (1 << 30))))

    def frames(self, deadline):
        """Yield frames until the deadline or EOF (then yields None)."""
        while True:
            while len(self.buf) >= 9:
                hi, lo, t, fl, sid = struct.unpack(">BHBBI", self.buf[:9])
                n = (hi << 16) | lo
                if len(self.buf) < 9 + n:
                    break
                p = self.buf[9:9 + n]
                self.buf = self.buf[9 + n:]
                if t == SETTINGS and not fl & ACK:
                    self.s.sendall(frame(SETTINGS, ACK, 0))
                if t == PING and not fl & ACK:
                    self.s.sendall(frame(PING, ACK, 0, p))
                yield t, fl, sid & 0x7FFFFFFF, p
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.s.settimeout(left)
            try:
                d = self.s.recv(1 << 16)
            except (socket.timeout, ConnectionResetError, BrokenPipeError):
                d = b""
            if not d:
                yield None
                return
            self.buf += d

    def settle(self, secs=1.0):
        """Read until the server's SETTINGS came (and was ACKed)."""
        for f in self.frames(time.monotonic() + secs):
            if f is None or (f[0] == SETTINGS and not f[1] & ACK):
                return f


def collect(c, sids, secs):
    """Per stream: 'ok' (END_STREAM), 'rst:CODE'; plus the body bytes and a GOAWAY."""
    res, body, goaway = {}, {}, None
    for f in c.frames(time.monotonic() + secs):
        if f is None:
            break
        t, fl, sid, p = f
        if t == GOAWAY:
            goaway = (struct.unpack(">I", p[4:8])[0], p[8:].decode(errors="replace"))
        elif t == RST and sid in sids:
            res[sid] = "rst:%d" % struct.unpack(">I", p[:4])[0]
        elif t in (HEADERS, DATA) and sid in sids:
            if t == DATA:
                body[sid] = body.get(sid, b"") + p
            if fl & END_STREAM:
                res[sid] = "ok"
        if len(res) == len(sids):
            break
    return res, body, goaway


def flood(path, n):
    c = Conn(path)
    c.settle()
    sids = [1 + 2 * i for i in range(n)]
    c.s.sendall(b"".join(frame(HEADERS, END_STREAM | END_HEADERS, s, req("GET", "/healthz"))
                         for s in sids))
    res, _, goaway = collect(c, set(sids), 60)
    ok = sum(1 for v in res.values() if v == "ok")
    rst = sum(1 for v in res.values() if v.startswith("rst"))
    codes = sorted(set(v for v in res.values() if v.startswith("rst")))
    print("flood sent=%d ok=%d reset=%d unanswered=%d codes=%s goaway=%s" %
          (n, ok, rst, n - len(res), ",".join(codes) or "-", goaway))


def bigheaders(path, nfields, size):
    c = Conn(path)
    c.settle()
    big = [("x-big-%d" % i, "a" * size) for i in range(nfields)]
    c.s.sendall(headers(1, req("GET", "/healthz", big)))
    res, body, goaway = collect(c, {1}, 10)
    c.s.sendall(frame(HEADERS, END_STREAM | END_HEADERS, 3, req("GET", "/healthz")))
    res3, body3, goaway3 = collect(c, {3}, 10)
    print("big=%s big_body=%s next=%s next_body=%s goaway=%s" %
          (res.get(1), body.get(1, b"").decode(errors="replace").strip(), res3.get(3),
           body3.get(3, b"").decode(errors="replace").strip(), goaway or goaway3))


def conns(path, n):
    held, out = [], []
    for i in range(n):
        c = Conn(path)
        held.append(c)
        g = None
        for f in c.frames(time.monotonic() + 1.0):
            if f is None:
                break
            if f[0] == GOAWAY:
                g = (struct.unpack(">I", f[3][4:8])[0], f[3][8:].decode(errors="replace"))
        out.append("%d:%s" % (i + 1, "goaway(%d,%s)" % g if g else "open"))
    c = held[0]
    c.s.sendall(frame(HEADERS, END_STREAM | END_HEADERS, 1, req("GET", "/healthz")))
    res, _, _ = collect(c, {1}, 10)
    print("conns %s first_still_serves=%s" % (" ".join(out), res.get(1)))


def jgframe(ftype, payload=b"", aux=0):
    return struct.pack(">HBBIII", 0x4A47, ftype, 0, 0, len(payload), aux) + payload


def tiny(path, total):
    """exec wc -c with a body of TOTAL stdin bytes sent as one-byte DATA frames."""
    argv = b"wc\0-c\0"
    body = jgframe(2, b"\x01" + struct.pack(">I", len(argv)) + argv, 1)
    left = total
    while left > 0:
        k = min(left, 16384)
        body += jgframe(5, b"x" * k)
        left -= k
    body += jgframe(6)
    c = Conn(path)
    c.settle()
    c.s.sendall(frame(HEADERS, END_HEADERS, 1,
                      req("POST", "/v1/targets/local/exec",
                          [("content-type", "application/x-jumpgate-frames")])))
    sent = 0
    chunk = b"".join(frame(DATA, 0, 1, body[i:i + 1]) for i in range(len(body)))
    # The stream window (256 KiB) covers the body, so no WINDOW_UPDATE is awaited.
    c.s.sendall(chunk)
    c.s.sendall(frame(DATA, END_STREAM, 1))
    sent = len(body)
    res, b, goaway = collect(c, {1}, 60)
    print("tiny frames=%d result=%s count_in_output=%s goaway=%s" %
          (sent, res.get(1), (b"%d" % total) in b.get(1, b""), goaway))


def hold(path, n, cmd, target="local"):
    """N exec streams of CMD on TARGET whose output is never read; hold until stdin
    closes."""
    argv = b"".join(a.encode() + b"\0" for a in cmd)
    body = jgframe(2, b"\x01" + struct.pack(">I", len(argv)) + argv, 1) + jgframe(6)
    c = Conn(path)
    c.settle()
    for i in range(n):
        sid = 1 + 2 * i
        c.s.sendall(frame(HEADERS, END_HEADERS, sid,
                          req("POST", "/v1/targets/%s/exec" % target,
                              [("content-type", "application/x-jumpgate-frames")])) +
                    frame(DATA, END_STREAM, sid, body))
    print("holding %d" % n, flush=True)
    sys.stdin.read()


def tunnels(path, n, target, port, want):
    """N tunnels (extended CONNECT) to TARGET's PORT on one connection, whose reader
    stops: the connection is read (so the gateway can write), but no stream gets
    WINDOW_UPDATE past the initial 65535 bytes, so what the far ends send queues in
    the gateway.  Prints "tunnels N open=K"; then, at a line "drain" on stdin, opens
    every stream's window and reads until each got WANT more bytes (bounded by 60 s):
    prints "drained N min=BYTES"."""
    c = Conn(path)
    c.settle()
    sids = [1 + 2 * i for i in range(n)]
    p = "/v1/targets/%s/tunnel?port=%d" % (target, port)
    c.s.sendall(b"".join(frame(HEADERS, END_HEADERS, sid,
                               req("CONNECT", p, [(":protocol", "jumpgate-tunnel")]))
                         for sid in sids))
    got, status = {x: 0 for x in sids}, {}
    settle = None
    for f in c.frames(time.monotonic() + 20):
        if f is None:
            break
        t, fl, sid, pl = f
        if t == HEADERS and sid in sids:
            status[sid] = "open"
        elif t == DATA and sid in sids:
            got[sid] += len(pl)
        elif t == RST and sid in sids:
            status[sid] = "rst"
        # Every stream answered: read on for two seconds while the far ends push.
        if settle is None and len(status) == n:
            settle = time.monotonic() + 2
        if settle is not None and time.monotonic() > settle:
            break
    print("tunnels %d open=%d received=%d" %
          (n, sum(1 for x in sids if status.get(x) == "open"), sum(got.values())), flush=True)
    # Keep the connection read (PINGs answered) while the test looks at the gateway.
    while True:
        r, _, _ = select.select([sys.stdin, c.s], [], [], 5)
        if c.s in r:
            for f in c.frames(time.monotonic() + 0.05):
                if f is None:
                    print("connection closed while stalled", flush=True)
                    return
                if f[0] == DATA and f[2] in got:
                    got[f[2]] += len(f[3])
        if sys.stdin in r:
            line = sys.stdin.readline()
            if not line or line.strip() == "drain":
                break
    base = dict(got)
    c.s.sendall(b"".join(frame(WINDOW, 0, sid, struct.pack(">I", 1 << 30)) for sid in sids))
    for f in c.frames(time.monotonic() + 60):
        if f is None:
            break
        t, fl, sid, pl = f
        if t == DATA and sid in sids:
            got[sid] += len(pl)
            if len(pl):
                c.s.sendall(frame(WINDOW, 0, 0, struct.pack(">I", len(pl))))
        if all(got[x] - base[x] >= want for x in sids):
            break
    print("drained %d min=%d" % (n, min(got[x] - base[x] for x in sids)), flush=True)


def hpackbomb(path, size, refs, where="headers"):
    """One header block that inserts a SIZE-byte header into the HPACK dynamic table
    (literal with incremental indexing) and then references it REFS times (one byte
    each: indexed field 62), so its decoded size is about (SIZE + 38) * REFS while the
    wire carries SIZE + REFS bytes.  WHERE "headers": the request's own headers (GET
    /healthz); "trailers": the trailers of an exec request whose body never starts.
    Prints the stream's fate, the seconds it took, and whether a plain request on the
    same connection still works (the HPACK state must stay in step with ours)."""
    c = Conn(path)
    c.settle()
    name = b"x-bomb"
    bomb = b"\x40" + hint(len(name), 7) + name + hint(size, 7) + b"a" * size
    bomb += b"\xbe" * refs
    if where == "trailers":
        c.s.sendall(frame(HEADERS, END_HEADERS, 1,
                          req("POST", "/v1/targets/local/exec",
                              [("content-type", "application/x-jumpgate-frames")])))
        block = bomb
    else:
        block = req("GET", "/healthz") + bomb
    t0 = time.monotonic()
    c.s.sendall(headers(1, block))
    res, body, goaway = collect(c, {1}, 20)
    took = time.monotonic() - t0
    # The same entry, referenced once more: it must still be in our shared table.
    c.s.sendall(frame(HEADERS, END_STREAM | END_HEADERS, 3, req("GET", "/healthz") + b"\xbe"))
    res3, body3, goaway3 = collect(c, {3}, 10)
    print("bomb wire=%d decoded=%d result=%s body=%s secs=%.2f next=%s next_body=%s goaway=%s" %
          (len(block), (size + len(name) + 32) * refs, res.get(1),
           body.get(1, b"").decode(errors="replace").strip(), took, res3.get(3),
           body3.get(3, b"").decode(errors="replace").strip(), goaway or goaway3))


def tcpflood(port, n, hold):
    """N plain TCP connections to 127.0.0.1:PORT that never send a byte, held HOLD
    seconds, then closed.  Connects are non-blocking (the gateway may be out of
    descriptors and the backlog full); prints how many were established."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            continue
        socks.append(s)
    time.sleep(hold)
    up = 0
    for s in socks:
        try:
            s.getpeername()
            up += 1
        except OSError:
            pass
        s.close()
    print("tcpflood sent=%d established=%d" % (n, up), flush=True)


def idletls(port, n, hold, ca, cert, key):
    """N TLS connections (client certificate, ALPN h2) to 127.0.0.1:PORT that finish
    the handshake but never send the HTTP/2 preface; each is watched for HOLD seconds:
    prints how many the gateway closed and the latest close, in seconds."""
    import ssl
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2"])
    conns = []
    for _ in range(n):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        conns.append(ctx.wrap_socket(raw, server_hostname="localhost"))
    t0 = time.monotonic()
    print("idletls open=%d" % len(conns), flush=True)
    closed, last = 0, 0.0
    for c in conns:
        left = t0 + hold - time.monotonic()
        if left <= 0:
            break
        c.settimeout(left)
        try:
            while c.recv(4096):
                pass
        except (socket.timeout, ssl.SSLError, OSError) as e:
            if isinstance(e, socket.timeout):
                break
        closed += 1
        last = time.monotonic() - t0
    print("idletls closed=%d last=%.1f" % (closed, last), flush=True)
    for c in conns:
        c.close()


def rapidreset(path, n, cmd):
    """Rapid reset (CVE-2023-44487) against exec: N times HEADERS + the OPEN frame of
    CMD + RST_STREAM(CANCEL), as fast as the socket takes them.  Prints how many were
    sent before the connection ended, and its GOAWAY (code, debug text)."""
    argv = b"".join(a.encode() + b"\0" for a in cmd)
    body = jgframe(2, b"\x01" + struct.pack(">I", len(argv)) + argv, 1)
    c = Conn(path)
    c.settle()
    sent = 0
    for i in range(n):
        sid = 1 + 2 * i
        try:
            c.s.sendall(frame(HEADERS, END_HEADERS, sid,
                              req("POST", "/v1/targets/local/exec",
                                  [("content-type", "application/x-jumpgate-frames")])) +
                        frame(DATA, 0, sid, body) + frame(RST, 0, sid, struct.pack(">I", 8)))
        except OSError:
            break
        sent += 1
    goaway = None
    for f in c.frames(time.monotonic() + 10):
        if f is None:
            break
        if f[0] == GOAWAY:
            goaway = (struct.unpack(">I", f[3][4:8])[0], f[3][8:].decode(errors="replace"))
    print("rapidreset sent=%d goaway=%s" % (sent, goaway), flush=True)


if __name__ == "__main__":
    mode, sock = sys.argv[1], sys.argv[2]
    if mode == "flood":
        flood(sock, int(sys.argv[3]))
    elif mode == "bigheaders":
        bigheaders(sock, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "conns":
        conns(sock, int(sys.argv[3]))
    elif mode == "tiny":
        tiny(sock, int(sys.argv[3]))
    elif mode == "hold":
        hold(sock, int(sys.argv[3]), sys.argv[4:], os.environ.get("H2RAW_TARGET", "local"))
    elif mode == "tunnels":
        tunnels(sock, int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif mode == "tcpflood":
        tcpflood(int(sock), int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "idletls":
        idletls(int(sock), int(sys.argv[3]), float(sys.argv[4]), *sys.argv[5:8])
    elif mode == "rapidreset":
        rapidreset(sock, int(sys.argv[3]), sys.argv[4:])
    elif mode == "hpackbomb":
        hpackbomb(sock, int(sys.argv[3]), int(sys.argv[4]),
                  sys.argv[5] if len(sys.argv) > 5 else "headers")
