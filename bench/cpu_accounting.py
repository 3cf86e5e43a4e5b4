"""Count the CPU time and connections of the servers, PostgreSQL, Redis and the machine (/proc)."""

import os
import resource
import time

import psycopg

from harness.databases import ADMIN_DSN

# ---------------------------------------------------------------- processes and sockets


def proc_stats():
    """Yield (pid, command name, stat fields after the name) of each live process (Linux /proc)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        yield int(entry), name, stat[stat.rindex(")") + 2 :].split()  # [0] state, [2] pgrp


def group_pids(pgid):
    """Return the pids of the live processes in a process group."""
    return [pid for pid, _, fields in proc_stats() if int(fields[2]) == pgid]


def rss_kib(pid):
    """Return a process's resident set size in KiB (VmRSS of /proc/<pid>/status), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def tcp_local_ports_to(remote_port):
    """Return {socket inode: local port} of the ESTABLISHED TCP connections to remote_port."""
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if int(fields[2].rsplit(":", 1)[1], 16) == remote_port and fields[3] == "01":
                        ports[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
        except OSError:
            continue
    return ports


def socket_inodes(pid):
    """Return the inodes of a process's open sockets, or None if the process is gone."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    inodes = []
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.append(link[8:-1])
    return inodes


def postgres_backends_of(pgids, pg_port=5432):
    """Return the pids of the PostgreSQL backends that serve the processes of these groups."""
    # Matches the local ports of the groups' connections to PostgreSQL with pg_stat_activity's
    # client_port, so other users of the same PostgreSQL (a test suite, say) are not counted.
    inode_ports = tcp_local_ports_to(pg_port)
    ports = set()
    for pgid in pgids:
        for pid in group_pids(pgid):
            ports.update(inode_ports[i] for i in socket_inodes(pid) or () if i in inode_ports)
    if not ports:
        return []
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)",
                             (sorted(ports),)).fetchall()
    return [pid for (pid,) in rows]


def redis_subscriptions(pgid, redis_port=6379):
    """Return {pid: its Redis connections, and how many of them subscribe} for a server group."""
    # Maps Redis's CLIENT LIST (addr, psub, sub) to the processes of a server's group through
    # the local ports of their TCP connections: it shows how many subscriptions each web
    # process holds, whatever the number of sockets it serves.
    import redis

    local_ports = tcp_local_ports_to(redis_port)  # socket inode -> local port
    client = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=5)
    by_port = {}
    for info in client.client_list():
        port = int(info["addr"].rsplit(":", 1)[1])
        by_port[port] = int(info.get("psub", 0)) + int(info.get("sub", 0))
    client.close()
    result = {}
    for pid in group_pids(pgid):
        inodes = socket_inodes(pid)
        if inodes is None:
            continue
        ports = [local_ports[i] for i in inodes if i in local_ports]
        result[pid] = {"redis_connections": len(ports),
                       "subscribing_connections": sum(1 for p in ports if by_port.get(p, 0))}
    return result


# ---------------------------------------------------------------- CPU seconds


def cpu_seconds(wanted):
    """Sum the user + system CPU seconds of the live processes for which wanted(name, fields)."""
    total = sum(int(f[11]) + int(f[12]) for _, name, f in proc_stats() if wanted(name, f))
    return total / os.sysconf("SC_CLK_TCK")  # fields [11] utime, [12] stime


def group_cpu_seconds(pgid):
    """Return the CPU seconds of the live processes in a process group."""
    return cpu_seconds(lambda name, fields: int(fields[2]) == pgid)


def redis_cpu_seconds():
    """Return the CPU seconds of the live redis-server processes."""
    return cpu_seconds(lambda name, fields: name.startswith("redis-server"))


def pid_cpu_seconds(pid):
    """Return a process's user + system CPU seconds, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """Return the CPU seconds this process (the load generator) has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds():
    """Return the CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_counters(servers):
    """Read the CPU seconds so far of each server group, us, their backends, Redis, the machine."""
    counters = {f"server_{name}": group_cpu_seconds(server.process.pid)
                for name, server in servers.items()}
    backends = postgres_backends_of([server.process.pid for server in servers.values()])
    counters.update({
        "load_generator": own_cpu_seconds(),
        "postgresql_backends": {pid: pid_cpu_seconds(pid) for pid in backends},
        "redis": redis_cpu_seconds(),
        "machine_busy": machine_busy_seconds(),
    })
    return counters


def cpu_split(before, after, wall):
    """Return the CPU seconds each side used between two cpu_counters() readings."""
    # postgresql_backends counts the backends of these servers' connections (ones that closed
    # during the interval are missed); other_processes is the rest of the machine's busy time.
    cpu = {}
    for key, value in after.items():
        if isinstance(value, dict):
            earlier = before.get(key, {})
            cpu[key] = sum(v - earlier.get(pid, 0.0) for pid, v in value.items()
                           if v is not None)
        else:
            cpu[key] = value - before[key]
    named = sum(v for k, v in cpu.items() if k != "machine_busy")
    cpu["other_processes"] = max(0.0, cpu["machine_busy"] - named)
    cpu = {k: round(v, 2) for k, v in cpu.items()}
    cpu["available"] = round(wall * (os.cpu_count() or 1), 2)
    cpu["wall_seconds"] = round(wall, 2)
    cpu["machine_utilization"] = round(cpu["machine_busy"] / cpu["available"], 2) if wall else None
    return cpu


def contention(cpu):
    """Say whether other processes used a noticeable share of the machine during a run."""
    share = cpu["other_processes"] / cpu["available"] if cpu.get("available") else 0.0
    return {"other_processes_share_of_machine": round(share, 2),
            "machine_was_shared": share > 0.1}


def wait_for_idle(max_seconds, log, threshold=0.15, quiet_samples=6):
    """Wait (at most max_seconds) until the machine has been nearly idle for a few seconds."""
    # Other work on the machine (a test suite, say) competes with the benchmark for the same
    # cores; waiting for a quiet moment gives cleaner figures. Returns what happened. Under
    # gevent's monkey patching, time.sleep lets the other greenlets run.
    if max_seconds <= 0:
        return None
    began = time.monotonic()
    quiet = 0
    cores = os.cpu_count() or 1
    before, moment = machine_busy_seconds(), time.monotonic()
    while time.monotonic() - began < max_seconds:
        time.sleep(0.5)
        now, busy = time.monotonic(), machine_busy_seconds()
        share = (busy - before) / ((now - moment) * cores)
        before, moment = busy, now
        quiet = quiet + 1 if share < threshold else 0
        if quiet >= quiet_samples:
            return {"waited_s": round(now - began, 1), "found_idle": True}
    log(f"the machine stayed busy for {max_seconds}s; measuring anyway")
    return {"waited_s": round(time.monotonic() - began, 1), "found_idle": False}
