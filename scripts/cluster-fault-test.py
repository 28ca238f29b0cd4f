#!/usr/bin/env python3
"""Cluster test: three parley-server processes on one PostgreSQL; one network, a node killed, the database restarted.

Usage: scripts/cluster-fault-test.py PATH/TO/parley-server POSTGRES_URL POSTGRES_DIR
POSTGRES_URL and POSTGRES_DIR are a throwaway server from scripts/postgres-temp (the test restarts it with
`scripts/postgres-temp restart POSTGRES_DIR`). A database of its own is created and dropped with psql.

0. alice on node n1, bob on n2 and carol on n3 share #k: a topic and modes set on n1 hold on n3, DMs cross nodes,
   and a nick in use on n1 is refused on n2.
1. carol streams labeled messages (echo-message: each echo is an acknowledgement) and n3 gets SIGKILL mid-stream.
   alice and bob must see carol QUIT with "Node n3 was lost"
   within twice the lease (3 s here); every message carol had acknowledged must have reached alice exactly once and
   be in CHATHISTORY; and the nick carol must be free again.
2. PostgreSQL is stopped and restarted while bob keeps talking: while it is down, dave (on bob's node, in the same
   channel) has his PING answered within a second; each of bob's lines is either stored (echoed, and reaches alice
   once, in order) or refused with FAIL TEMPORARILY_UNAVAILABLE within a second of being sent, never both; the lines
   before the stop are stored, and once the database is back bob's node takes his lines again.
3. PostgreSQL is stopped for four leases: PINGs are answered throughout, and a message, a nick change and a join
   are each refused within a second (FAIL TEMPORARILY_UNAVAILABLE, 437, 437); once it is back nobody was
   disconnected, everyone is still in #k, messages cross nodes again, and the nicks are still held.
Only the standard library is used.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

import clusternodes
from clusternodes import psql
from rawirc import Client, command, free_port, tags, trailing

# CI's values; CLUSTER_FAULT_LEASE=15 CLUSTER_FAULT_OUTAGE=60 runs the default lease through a minute's outage.
LEASE = int(os.environ.get("CLUSTER_FAULT_LEASE", "3"))
OUTAGE = int(os.environ.get("CLUSTER_FAULT_OUTAGE", str(4 * LEASE)))


def fail(message):
    clusternodes.fail("cluster-fault-test", message)


def start(binary, port, database, node, data):
    return clusternodes.start(binary, port, database, node, data, LEASE)


def quit_of(line, nick):
    """Whether `line` is the QUIT of `nick`."""
    words = line.split(" ")
    words = words[1:] if words[0].startswith("@") else words
    return command(line) == "QUIT" and words[0].startswith(f":{nick}!")


def names(client, channel):
    client.send(f"NAMES {channel}")
    found = []
    while True:
        line = client.until(lambda l: command(l) in ("353", "366"))
        if command(line) == "366":
            return {name.lstrip("@+") for name in found}
        found += trailing(line).split()


def wait_for(predicate, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def texts(lines, nick):
    return [trailing(line) for line in lines if command(line) == "PRIVMSG" and f":{nick}!" in line.split(" PRIVMSG")[0]]


def main():
    binary, url, pgdir = sys.argv[1], sys.argv[2], sys.argv[3]
    name = f"parley_fault_{os.getpid()}"
    psql(url, f"CREATE DATABASE {name}")
    database = url.replace("/postgres?", f"/{name}?")
    work = tempfile.mkdtemp(prefix="parley-cluster-fault-")
    nodes = {}
    try:
        ports = {}
        for node in ("n1", "n2", "n3"):
            ports[node] = free_port()
            os.mkdir(os.path.join(work, node))
            nodes[node] = start(binary, ports[node], database, node, os.path.join(work, node))
        alice, bob, carol = (Client(ports[f"n{i}"], nick, "#k", "cluster-fault-test")
                             for i, nick in ((1, "alice"), (2, "bob"), (3, "carol")))
        wait_for(lambda: {"bob", "carol"} <= names(alice, "#k"), "alice to see bob and carol")
        wait_for(lambda: "carol" in names(bob, "#k"), "bob to see carol")

        # Part 0: one network. A topic and modes set on n1 hold on n3; DMs cross nodes; a nick in use is refused.
        alice.send("TOPIC #k :three nodes, one network")
        carol.until(lambda l: command(l) == "TOPIC" and trailing(l) == "three nodes, one network")
        alice.send("MODE #k +m")
        carol.until(lambda l: command(l) == "MODE" and " #k +m" in l)
        carol.send("PRIVMSG #k :can I talk?")
        carol.until(lambda l: command(l) == "404")
        alice.send("MODE #k +vv carol bob")
        carol.until(lambda l: command(l) == "MODE" and "+vv carol bob" in l)
        bob.send("PRIVMSG carol :psst, from n2")
        carol.until(lambda l: command(l) == "PRIVMSG" and trailing(l) == "psst, from n2")
        carol.send("PRIVMSG alice :hello n1, from n3")
        alice.until(lambda l: command(l) == "PRIVMSG" and trailing(l) == "hello n1, from n3")
        if not clusternodes.refuses_nick(ports["n2"], "alice"):
            fail("n2 gave out the nick alice, which n1 holds")
        print("cluster-fault-test: topic and modes set on n1 hold on n3, DMs cross nodes, n2 refuses n1's nick")

        # Part 1: SIGKILL n3 while carol streams.
        acked = {}
        sent = 0
        deadline = time.time() + 1.0
        carol.sock.settimeout(5)
        while time.time() < deadline:
            while sent - len(acked) < 64:
                carol.send(f"@label=m{sent} PRIVMSG #k :carol {sent}")
                sent += 1
            for line in carol.lines() or []:
                t = tags(line)
                if command(line) == "PRIVMSG" and "label" in t:
                    acked[t["label"]] = t["msgid"]
        os.kill(nodes["n3"].pid, signal.SIGKILL)
        killed_at = time.time()
        nodes["n3"].wait()
        seen_by_alice = []
        quit_line = alice.until(lambda l: command(l) == "QUIT" and ":carol!" in l.split(" QUIT")[0], seen_by_alice)
        quit_after = time.time() - killed_at
        if "Node n3 was lost" not in quit_line:
            fail(f"alice saw {quit_line!r}")
        bob.until(lambda l: command(l) == "QUIT" and "Node n3 was lost" in l)
        if quit_after > 2 * LEASE:
            fail(f"carol quit {quit_after:.1f} s after the kill (lease {LEASE} s)")
        received = [tags(line).get("msgid") for line in seen_by_alice if command(line) == "PRIVMSG"]
        duplicates = len(received) - len(set(received))
        missing = [label for label, msgid in acked.items() if msgid not in set(received)]
        print(f"cluster-fault-test: carol sent {sent}, acknowledged {len(acked)}; alice got {len(received)} live "
              f"({duplicates} twice), missing {len(missing)}; carol quit on n1 {quit_after:.1f} s after SIGKILL")
        if missing or duplicates:
            fail(f"acknowledged but not delivered: {missing[:10]}; duplicates: {duplicates}")
        stored = set(alice.history("#k"))
        lost = [label for label, msgid in acked.items() if msgid not in stored]
        if lost:
            fail(f"acknowledged but not in CHATHISTORY: {lost[:10]}")
        newcomer = Client(ports["n1"], "carol", name="cluster-fault-test")
        newcomer.send("QUIT")
        print("cluster-fault-test: every acknowledged message is in CHATHISTORY; the nick carol is free again")

        # Part 2: stop and restart PostgreSQL while bob talks; dave, on bob's node and in #k, only pings.
        dave = Client(ports["n2"], "dave", "#k", "cluster-fault-test")
        outcomes, sent_at, texts_sent = {}, {}, []

        def say(index):
            label = f"b{index}"
            sent_at[label] = time.monotonic()
            texts_sent.append(f"bob {index}")
            bob.send(f"@label={label} PRIVMSG #k :bob {index}")
            return label

        def outcome(label):
            # Bob's echo (stored and delivered) or FAIL (refused) for each labeled line, in the order they come.
            while label not in outcomes:
                line = bob.until(lambda l: command(l) in ("PRIVMSG", "FAIL") and "label" in tags(l))
                outcomes[tags(line)["label"]] = (command(line), line, time.monotonic())
            return outcomes[label][0]

        bob.sock.settimeout(60)
        alice.sock.settimeout(60)
        # Stored before the stop: bob's replies keep his commands' order, so a refusal would otherwise wait behind
        # a line still on its way to the database when it stopped.
        for index in range(3):
            if outcome(say(index)) != "PRIVMSG":
                fail(f"bob's line {index}, before the stop, was refused: {outcomes[f'b{index}'][1]!r}")
        subprocess.run(["scripts/postgres-temp", "stop", pgdir], check=True)
        # The refusals are promised once bob's node knows (its listening connection dropped); a line sent in the
        # moment before waits for the database like one already on its way.
        clusternodes.wait_until_database_away(ports["n2"])
        during = [say(index) for index in range(3, 6)]
        # Nothing dave asks for needs the database: he is answered at once while bob's lines are refused.
        asked = time.monotonic()
        dave.send("PING :during-the-outage")
        dave.sock.settimeout(5)
        dave.until(lambda l: command(l) == "PONG" and trailing(l) == "during-the-outage")
        waited = time.monotonic() - asked
        if waited > 1:
            fail(f"dave's PONG took {waited:.2f} s while PostgreSQL was down")
        for label in during:
            outcome(label)
        time.sleep(1)
        subprocess.run(["scripts/postgres-temp", "restart", pgdir], check=True)
        # Once the node reaches the database again it takes messages again: bob tries every half second.
        index, back = 6, None
        while back is None and index < 80:
            label = say(index)
            if outcome(label) == "PRIVMSG":
                back = label
            else:
                time.sleep(0.5)
            index += 1
        if back is None:
            fail("bob's node did not take messages again within 40 s of PostgreSQL's restart")
        labels = [f"b{i}" for i in range(index)]
        for label in labels:
            outcome(label)
        refused = [label for label in labels if outcomes[label][0] == "FAIL"]
        for label in refused:
            line, arrived = outcomes[label][1], outcomes[label][2]
            if " TEMPORARILY_UNAVAILABLE " not in line:
                fail(f"bob's {label} was refused with {line!r}")
            if arrived - sent_at[label] > 1:
                fail(f"bob's {label} was refused {arrived - sent_at[label]:.2f} s after it was sent")
        stored = [texts_sent[i] for i, label in enumerate(labels) if outcomes[label][0] == "PRIVMSG"]
        if not set(labels[:3]) <= {label for label in labels if outcomes[label][0] == "PRIVMSG"}:
            fail(f"lines sent before the stop were refused: {[outcomes[l][1] for l in labels[:3]]}")
        got = []
        while len(texts(got, "bob")) < len(stored):
            alice.until(lambda l: command(l) == "PRIVMSG", got)
        if texts(got, "bob") != stored:
            fail(f"bob's stored lines were {stored}, alice got {texts(got, 'bob')}")
        during_refused = [label for label in during if label in refused]
        print(f"cluster-fault-test: PostgreSQL down: dave (on bob's node) was PONGed in {waited * 1000:.0f} ms; "
              f"{len(refused)} of bob's lines refused (TEMPORARILY_UNAVAILABLE, each within 1 s; "
              f"{len(during_refused)} of the 3 sent while it was down), {len(stored)} stored reached alice once each, "
              f"in order; messages taken again {outcomes[back][2] - sent_at['b6']:.1f} s after the restart")

        # Part 3: PostgreSQL away for four leases (OUTAGE s). Every node's lease runs out meanwhile, but the database was away
        # for all of them alike: when it is back nobody is given up, nobody disconnected, and the nicks stay held.
        outage = OUTAGE
        seen = {client: [] for client in (alice, bob, dave)}
        # erin (on bob's node) leaves during the outage: her QUIT cannot be stored then, and the other nodes learn
        # of it only from the log, so her node records it once the database is back.
        erin = Client(ports["n2"], "erin", "#k", "cluster-fault-test")
        wait_for(lambda: "erin" in names(alice, "#k"), "alice to see erin")
        subprocess.run(["scripts/postgres-temp", "stop", pgdir], check=True)
        stopped = time.monotonic()
        clusternodes.wait_until_database_away(ports["n2"])
        erin.send("QUIT :gone during the outage")
        refusals = 0
        while time.monotonic() - stopped < outage:
            for client in (alice, dave):
                asked = time.monotonic()
                client.send("PING :outage")
                client.until(lambda l: command(l) == "PONG" and trailing(l) == "outage", seen[client])
                if time.monotonic() - asked > 1:
                    fail(f"a PONG took {time.monotonic() - asked:.2f} s during the outage")
            # What needs the database is refused at once, and said so: a message, a new nick, a join.
            for request, answer in ((f"PRIVMSG #k :outage {refusals}", "FAIL"), ("NICK dave2", "437"),
                                    ("JOIN #elsewhere", "437")):
                asked = time.monotonic()
                dave.send(request)
                line = dave.until(lambda l: command(l) in ("FAIL", "437", "PRIVMSG", "NICK", "JOIN"), seen[dave])
                if command(line) != answer or time.monotonic() - asked > 1:
                    fail(f"during the outage {request!r} got {line!r} after {time.monotonic() - asked:.2f} s")
            refusals += 1
            time.sleep(1)
        subprocess.run(["scripts/postgres-temp", "restart", pgdir], check=True)
        # Two leases: long enough for a node to have given the others up, were it going to.
        time.sleep(2 * LEASE)
        for client in (alice, bob, dave):
            client.send("PING :after-outage")
            client.until(lambda l: command(l) == "PONG" and trailing(l) == "after-outage", seen[client])
        quits = [l for client in seen for l in seen[client]
                 if command(l) in ("QUIT", "ERROR") and not quit_of(l, "erin")]
        if quits:
            fail(f"after an outage of {outage} s (lease {LEASE} s) users quit or were closed: {quits[:5]}")
        if not {"bob", "dave"} <= names(alice, "#k"):
            fail(f"after the outage alice's NAMES #k is {names(alice, '#k')}")
        if not any(quit_of(l, "erin") for l in seen[alice]):
            alice.sock.settimeout(10)
            alice.until(lambda l: quit_of(l, "erin"))
        if "erin" in names(alice, "#k"):
            fail("erin quit on her node during the outage but is still in #k on alice's")
        bob.send("PRIVMSG #k :after the outage")
        alice.until(lambda l: command(l) == "PRIVMSG" and trailing(l) == "after the outage")
        if not clusternodes.refuses_nick(ports["n1"], "bob"):
            fail("after the outage n1 gave out the nick bob, which n2 holds")
        print(f"cluster-fault-test: PostgreSQL away {outage} s (lease {LEASE} s): nobody disconnected, PINGs answered "
              f"within 1 s throughout, {refusals} rounds of a message, a NICK and a JOIN each refused within 1 s; "
              f"afterwards the nick bob still held, messages cross nodes again, and erin's QUIT during the outage reached "
              f"the other node")
    finally:
        clusternodes.stop_all(nodes.values(), url, name)


if __name__ == "__main__":
    main()
