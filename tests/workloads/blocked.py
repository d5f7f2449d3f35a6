"""Threads blocked in known places, for off-CPU profiles.

Thread "reader" waits in sock.recv() on a loopback TCP connection nobody
writes to; thread "locker" waits on a threading.Lock the main thread holds;
the main thread sleeps. Runs SECONDS, then releases everything and exits.

    python blocked.py [SECONDS]
"""
import socket
import sys
import threading
import time


def wait_for_data(conn):
    try:
        conn.recv(1)
    except OSError:
        pass


def wait_for_lock(lock):
    lock.acquire()
    lock.release()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    lock = threading.Lock()
    lock.acquire()
    reader = threading.Thread(target=wait_for_data, args=(peer,), name="reader")
    locker = threading.Thread(target=wait_for_lock, args=(lock,), name="locker")
    reader.start()
    locker.start()
    time.sleep(seconds)
    lock.release()
    client.close()
    peer.shutdown(socket.SHUT_RDWR)
    reader.join()
    locker.join()


if __name__ == "__main__":
    main()
