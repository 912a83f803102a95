#!/usr/bin/env python3
"""Benchmark behind `make bench`: sonde against Debian's node_exporter.

Measures, on this host and in one run, what one Prometheus scrape costs each
daemon (CPU, latency, memory) and writes a Markdown table to BENCHMARKS.md
(overwritten) and to stdout. Progress goes to stderr.

This is a measurement, not a test: it never fails on a number, only when a
daemon does not start or does not answer.

Usage (from the repository root):
    python3 tests/bench.py [SONDE_BINARY]
The binary defaults to $SONDE_BIN, then to
target/x86_64-unknown-linux-musl/release/sonde.

Method, per row (see also the paragraph written at the top of BENCHMARKS.md):
  * the daemon is started with subprocess.Popen, probed until one
    GET /metrics answers, scraped SCRAPES times sequentially (each a fresh
    HTTP/1.1 GET on a new loopback TCP connection with `Connection: close`,
    whole body read), then stopped with SIGTERM and reaped with os.wait4;
    its CPU is ru_utime + ru_stime (all threads, also exited ones);
  * a control run of the same daemon is started, probed the same way, left
    idle for the wall time the scrapes took, and stopped the same way;
    CPU per scrape = (CPU of the scrape run - CPU of the control) / SCRAPES;
  * every row is repeated REPEATS times (interleaved across rows to spread
    drift); the median and the min-max are reported;
  * peak RSS is VmHWM from /proc/PID/status read just before SIGTERM, not
    ru_maxrss: on Linux ru_maxrss survives execve, so a child spawned from
    this Python process inherits Python's own peak (about 14 MiB), which is
    larger than sonde's entire footprint. ru_maxrss is still recorded in the
    raw data section for comparison;
  * a separate run of LONG_SCRAPES scrapes reads VmRSS afterwards (the
    "steady state after 1000 scrapes" goal).
"""

import datetime
import mmap
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

SCRAPES = 200
LONG_SCRAPES = 1000
REPEATS = 3
IO_TIMEOUT = 5.0          # every socket operation
START_TIMEOUT = 10.0      # from exec to the first answered GET /metrics
STOP_TIMEOUT = 5.0        # from SIGTERM to exit, then SIGKILL
HOST = "127.0.0.1"        # never anything else

DEFAULT_SONDE = "target/x86_64-unknown-linux-musl/release/sonde"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
# The first six collectors sonde had; the rows that compare them stay so
# that the numbers can be followed from one BENCHMARKS.md to the next.
NE_COLLECTORS = ["cpu", "loadavg", "meminfo", "stat", "time", "uname"]
# node_exporter's collectors for the families of sonde's host collectors
# (sonde's own names are the same, see NODE_EXPORTER_COVERAGE.md).
NE_HOST_COLLECTORS = ["arp", "conntrack", "cpu", "diskstats", "entropy", "filefd", "filesystem",
                      "hwmon", "loadavg", "meminfo", "netclass", "netdev", "netstat", "os",
                      "pressure", "selinux", "sockstat", "softnet", "stat", "textfile",
                      "thermal_zone", "time", "timex", "udp_queues", "uname", "vmstat"]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------
# HTTP client: one GET per fresh TCP connection, loopback only.

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def dechunk(body):
    out = bytearray()
    pos = 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise BenchError("truncated chunked body")
        size = int(body[pos:eol].split(b";")[0].strip() or b"0", 16)
        pos = eol + 2
        if size == 0:
            return bytes(out)
        out += body[pos:pos + size]
        pos += size + 2


def scrape(port, path="/metrics"):
    """One GET; returns (status, body bytes, seconds)."""
    req = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
           "User-Agent: sonde-bench\r\nAccept: */*\r\n"
           "Connection: close\r\n\r\n").encode()
    t0 = time.perf_counter()
    with socket.create_connection((HOST, port), timeout=IO_TIMEOUT) as s:
        s.settimeout(IO_TIMEOUT)
        s.sendall(req)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    elapsed = time.perf_counter() - t0
    raw = b"".join(chunks)
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise BenchError(f"malformed HTTP response from port {port}: {raw[:200]!r}")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise BenchError(f"bad status line from port {port}: {lines[0]!r}")
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower()] = v.strip().lower()
    if headers.get(b"transfer-encoding") == b"chunked":
        body = dechunk(body)
    return status, body, elapsed


# --------------------------------------------------------------------------
# Daemon lifecycle.

