#!/usr/bin/env python3
"""Opens COUNT idle registered connections and prints the server RSS growth per connection (see README.md)."""
import socket, sys, time, resource, os
port=int(sys.argv[1]); n=int(sys.argv[2]); pid=int(sys.argv[3])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
before=rss(); socks=[]
t=time.time()
for i in range(n):
    s=socket.create_connection(("127.0.0.1",port)); s.sendall(f"NICK i{i}\r\nUSER i 0 * :i\r\n".encode()); socks.append(s)
    if i%1000==999:
        for x in socks[-1000:]:
            x.settimeout(5); d=b""
            while b" 422 " not in d and b" 376 " not in d: d+=x.recv(65536)
time.sleep(1)
after=rss()
print(f"{n} idle registered in {time.time()-t:.1f}s; RSS before {before} KiB after {after} KiB; {(after-before)*1024/n:.0f} bytes/connection")
