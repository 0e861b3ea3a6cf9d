#!/usr/bin/env python3
"""grpc_server.py PORT CODE [only]: a gRPC server over cleartext HTTP/2 on
127.0.0.1:PORT that answers every call with grpc-status CODE (any text,
as a broken server may send one): status 200,
one empty message and CODE in the trailers; with "only", CODE in the one
header block of a trailers-only answer (how gRPC sends an error with no
message).  Enough of HTTP/2 for nginx's grpc_pass (RFC 9113): the
preface, SETTINGS and their ACK, a request's end by END_STREAM; header
blocks are sent as literals (RFC 7541), and the request's are not read.
"""
import socket
import struct
import sys
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, SETTINGS = 0, 1, 4
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def literal(name, value):
    # literal header field without indexing, new name, no Huffman
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        got = conn.recv(n - len(buf))
        if not got:
            raise EOFError
        buf += got
    return buf


def answer(conn, stream, code, only):
    head = b"\x88" + literal(b"content-type", b"application/grpc")  # :status 200
    status = literal(b"grpc-status", code.encode()) + \
        literal(b"grpc-message", b"test")
    if only:
        conn.sendall(frame(HEADERS, END_HEADERS | END_STREAM, stream, head + status))
        return
    conn.sendall(frame(HEADERS, END_HEADERS, stream, head) +
                 frame(DATA, 0, stream, b"\x00\x00\x00\x00\x00") +
                 frame(HEADERS, END_HEADERS | END_STREAM, stream, status))


def serve(conn, code, only):
    try:
        if read_exact(conn, len(PREFACE)) != PREFACE:
            return
        conn.sendall(frame(SETTINGS, 0, 0))
        while True:
            head = read_exact(conn, 9)
            length = struct.unpack(">I", b"\x00" + head[:3])[0]
            kind, flags = head[3], head[4]
            stream = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
            read_exact(conn, length)
            if kind == SETTINGS and not flags & ACK:
                conn.sendall(frame(SETTINGS, ACK, 0))
            elif kind in (HEADERS, DATA) and flags & END_STREAM:
                answer(conn, stream, code, only)
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    port, code = int(sys.argv[1]), sys.argv[2]
    only = len(sys.argv) > 3 and sys.argv[3] == "only"
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, code, only), daemon=True).start()


if __name__ == "__main__":
    main()