def proc_status(pid):
    """VmRSS / VmHWM in KiB from /proc/PID/status."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                k, _, v = ln.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


class Daemon:
    """A daemon under measurement, reaped with os.wait4 for its rusage."""

    def __init__(self, name, argv_for_port, port_from_stderr):
        self.name = name
        self.argv_for_port = argv_for_port
        self.port_from_stderr = port_from_stderr
        self.proc = None
        self.port = None
        self.errfile = None
        self.reaped = False
        self.ready_s = None

    def stderr_text(self):
        if self.errfile is None:
            return ""
        self.errfile.seek(0)
        return self.errfile.read().decode(errors="replace")

    def start(self):
        port = 0 if self.port_from_stderr else free_port()
        argv = self.argv_for_port(port)
        self.errfile = tempfile.TemporaryFile()
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errfile)
        deadline = t0 + START_TIMEOUT
        while True:
            if time.perf_counter() > deadline:
                raise BenchError(f"{self.name} did not answer within {START_TIMEOUT} s; "
                                 f"argv {argv}; stderr:\n{self.stderr_text()}")
            if self.proc.poll() is not None:
                self.reaped = True
                raise BenchError(f"{self.name} exited with {self.proc.returncode} "
                                 f"before answering; argv {argv}; stderr:\n"
                                 f"{self.stderr_text()}")
            if self.port is None:
                if self.port_from_stderr:
                    for ln in self.stderr_text().splitlines():
                        if "listening on http://" in ln:
                            hostport = ln.split("http://", 1)[1].split("/", 1)[0]
                            self.port = int(hostport.rsplit(":", 1)[1])
                            break
                else:
                    self.port = port
            if self.port is not None:
                try:
                    st, _, _ = scrape(self.port)
                    if st == 200:
                        self.ready_s = time.perf_counter() - t0
                        return
                except (OSError, BenchError):
                    pass
            time.sleep(0.005)

    def stop(self):
        """SIGTERM, reap with wait4; returns (status, rusage)."""
        pid = self.proc.pid
        os.kill(pid, signal.SIGTERM)
        deadline = time.perf_counter() + STOP_TIMEOUT
        while True:
            wpid, status, ru = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                break
            if time.perf_counter() > deadline:
                log(f"{self.name} ignored SIGTERM for {STOP_TIMEOUT} s; SIGKILL")
                os.kill(pid, signal.SIGKILL)
                wpid, status, ru = os.wait4(pid, 0)
                break
            time.sleep(0.002)
        self.reaped = True
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return status, ru

    def kill(self):
        """Cleanup after an exception: never leave a daemon behind."""
        if self.proc is not None and not self.reaped:
            try:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self.reaped = True
        if self.errfile is not None:
            self.errfile.close()
            self.errfile = None


def run_once(row, scrapes, idle_s=None, read_rss_after=False):
    """One daemon lifetime. With scrapes == 0 it idles for idle_s seconds.

    Returns dict: cpu_s, wall_s (of the scrape phase), latencies, last body,
    vmhwm_kib, maxrss_kib, rss_after (VmRSS/VmHWM after the scrapes), ready_s.
    """
    d = Daemon(row["name"], row["argv"], row["port_from_stderr"])
    try:
        d.start()
        lat = []
        body = b""
        t0 = time.perf_counter()
        if scrapes:
            for _ in range(scrapes):
                st, body, el = scrape(d.port)
                if st != 200:
                    raise BenchError(f"{row['name']}: GET /metrics answered {st}")
                lat.append(el)
        else:
            time.sleep(idle_s)
        wall = time.perf_counter() - t0
        mem = proc_status(d.proc.pid)
        status, ru = d.stop()
        code = os.waitstatus_to_exitcode(status)
        if code != 0 and row["name"].startswith("sonde"):
            log(f"warning: sonde exited with {code} after SIGTERM (expected 0); "
                f"stderr:\n{d.stderr_text()}")
        return {
            "cpu_s": ru.ru_utime + ru.ru_stime,
            "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime,
            "wall_s": wall,
            "lat": lat,
            "body": body,
            "vmhwm_kib": mem.get("VmHWM"),
            "vmrss_kib": mem.get("VmRSS"),
            "maxrss_kib": ru.ru_maxrss,
            "ready_s": d.ready_s,
        }
    finally:
        d.kill()


# --------------------------------------------------------------------------
# ELF: is it static? (no dependency on `file`)

def elf_info(path):
    """Returns (static: bool, description)."""
    # mmap, not read(): node_exporter is 13 MB and the benchmark's own RSS
    # should stay small (it leaks into the children's ru_maxrss).
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _elf_info(data)


def _elf_info(data):
    if data[:4] != b"\x7fELF":
        return False, "not ELF"
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        e_type, = struct.unpack_from(end + "H", data, 16)
        e_phoff, = struct.unpack_from(end + "Q", data, 32)
        e_phentsize, e_phnum = struct.unpack_from(end + "HH", data, 54)
    else:
        e_type, = struct.unpack_from(end + "H", data, 16)
        e_phoff, = struct.unpack_from(end + "I", data, 28)
        e_phentsize, e_phnum = struct.unpack_from(end + "HH", data, 42)
    phdrs = []
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        if is64:
            p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
                end + "IIQQQQ", data, off)
        else:
            p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
                end + "IIIII", data, off)
        phdrs.append((p_type, p_offset, p_vaddr, p_filesz))
    interp = [p for p in phdrs if p[0] == 3]           # PT_INTERP
    dynamic = [p for p in phdrs if p[0] == 2]          # PT_DYNAMIC
    pie = e_type == 3
    if not interp:
        return True, "yes" + (" (static-pie)" if pie and dynamic else "")
    _, off, _, sz = interp[0]
    interp_path = data[off:off + sz].rstrip(b"\0").decode(errors="replace")
    needed = []
    try:
        needed = elf_needed(data, phdrs, dynamic[0], is64, end) if dynamic else []
    except (struct.error, IndexError, ValueError):
        pass
    desc = "no: dynamic"
    if needed:
        desc += " (" + ", ".join(needed) + ")"
    else:
        desc += f" ({interp_path})"
    return False, desc


def elf_needed(data, phdrs, dyn, is64, end):
    loads = [p for p in phdrs if p[0] == 1]            # PT_LOAD

    def v2o(vaddr):
        for _, off, va, sz in loads:
            if va <= vaddr < va + sz:
                return off + (vaddr - va)
        raise ValueError("vaddr not in a PT_LOAD")

    fmt, step = (end + "qQ", 16) if is64 else (end + "iI", 8)
    entries = []
    pos = dyn[1]
    while pos + step <= dyn[1] + dyn[3]:
        tag, val = struct.unpack_from(fmt, data, pos)
        pos += step
        if tag == 0:
            break
        entries.append((tag, val))
    strtab = [v for t, v in entries if t == 5]         # DT_STRTAB
    if not strtab:
        return []
    base = v2o(strtab[0])
    out = []
    for t, v in entries:
        if t == 1:                                     # DT_NEEDED
            s = data[base + v:data.find(b"\0", base + v)].decode(errors="replace")
            out.append(s)
    return out


# --------------------------------------------------------------------------
# Formatting helpers.

def fmt_int(n):
    return f"{n:,}".replace(",", " ")


def fmt_mib(kib):
    return "–" if kib is None else f"{kib / 1024:.2f} MiB"


def fmt_ms(x):
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "–"
    r = a / b
    return f"{r:.0f}×" if r >= 100 else f"{r:.1f}×"


def count_samples(body):
    return sum(1 for ln in body.decode(errors="replace").splitlines()
               if ln.strip() and not ln.startswith("#"))


def tool_version(argv):
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=5)
        out = (r.stdout or r.stderr).decode(errors="replace").strip()
        return out.splitlines()[0] if r.returncode == 0 and out else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def dpkg_version(pkg):
    if not shutil.which("dpkg-query"):
        return None
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg],
                           capture_output=True, timeout=5)
        return r.stdout.decode().strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def host_busy_s():
    """CPU seconds the whole host has spent not idle (all CPUs), or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal [guest guest_nice]
    return (sum(v[:8]) - v[3] - v[4]) / hz


def own_cpu_s():
    """CPU seconds of this process and of its reaped children (the daemons)."""
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def other_load():
    """Share of one CPU that other processes used over the last second."""
    h0, o0 = host_busy_s(), own_cpu_s()
    time.sleep(1.0)
    h1, o1 = host_busy_s(), own_cpu_s()
    if h0 is None or h1 is None:
        return None
    return max(0.0, (h1 - h0) - (o1 - o0)) / 1.0


def fmt_other(before, during):
    if before is None or during is None:
        return "the host's other load is unknown (no /proc/stat)."
    return (f"other processes on the host used {before:.0%} of one CPU just before it\n"
            f"and {during:.0%} during it (host busy time from /proc/stat minus the benchmark's "
            "own and its\ndaemons' rusage; more than a few % inflates CPU and latency).")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


# --------------------------------------------------------------------------

