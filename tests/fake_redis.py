# fake_redis.py PORT REPLY [drip|stream] -- a server that is not Redis (or
# holds what lbsched did not write), for the shell tests: on 127.0.0.1:PORT
# it answers every read with REPLY (Python escapes).  With "drip" it then
# sends one byte every 50 ms for ever: a reply that is never whole, though
# no read waits long for its next byte.  With "stream", 64 KiB every 100 ms
# for ever: each client timeout's share of a reply comes in time, and only
# a deadline over the whole ends it.  With "get-nil", a read holding a GET
# alone is answered nil, as a Redis without the key would (a sync asks for
# its epoch before it records the fleet).  Prints "listening" once it listens,
# and "accepted" and "closed" at each connection's start and end, for a
# test that counts a client's tries or waits for one to be over; the test
# stops it by its pid (redislib.sh's fake_start).
import socket, sys, threading, time
port = int(sys.argv[1])
reply = sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
drip = sys.argv[3:] == ["drip"]
stream = sys.argv[3:] == ["stream"]
get_nil = sys.argv[3:] == ["get-nil"]
def serve(c):
    try:
        while True:
            got = c.recv(65536)
            if not got:
                break
            alone_get = got.startswith(b"*2\r\n$3\r\nGET\r\n") and got.count(b"*") == 1
            c.sendall(b"$-1\r\n" if get_nil and alone_get else reply)
            while stream:
                c.sendall(b"x" * 65536)
                time.sleep(0.1)
            while drip:
                c.sendall(b"x")
                time.sleep(0.05)
    except OSError:
        pass
    c.close()
    print("closed", flush=True)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(8)
print("listening", flush=True)
while True:
    c, _ = ls.accept()
    print("accepted", flush=True)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