PROMETHEUS = "/usr/bin/prometheus"
PUSH_BATCHES = 200
PUSH_INTERVAL_MS = 100


def metric(text, series):
    """The value of the sample line that starts with `series` and a space."""
    for ln in text.splitlines():
        if ln.startswith(series + " "):
            return float(ln.rsplit(" ", 1)[1])
    return None


def push_rows(sonde_abs, workdir):
    """Push cost: sonde pushing its default host set every PUSH_INTERVAL_MS
    to a real Prometheus (remote-write receiver) until PUSH_BATCHES
    requests are delivered, against a control run of the same config
    with the same wall time and no push. Returns markdown lines."""
    if not os.access(PROMETHEUS, os.X_OK):
        raise BenchError(f"{PROMETHEUS} missing: run tests/setup.sh")
    port = free_port()
    with open(os.path.join(workdir, "prom.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    daemons = []
    prom = subprocess.Popen([PROMETHEUS, f"--config.file={workdir}/prom.yml",
                             f"--storage.tsdb.path={workdir}/prom-data",
                             f"--web.listen-address={HOST}:{port}",
                             "--web.enable-remote-write-receiver"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.perf_counter() + START_TIMEOUT
        while True:
            try:
                if scrape(port, "/-/ready")[0] == 200:
                    break
            except (OSError, BenchError):
                pass
            if time.perf_counter() > deadline:
                raise BenchError("prometheus did not become ready")
            time.sleep(0.05)
        cfg = os.path.join(workdir, "push.toml")
        with open(cfg, "w") as f:
            f.write(f"[push]\nurl = \"http://{HOST}:{port}/api/v1/write\"\n"
                    f"interval = \"{PUSH_INTERVAL_MS}ms\"\n[collectors]\nchrony = false\n")
        plain = os.path.join(workdir, "plain.toml")
        with open(plain, "w") as f:
            f.write("[collectors]\nchrony = false\n")
        pushing = Daemon("sonde, pushing", lambda p: [sonde_abs, "--listen", f"{HOST}:{p}", "--config", cfg], True)
        control = Daemon("sonde, not pushing", lambda p: [sonde_abs, "--listen", f"{HOST}:{p}", "--config", plain], True)
        daemons.extend([pushing, control])
        pushing.start()
        t0 = time.perf_counter()
        while True:
            _, body, _ = scrape(pushing.port)
            text = body.decode(errors="replace")
            requests = metric(text, "sonde_push_requests_total") or 0
            if requests >= PUSH_BATCHES:
                break
            if time.perf_counter() - t0 > 120:
                raise BenchError(f"only {requests} push requests in 120 s")
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        delivered = metric(text, "sonde_push_samples_delivered_total")
        sent = metric(text, "sonde_push_sent_bytes_total")
        _, ru = pushing.stop()
        cpu_push = ru.ru_utime + ru.ru_stime
        control.start()
        time.sleep(wall)
        _, ru = control.stop()
        cpu_control = ru.ru_utime + ru.ru_stime
        per_batch_ms = (cpu_push - cpu_control) * 1000 / requests
        return [
            "## Push",
            "",
            f"sonde with its default host set (chrony off) pushing every {PUSH_INTERVAL_MS} ms to a real",
            f"Prometheus (`--web.enable-remote-write-receiver`) on loopback, until {int(requests)} requests",
            f"were accepted ({wall:.1f} s); its CPU minus that of the same config not pushing for the same",
            "wall time, per request. Every cycle is one request here (its samples fit one batch). Bytes",
            "are request bodies (snappy-compressed protobuf), from sonde's own counters.",
            "",
            "| samples delivered | requests | body bytes per sample | samples per request | CPU per pushed batch (collect + encode + send) |",
            "|---:|---:|---:|---:|---:|",
            f"| {int(delivered)} | {int(requests)} | {sent / delivered:.2f} | {delivered / requests:.0f} | {per_batch_ms:.2f} ms |",
            "",
        ]
    finally:
        # Never leave a daemon behind, whatever failed.
        for d in daemons:
            d.kill()
        prom.kill()
        prom.wait()


CHECKS = 500
CHECKS_BLACKHOLED = 50
CHECKS_INTERVAL_S = 15
CHECKS_TIMEOUT_S = 5
CHECKS_RUN_S = 75
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"


def in_ns(ns, argv):
    return ["ip", "netns", "exec", ns] + argv


def ns_get(ns, url):
    """GET url from inside the namespace (curl), the body as text."""
    out = subprocess.run(in_ns(ns, ["curl", "-sf", "--max-time", "20", url]),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if out.returncode != 0:
        raise BenchError(f"GET {url} in {ns}: curl exit {out.returncode}")
    return out.stdout.decode(errors="replace")


def checks_rows(sonde_abs, workdir):
    """Checks at scale: CHECKS TCP checks on a CHECKS_INTERVAL_S interval,
    CHECKS_BLACKHOLED of them to a port whose SYNs an nftables rule drops,
    run by sonde, and the same probes run by blackbox_exporter as a
    Prometheus scraping it would run them; all inside a network namespace
    of the bench's own. Returns markdown lines."""
    for tool in (BLACKBOX, PROMETHEUS):
        if not os.access(tool, os.X_OK):
            raise BenchError(f"{tool} missing: run tests/setup.sh")
    ns = f"sonde-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    procs = []
    try:
        subprocess.run(in_ns(ns, ["ip", "link", "set", "lo", "up"]), check=True)
        nft = ("add table inet bench\n"
               "add chain inet bench input { type filter hook input priority 0; }\n"
               "add rule inet bench input tcp dport 9 drop\n")
        subprocess.run(in_ns(ns, ["nft", "-f", "-"]), input=nft.encode(), check=True)
        live_port = 7000
        listener = ("import socket\ns = socket.socket()\n"
                    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                    f"s.bind(('0.0.0.0', {live_port}))\ns.listen(4096)\n"
                    "while True:\n    c, _ = s.accept()\n    c.close()\n")
        procs.append(subprocess.Popen(in_ns(ns, ["python3", "-c", listener]), stdout=subprocess.DEVNULL))
        # Distinct targets (Prometheus drops duplicates): 127.0.x.y.
        live = [f"127.0.{1 + i // 250}.{1 + i % 250}:{live_port}" for i in range(CHECKS - CHECKS_BLACKHOLED)]
        dead = [f"127.0.9.{1 + i}:9" for i in range(CHECKS_BLACKHOLED)]
        targets = live + dead
        cfg = os.path.join(workdir, "checks.toml")
        with open(cfg, "w") as f:
            f.write("[server]\nlisten = \"127.0.0.1:9858\"\n[collectors]\ndefaults = false\n")
            for i, t in enumerate(targets):
                f.write(f"[[check]]\nname = \"c{i}\"\nkind = \"tcp\"\ntarget = \"{t}\"\n"
                        f"interval = \"{CHECKS_INTERVAL_S}s\"\ntimeout = \"{CHECKS_TIMEOUT_S}s\"\n")
        with open(os.path.join(workdir, "blackbox.yml"), "w") as f:
            f.write(f"modules:\n  tcp_connect:\n    prober: tcp\n    timeout: {CHECKS_TIMEOUT_S}s\n")
        with open(os.path.join(workdir, "prom.yml"), "w") as f:
            f.write(f"global:\n  scrape_interval: {CHECKS_INTERVAL_S}s\n  scrape_timeout: 10s\n"
                    "scrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n"
                    "    params:\n      module: [tcp_connect]\n    static_configs:\n      - targets:\n")
            f.writelines(f"        - '{t}'\n" for t in targets)
            f.write("    relabel_configs:\n      - source_labels: [__address__]\n"
                    "        target_label: __param_target\n      - source_labels: [__param_target]\n"
                    "        target_label: instance\n      - target_label: __address__\n"
                    "        replacement: 127.0.0.1:9115\n")

        def measure(name, argv, settle):
            err = open(os.path.join(workdir, f"{name}.err"), "w")
            p = subprocess.Popen(in_ns(ns, argv), stdout=subprocess.DEVNULL, stderr=err)
            procs.append(p)
            t0 = time.perf_counter()
            settle()
            time.sleep(max(0.0, CHECKS_RUN_S - (time.perf_counter() - t0)))
            return p, t0

        def reap(p):
            hwm = proc_status(p.pid).get("VmHWM")
            os.kill(p.pid, signal.SIGTERM)
            _, _, ru = os.wait4(p.pid, 0)
            procs.remove(p)
            return ru.ru_utime + ru.ru_stime, hwm

        # sonde
        log(f"checks: sonde, {CHECKS} checks for {CHECKS_RUN_S} s")
        p, t0 = measure("sonde", [sonde_abs, "--config", cfg], lambda: None)
        try:
            text = ns_get(ns, "http://127.0.0.1:9858/metrics")
        except BenchError:
            with open(os.path.join(workdir, "sonde.err")) as f:
                raise BenchError(f"sonde did not answer; its stderr:\n{f.read()}")
        wall = time.perf_counter() - t0
        runs = metric(text, "sonde_check_runs_total") or 0
        lag_max = metric(text, "sonde_check_lag_max_seconds") or 0
        lag_sum = metric(text, "sonde_check_lag_seconds_total") or 0
        ok = sum(1 for ln in text.splitlines() if ln.startswith("probe_success{") and ln.endswith(" 1"))
        cpu, hwm = reap(p)
        sonde_row = (cpu, hwm, runs, lag_max, lag_sum / runs if runs else 0, wall, ok)

        # blackbox_exporter, as Prometheus drives it
        log(f"checks: blackbox_exporter and Prometheus, {CHECKS} probes for {CHECKS_RUN_S} s")
        bb = subprocess.Popen(in_ns(ns, [BLACKBOX, f"--config.file={workdir}/blackbox.yml",
                                         "--web.listen-address=127.0.0.1:9115"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(bb)
        t0 = time.perf_counter()
        prom, _ = measure("prometheus", [PROMETHEUS, f"--config.file={workdir}/prom.yml",
                                         f"--storage.tsdb.path={workdir}/prom-data",
                                         "--web.listen-address=127.0.0.1:9090"], lambda: None)
        q = lambda expr: ns_get(ns, "http://127.0.0.1:9090/api/v1/query?query=" + expr)
        scrapes_json = q("sum(count_over_time(up%5B10m%5D))")
        ok_json = q("count(probe_success%3D%3D1)")
        # Prometheus's own scheduling, from its own metrics.
        own = ns_get(ns, "http://127.0.0.1:9090/metrics")
        wall_bb = time.perf_counter() - t0

        def first_value(js):
            import json
            r = json.loads(js)["data"]["result"]
            return float(r[0]["value"][1]) if r else 0.0

        bb_scrapes = first_value(scrapes_json)
        bb_p99 = metric(own, f'prometheus_target_interval_length_seconds{{interval="{CHECKS_INTERVAL_S}s",quantile="0.99"}}') or 0.0
        bb_ok = first_value(ok_json)
        cpu_bb, hwm_bb = reap(bb)
        cpu_prom, hwm_prom = reap(prom)
        s_cpu, s_hwm, s_runs, s_lag_max, s_lag_mean, s_wall, s_ok = sonde_row
        per_s = s_cpu * 1000 / s_runs if s_runs else 0
        per_bb = cpu_bb * 1000 / bb_scrapes if bb_scrapes else 0
        per_prom = cpu_prom * 1000 / bb_scrapes if bb_scrapes else 0
        return [
            "## Checks at scale",
            "",
            f"{CHECKS} TCP checks on a {CHECKS_INTERVAL_S} s interval with a {CHECKS_TIMEOUT_S} s timeout,"
            f" {CHECKS_BLACKHOLED} of them to a port whose",
            "SYNs an nftables rule drops (each of those holds its worker for the whole timeout), for",
            f"{CHECKS_RUN_S} s, inside a network namespace of the bench's own. sonde runs them as `[[check]]`",
            "tables; blackbox_exporter runs the same probes as a Prometheus scraping it with the same",
            "interval would drive them (Prometheus spreads its targets over the interval). \"Behind",
            "schedule\": sonde's `sonde_check_lag_max_seconds` (the latest any check started against its",
            "due time) and mean lag; for blackbox, Prometheus's own scheduling, its 99th percentile",
            "interval between scrapes (`prometheus_target_interval_length_seconds`) minus the interval.",
            "CPU per check: the process's CPU over the run divided by the checks it ran.",
            "",
            "| runner | checks run | passing at the end | behind schedule, max (mean) | CPU per check | peak RSS (VmHWM) |",
            "|---|---:|---:|---:|---:|---:|",
            f"| sonde | {int(s_runs)} | {s_ok} of {CHECKS - CHECKS_BLACKHOLED} live | {s_lag_max:.3f} s ({s_lag_mean * 1000:.1f} ms) "
            f"| {per_s:.3f} ms | {fmt_mib(s_hwm)} |",
            f"| blackbox_exporter (driven by Prometheus) | {int(bb_scrapes)} | {int(bb_ok)} of {CHECKS - CHECKS_BLACKHOLED} live "
            f"| p99 interval {bb_p99:.3f} s ({(bb_p99 - CHECKS_INTERVAL_S) * 1000:+.1f} ms) "
            f"| {per_bb:.3f} ms (+ Prometheus {per_prom:.3f} ms) | {fmt_mib(hwm_bb)} (+ Prometheus {fmt_mib(hwm_prom)}) |",
            "",
            f"Ratio, blackbox_exporter to sonde: CPU per check {fmt_ratio(per_bb, per_s)}, peak RSS {fmt_ratio(hwm_bb, s_hwm)}.",
            "",
        ]
    finally:
        for p in procs:
            try:
                p.kill()
                p.wait(timeout=STOP_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired):
                pass
        subprocess.run(["ip", "netns", "del", ns], check=False)


HOSTILE = 1000            # idle connections held open during the scrapes
HOSTILE_SCRAPES = 50
TEXTFILE_SERIES = 100_000
TEXTFILE_SCRAPES = 5


def hostile_and_textfile_rows(sonde_abs, workdir):
    """Scrape latency with HOSTILE idle connections held open against the
    daemon (and without), and the time per scrape of a textfile with
    TEXTFILE_SERIES series in one family; sonde beside node_exporter for
    both. Returns markdown lines."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, HOSTILE + 256)), hard))
    tdir = os.path.join(workdir, "textfile")
    os.makedirs(tdir)
    # One family over four files: sonde reads a file of at most 1 MiB
    # (limits.rs), and 100,000 series take about 3 MB.
    per_file = TEXTFILE_SERIES // 4
    for k in range(4):
        with open(os.path.join(tdir, f"part{k}.prom"), "w") as f:
            f.write("# HELP bench_series A family with many series.\n# TYPE bench_series gauge\n")
            for i in range(k * per_file, (k + 1) * per_file):
                f.write(f'bench_series{{n="{i}"}} {i}\n')
    cfg = os.path.join(workdir, "textfile.toml")
    with open(cfg, "w") as f:
        f.write(f'[collectors]\ndefaults = false\ntextfile = true\n[textfile]\ndirectory = "{tdir}"\n')
    daemons = [
        ("sonde", lambda port: [sonde_abs, "--listen", f"{HOST}:{port}", "--no-collector", "chrony"], True),
        ("node_exporter", lambda port: [NODE_EXPORTER, f"--web.listen-address={HOST}:{port}",
                                        "--collector.disable-defaults"]
         + [f"--collector.{c}" for c in NE_HOST_COLLECTORS], False),
    ]
    lines = ["## Scrapes under idle connections, and a large textfile", "",
             f"Median latency of {HOSTILE_SCRAPES} scrapes (each a new connection) with no other client, then "
             f"with {HOSTILE} connections held open that never send a byte (opened before the scrapes, "
             "kept through them), the host collector set of the first table. Then a textfile of "
             f"{TEXTFILE_SERIES:,} series in one family, written as four files (a file is at most 1 MiB for sonde), alone (sonde: `[collectors] defaults = false`, "
             "`textfile = true`; node_exporter: `--collector.disable-defaults --collector.textfile "
             "--collector.textfile.directory`): median wall time of a scrape over "
             f"{TEXTFILE_SCRAPES}.", "",
             f"| daemon | scrape latency alone | with {HOSTILE} idle connections | answered | "
             f"textfile of {TEXTFILE_SERIES:,} series, per scrape |",
             "|---|---:|---:|---:|---:|"]
    for name, argv, from_stderr in daemons:
        d = Daemon(name, argv, from_stderr)
        idle = []
        try:
            d.start()
            alone = statistics.median(scrape(d.port)[2] for _ in range(HOSTILE_SCRAPES))
            for _ in range(HOSTILE):
                try:
                    idle.append(socket.create_connection((HOST, d.port), timeout=IO_TIMEOUT))
                except OSError:
                    break
            times, ok = [], 0
            for _ in range(HOSTILE_SCRAPES):
                try:
                    st, _, t = scrape(d.port)
                    times.append(t)
                    ok += st == 200
                except (OSError, BenchError):
                    pass
            crowded = statistics.median(times) if times else float("nan")
        finally:
            for c in idle:
                c.close()
            d.kill()
        if name == "sonde":
            targv = lambda port: [sonde_abs, "--listen", f"{HOST}:{port}", "--config", cfg]
        else:
            targv = lambda port: [NODE_EXPORTER, f"--web.listen-address={HOST}:{port}", "--collector.disable-defaults",
                                  "--collector.textfile", f"--collector.textfile.directory={tdir}"]
        t = Daemon(name + " textfile", targv, name == "sonde")
        try:
            t.start()
            runs = [scrape(t.port) for _ in range(TEXTFILE_SCRAPES)]
            got = runs[-1][1].count(b"\nbench_series{")
            if got != TEXTFILE_SERIES:
                raise BenchError(f"{name}: {got} of {TEXTFILE_SERIES} textfile series in the scrape")
            per = statistics.median(r[2] for r in runs)
        finally:
            t.kill()
        ms = lambda x: f"{fmt_ms(x * 1000)} ms"
        lines.append(f"| {name} | {ms(alone)} | {ms(crowded)} | {ok} of {HOSTILE_SCRAPES} "
                     f"({len(idle)} held) | {ms(per)} |")
    lines.append("")
    return lines


RSYSLOGD = "/usr/sbin/rsyslogd"
LOG_LINES = 200_000       # lines in the file both forwarders read
LOG_TIMEOUT = 300.0       # for one forwarder to deliver them all


def rsyslog_conf(workdir, name, body):
    """An rsyslogd config of its own (nothing of /etc), and its argv."""
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(f'global(workDirectory="{d}" maxMessageSize="64k")\n{body}')
    return [RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(d, "rsyslogd.pid")], d


def receiver(workdir, name):
    """rsyslogd receiving RFC 6587 on TCP, writing each message's text as a
    line of d/out.log. Returns (Popen, port, out path)."""
    port = free_port()
    d = os.path.join(workdir, name)
    argv, d = rsyslog_conf(workdir, name,
                           'template(name="msg" type="string" string="%msg%\\n")\n'
                           f'module(load="imtcp")\ninput(type="imtcp" port="{port}" address="{HOST}" ruleset="r")\n'
                           f'ruleset(name="r") {{ action(type="omfile" file="{d}/out.log" template="msg") }}\n')
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.perf_counter() + START_TIMEOUT
    while True:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return proc, port, os.path.join(d, "out.log")
        except OSError:
            if time.perf_counter() > deadline or proc.poll() is not None:
                raise BenchError(f"the {name} rsyslogd did not listen on {port}")
            time.sleep(0.02)


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0


def forward_run(name, argv, out):
    """Starts a forwarder, waits until `out` has LOG_LINES lines, reads its
    VmHWM, stops it (SIGTERM, wait4). Returns (wall s, CPU s, VmHWM KiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while count_lines(out) < LOG_LINES:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited with {proc.returncode}")
            if time.perf_counter() - t0 > LOG_TIMEOUT:
                raise BenchError(f"{name}: {count_lines(out)} of {LOG_LINES} lines in {LOG_TIMEOUT} s")
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        hwm = proc_status(proc.pid).get("VmHWM", 0)
        os.kill(proc.pid, signal.SIGTERM)
        _, status, ru = os.wait4(proc.pid, 0)
        return wall, ru.ru_utime + ru.ru_stime, hwm
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def logs_rows(sonde_abs, workdir):
    """Forwarding one file of LOG_LINES lines over TCP to rsyslog: sonde
    against rsyslog's own imfile -> omfwd, each with a receiver of its own,
    one after the other. Returns markdown lines."""
    if not os.access(RSYSLOGD, os.X_OK):
        raise BenchError(f"{RSYSLOGD} missing: run tests/setup.sh")
    src = os.path.join(workdir, "dnsdist.log")
    with open(src, "w") as f:
        for i in range(LOG_LINES):
            f.write(f"2026-12-04 10:00:00 query {i:07} from 192.0.2.{i % 250}: "
                    f"www.example.org. IN AAAA rd=1 took 0.{i % 997:03}ms\n")
    size = os.path.getsize(src)
    runs = {"sonde": [], "rsyslog": []}
    procs = []
    try:
        for k in range(REPEATS):
            recv, port, out = receiver(workdir, f"recv-sonde-{k}")
            procs.append(recv)
            cfg = os.path.join(workdir, f"logs-{k}.toml")
            with open(cfg, "w") as f:
                f.write(f'[paths]\nstate_dir = "{workdir}/state-{k}"\n[collectors]\ndefaults = false\n'
                        f'[[log]]\npath = "{src}"\nsyslog = "tcp://{HOST}:{port}"\nstart = "beginning"\n')
            log(f"logs: sonde forwarding ({k + 1}/{REPEATS})")
            runs["sonde"].append(forward_run("sonde", [sonde_abs, "--listen", f"{HOST}:0", "--config", cfg], out))
            recv2, port2, out2 = receiver(workdir, f"recv-rsyslog-{k}")
            procs.append(recv2)
            argv, _ = rsyslog_conf(workdir, f"fwd-rsyslog-{k}",
                                   'module(load="imfile")\n'
                                   f'input(type="imfile" File="{src}" Tag="dnsdist" ruleset="f" freshStartTail="off")\n'
                                   'ruleset(name="f") { action(type="omfwd" target="127.0.0.1" '
                                   f'port="{port2}" protocol="tcp" TCP_Framing="octet-counted" '
                                   'template="RSYSLOG_SyslogProtocol23Format") }\n')
            log(f"logs: rsyslog imfile -> omfwd forwarding ({k + 1}/{REPEATS})")
            runs["rsyslog"].append(forward_run("rsyslog", argv, out2))
            for p in procs:
                p.kill()
                p.wait()
            procs = []
    finally:
        for p in procs:
            p.kill()
            p.wait()
    names = {"sonde": "sonde", "rsyslog": f"rsyslog {dpkg_version('rsyslog') or ''}, imfile → omfwd"}

    def med(key, i, f=lambda x: x):
        vals = [f(r[i]) for r in runs[key]]
        return statistics.median(vals), min(vals), max(vals)
    rows = [(names[k], med(k, 0, lambda w: LOG_LINES / w), med(k, 1, lambda c: LOG_LINES / c), med(k, 1), med(k, 2))
            for k in ("sonde", "rsyslog")]
    lines = [
        "## Logs",
        "",
        f"Forwarding one file of {LOG_LINES} lines ({size / 1048576:.1f} MiB, read from its start) over",
        "TCP, octet-counted RFC 5424, to an rsyslogd on loopback writing each message to a file, until",
        "the receiver has every line: sonde (`[[log]]` with `start = \"beginning\"`, no collectors),",
        "then rsyslogd's own imfile → omfwd on the same file in the same run, each run with a receiver",
        f"of its own; {REPEATS} runs each, interleaved, median (min–max). CPU is the forwarder's whole life",
        "(start to SIGTERM, `wait4`), peak RSS its `VmHWM` just before the stop; the receivers are not",
        "counted. rsyslog's peak depends on how far its in-memory queue runs ahead of omfwd.",
        "",
        "| forwarder | lines per CPU-second | lines per second (wall) | CPU (s) | peak RSS | ratio vs sonde (lines per CPU-second / peak RSS) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    s_lps, s_hwm = rows[0][2][0], rows[0][4][0]
    for name, wall, lps, cpu, hwm in rows:
        ratio = "1× (reference)" if name == "sonde" else f"{s_lps / lps[0]:.1f}× / {hwm[0] / s_hwm:.1f}×"
        lines.append(f"| {name} | {lps[0]:,.0f} ({lps[1]:,.0f}–{lps[2]:,.0f}) | {wall[0]:,.0f} | "
                     f"{cpu[0]:.2f} ({cpu[1]:.2f}–{cpu[2]:.2f}) | {fmt_mib(hwm[0])} ({fmt_mib(hwm[1])}–{fmt_mib(hwm[2])}) | {ratio} |")
    lines.append("")
    return lines


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sonde = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SONDE_BIN") or DEFAULT_SONDE
    sonde_abs = sonde if os.path.isabs(sonde) else os.path.join(os.getcwd(), sonde)
    if not os.path.exists(sonde_abs) and not os.path.isabs(sonde):
        sonde_abs = os.path.join(repo, sonde)
    if not os.access(sonde_abs, os.X_OK):
        log(f"sonde binary not found or not executable: {sonde} "
            "(build it: cargo build --release --target x86_64-unknown-linux-musl)")
        return 2
    if not os.access(NODE_EXPORTER, os.X_OK):
        setup = os.path.join(repo, "tests", "setup.sh")
        log(f"{NODE_EXPORTER} missing; running {setup}")
        subprocess.run(["sh", setup], check=False)
        if not os.access(NODE_EXPORTER, os.X_OK):
            log(f"{NODE_EXPORTER} still missing")
            return 2

    ne_default_flags = lambda port: [f"--web.listen-address={HOST}:{port}"]
    ne_only = lambda names: lambda port: (
        [f"--web.listen-address={HOST}:{port}", "--collector.disable-defaults"]
        + [f"--collector.{c}" for c in names])
    ne_restricted_flags = ne_only(NE_COLLECTORS)
    ne_host_flags = ne_only(NE_HOST_COLLECTORS)
    # sonde with only the first six collectors: a config file, since
    # `defaults = false` has no flag.
    six = tempfile.NamedTemporaryFile("w", prefix="sonde-bench-", suffix=".toml", delete=False)
    six.write("[collectors]\ndefaults = false\n" + "".join(f"{c} = true\n" for c in NE_COLLECTORS))
    six.close()
    sonde_six = ["--config", six.name]
    # Each row's ratio is to the sonde row named in "ref".
    rows = [
        {"name": "sonde", "bin": sonde_abs, "port_from_stderr": True, "ref": "sonde",
         "argv": lambda port: [sonde_abs, "--listen", f"{HOST}:{port}", "--no-collector", "chrony"],
         "cmd": f"{sonde} --listen {HOST}:0 --no-collector chrony"},
        {"name": "node_exporter, default collectors", "bin": NODE_EXPORTER,
         "port_from_stderr": False, "ref": "sonde",
         "argv": lambda port: [NODE_EXPORTER] + ne_default_flags(port),
         "cmd": " ".join([NODE_EXPORTER] + ne_default_flags("PORT"))},
        {"name": "node_exporter, sonde's host collectors only", "bin": NODE_EXPORTER,
         "port_from_stderr": False, "ref": "sonde",
         "argv": lambda port: [NODE_EXPORTER] + ne_host_flags(port),
         "cmd": " ".join([NODE_EXPORTER] + ne_host_flags("PORT"))},
        {"name": "sonde, first six collectors", "bin": sonde_abs, "port_from_stderr": True,
         "ref": "sonde, first six collectors",
         "argv": lambda port: [sonde_abs, "--listen", f"{HOST}:{port}"] + sonde_six,
         "cmd": f"{sonde} --listen {HOST}:0 --config SIX.toml"},
        {"name": "node_exporter, sonde's collectors only", "bin": NODE_EXPORTER,
         "port_from_stderr": False, "ref": "sonde, first six collectors",
         "argv": lambda port: [NODE_EXPORTER] + ne_restricted_flags(port),
         "cmd": " ".join([NODE_EXPORTER] + ne_restricted_flags("PORT"))},
    ]

    before = other_load()
    if before is not None and before > 0.1:
        log(f"warning: other processes use {before:.0%} of a CPU right now; that "
            "work inflates the CPU and latency figures")
    t_start = time.perf_counter()
    host0, own0 = host_busy_s(), own_cpu_s()
    results = {r["name"]: {"reps": [], "long": None} for r in rows}
    for rep in range(REPEATS):
        for row in rows:
            log(f"[{rep + 1}/{REPEATS}] {row['name']}: {SCRAPES} scrapes")
            m = run_once(row, SCRAPES)
            log(f"[{rep + 1}/{REPEATS}] {row['name']}: control, idle {m['wall_s']:.2f} s")
            c = run_once(row, 0, idle_s=m["wall_s"])
            per = (m["cpu_s"] - c["cpu_s"]) / SCRAPES * 1000
            log(f"    cpu run {m['cpu_s'] * 1000:.2f} ms, control {c['cpu_s'] * 1000:.2f} ms "
                f"-> {per:.3f} ms/scrape; median latency "
                f"{statistics.median(m['lat']) * 1000:.3f} ms; VmHWM {m['vmhwm_kib']} KiB")
            results[row["name"]]["reps"].append({
                "m": m, "c": c, "cpu_ms": per,
                "user_ms": (m["user_s"] - c["user_s"]) / SCRAPES * 1000,
                "sys_ms": (m["sys_s"] - c["sys_s"]) / SCRAPES * 1000})
    for row in rows:
        log(f"{row['name']}: {LONG_SCRAPES} scrapes, then VmRSS")
        results[row["name"]]["long"] = run_once(row, LONG_SCRAPES)
        lr = results[row["name"]]["long"]
        log(f"    VmRSS {lr['vmrss_kib']} KiB, VmHWM {lr['vmhwm_kib']} KiB")
    total_s = time.perf_counter() - t_start
    host1, own1 = host_busy_s(), own_cpu_s()
    other = None
    if host0 is not None and host1 is not None:
        other = max(0.0, (host1 - host0) - (own1 - own0)) / total_s
    if other is not None and other > 0.1:
        log(f"warning: other processes used {other:.0%} of a CPU during the run")

    # ---- summarise
    summary = {}
    for row in rows:
        res = results[row["name"]]
        cpu = [r["cpu_ms"] for r in res["reps"]]
        lat = [x for r in res["reps"] for x in r["m"]["lat"]]
        hwm = [r["m"]["vmhwm_kib"] for r in res["reps"] if r["m"]["vmhwm_kib"]]
        body = res["reps"][-1]["m"]["body"]
        static, static_desc = elf_info(row["bin"])
        summary[row["name"]] = {
            "cpu_med": statistics.median(cpu), "cpu_min": min(cpu), "cpu_max": max(cpu),
            "user_med": statistics.median([r["user_ms"] for r in res["reps"]]),
            "sys_med": statistics.median([r["sys_ms"] for r in res["reps"]]),
            "lat_med": statistics.median(lat) * 1000,
            "hwm_kib": statistics.median(hwm) if hwm else None,
            "rss1000_kib": res["long"]["vmrss_kib"],
            "bytes": len(body), "samples": count_samples(body),
            "bin_bytes": os.path.getsize(row["bin"]),
            "static": static_desc,
            "ready_ms": statistics.median(
                [r[k]["ready_s"] for r in res["reps"] for k in ("m", "c")]) * 1000,
        }
    os.unlink(six.name)

    header = ("| daemon | binary bytes | static? | CPU / scrape (ms), median (min–max) "
              "| median latency (ms) | peak RSS (VmHWM) | VmRSS after 1000 scrapes "
              "| response bytes / samples | ready after (ms) "
              "| ratio vs the sonde row it compares with (CPU / peak RSS / binary) |")
    sep = "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    lines = [header, sep]
    for row in rows:
        s = summary[row["name"]]
        s0 = summary[row["ref"]]
        if row["ref"] == row["name"]:
            ratio = "1× (reference)"
        else:
            ratio = " / ".join([fmt_ratio(s["cpu_med"], s0["cpu_med"]),
                                fmt_ratio(s["hwm_kib"], s0["hwm_kib"]),
                                fmt_ratio(s["bin_bytes"], s0["bin_bytes"])])
        lines.append(
            f"| {row['name']} | {fmt_int(s['bin_bytes'])} | {s['static']} "
            f"| {fmt_ms(s['cpu_med'])} ({fmt_ms(s['cpu_min'])}–{fmt_ms(s['cpu_max'])}) "
            f"| {fmt_ms(s['lat_med'])} | {fmt_mib(s['hwm_kib'])} | {fmt_mib(s['rss1000_kib'])} "
            f"| {fmt_int(s['bytes'])} B / {s['samples']} | {s['ready_ms']:.0f} | {ratio} |")
    table = "\n".join(lines)

    # ---- where the CPU goes: the program's own work (user) and the
    # kernel's (system calls; mostly generating /proc and /sys text, which
    # every exporter of the same families pays for alike).
    split = ["| daemon | user / scrape (ms) | kernel / scrape (ms) "
             "| ratio vs the sonde row (user / kernel) |",
             "|---|---:|---:|---:|"]
    for row in rows:
        s = summary[row["name"]]
        s0 = summary[row["ref"]]
        ratio = ("1× (reference)" if row["ref"] == row["name"] else
                 f"{fmt_ratio(s['user_med'], s0['user_med'])} / {fmt_ratio(s['sys_med'], s0['sys_med'])}")
        split.append(f"| {row['name']} | {fmt_ms(s['user_med'])} | {fmt_ms(s['sys_med'])} | {ratio} |")
    split_table = "\n".join(split)

    # ---- raw data, for whoever doubts a number
    raw = ["| daemon | run | CPU scrape run (ms) | CPU control (ms) | scrape wall (s) "
           "| CPU / scrape (ms) | VmHWM (KiB) | ru_maxrss (KiB) ¹ |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        for i, r in enumerate(results[row["name"]]["reps"]):
            raw.append(f"| {row['name']} | {i + 1} | {r['m']['cpu_s'] * 1000:.2f} "
                       f"| {r['c']['cpu_s'] * 1000:.2f} | {r['m']['wall_s']:.2f} "
                       f"| {r['cpu_ms']:.3f} | {r['m']['vmhwm_kib']} | {r['m']['maxrss_kib']} |")
        lr = results[row["name"]]["long"]
        raw.append(f"| {row['name']} | {LONG_SCRAPES} scrapes | {lr['cpu_s'] * 1000:.2f} | – "
                   f"| {lr['wall_s']:.2f} | – | {lr['vmhwm_kib']} (VmRSS {lr['vmrss_kib']}) "
                   f"| {lr['maxrss_kib']} |")

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sonde_ver = tool_version([sonde_abs, "--version"])
    ne_ver = dpkg_version("prometheus-node-exporter")
    py_hwm = proc_status(os.getpid()).get("VmHWM")
    intro = f"""# Benchmarks: sonde vs node_exporter

Measured by `tests/bench.py` (`make bench`) on {now}, Linux {platform.release()},
{os.cpu_count()} CPUs ({cpu_model()}), both daemons on this host and on loopback only.
Each daemon is started as a child process, probed until one `GET /metrics` answers, then
scraped {SCRAPES} times in sequence: each scrape is a fresh HTTP/1.1 `GET /metrics` on a new TCP
connection to 127.0.0.1 with `Connection: close`, reading the whole body. It is then stopped with
SIGTERM and reaped with `os.wait4`; its CPU is `ru_utime + ru_stime` (all threads, exited ones
included). A control run of the same daemon (started, probed once, idle for the same wall time,
stopped the same way) is subtracted, and the difference divided by {SCRAPES}. Each row is run
{REPEATS} times (interleaved); the table gives the median and the min–max of the {REPEATS}. Latency
is the client's wall time per scrape, from connect to the end of the body, median over all
{REPEATS}×{SCRAPES} scrapes. Peak RSS is `VmHWM` from `/proc/PID/status` read just before SIGTERM
(median of the runs). "VmRSS after 1000 scrapes" comes from a separate run of {LONG_SCRAPES}
scrapes. Response bytes and samples (lines not starting with `#`) are of the last scrape. The
ratio is node_exporter's value divided by sonde's: "10×" means sonde is 10 times cheaper.
The whole run took {total_s:.0f} s; {fmt_other(before, other)}

Commands (PORT is a free port picked by binding port 0):

- {sonde_ver or "sonde"}, its default host collectors (chronyd's left out): `{rows[0]['cmd']}`
  (port 0; the real port is read from its stderr)
- node_exporter{f" (Debian {ne_ver})" if ne_ver else ""}, defaults: `{rows[1]['cmd']}`
- node_exporter, the collectors of sonde's host families: `{rows[2]['cmd']}`
- sonde, its first six collectors only (SIX.toml: `[collectors] defaults = false`, then
  {", ".join(NE_COLLECTORS)} true): `{rows[3]['cmd']}`
- node_exporter, the same six: `{rows[4]['cmd']}`

Rows 3 and 5 are node_exporter for the same families as a sonde row (the goal: sonde costs at
most a tenth of its CPU per scrape): row 3 for row 1, sonde's host set; row 5 for row 4, sonde's
first six collectors. Row 2, node_exporter's defaults, also runs collectors that find nothing
here. Each row's ratio is to the sonde row it is compared with. Of netclass, sonde reads by
default the basic attributes (9 files per network device) where node_exporter reads 22, which is
most of the difference in samples between rows 1 and 3 (NODE_EXPORTER_COVERAGE.md, "netclass").
"""
    notes = f"""
¹ `ru_maxrss` from `wait4` is not the daemon's own peak: Linux keeps the maximum across
`execve`, so a child spawned from the benchmark's Python process starts with Python's peak
(VmHWM {py_hwm} KiB at the end of this run). That hides anything smaller, such as sonde, which
is why the table uses `VmHWM` instead.
"""
    with tempfile.TemporaryDirectory(prefix="sonde-bench-push-") as workdir:
        log("push rows")
        push = push_rows(sonde_abs, workdir)
    with tempfile.TemporaryDirectory(prefix="sonde-bench-checks-") as workdir:
        log("checks rows")
        checks = checks_rows(sonde_abs, workdir)
    with tempfile.TemporaryDirectory(prefix="sonde-bench-logs-") as workdir:
        log("logs rows")
        logs = logs_rows(sonde_abs, workdir)
    with tempfile.TemporaryDirectory(prefix="sonde-bench-hostile-") as workdir:
        log("idle connections and textfile rows")
        hostile = hostile_and_textfile_rows(sonde_abs, workdir)
    split_intro = """### Where the CPU goes

The same runs, split into the program's own work (user time) and the
kernel's (system time: opening and reading /proc and /sys, whose text the
kernel generates on every read, and the HTTP connection). Both exporters
read the same files for the same families, so the kernel's share is a floor
that no exporter gets under; the user column is what each program's own
code costs.
"""
    doc = (intro + "\n" + table + "\n\n" + split_intro + "\n" + split_table + "\n\n"
           + "\n".join(push) + "\n" + "\n".join(checks) + "\n" + "\n".join(logs) + "\n"
           + "\n".join(hostile)) + "\n## Raw runs\n\n" + "\n".join(raw) + "\n" + notes
    out_path = os.path.join(repo, "BENCHMARKS.md")
    with open(out_path, "w") as f:
        f.write(doc)
    print(table)
    print()
    print(split_table)
    log(f"wrote {out_path} in {total_s:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        log(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
