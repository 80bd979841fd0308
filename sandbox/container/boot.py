"""Container side of the autograder's container backend: the supervisor of one run.

The host starts `python3 -I -c <this file>` in a fresh, hardened container (read-only root, no
network, tmpfs at /submission, /inputs, /scratch and /tmp) and writes one job to stdin; this
supervisor answers with frames on stdout. It never judges anything: it unpacks the files, runs
the shared harness (sandbox/python/harness/grader_harness.py) in a child process as the sandbox
user with rlimits, forwards the child's output with caps, enforces the wall, CPU (the
container's cgroup), output and scratch limits, kills whatever the child left running, and
reads back the files the host asked for without following links.

The supervisor runs as the container's uid 0 with only CHOWN, SETUID, SETGID and KILL (no
other capability, no-new-privileges); student code runs as 65534 with none. A different uid
is what keeps the student's processes from signalling, tracing or writing into the supervisor.

stdin:  b"AGJ1", then three blobs, each a u64 big-endian length and bytes:
        header JSON, the program's stdin, a tar of submission/... and inputs/...
        header: {harness, request, collect: [path], limits: {wall_ms, cpu_s, output, scratch,
                 response, file}}
stdout: frames of one type byte, a u32 big-endian length and the payload:
        O stdout bytes | E stderr bytes | R the harness's JSON response
        F u32 length + {"path", "error"} JSON + file bytes
        X {"end", "code", "signal", "written", "oom"}
        ("end": returned | exited | signaled | cpu | wall | output | scratch | response)
"""

import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import tarfile
import time
import types

PROTO = os.dup(1)
STUDENT = 65534
WRITABLE = ("/submission", "/scratch", "/tmp", "/dev/shm")
ENTRY_COST = 512  # as on the host: every file or folder costs at least this much


def send(kind, payload):
    data = kind + struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(PROTO, view)
        view = view[n:]


def read_exact(n):
    # Straight from fd 0: a buffered reader would read ahead, and the child, which inherits
    # sys.stdin, would find those bytes in front of its own input.
    chunks = []
    while n:
        chunk = os.read(0, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the job was cut short")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def blob():
    (n,) = struct.unpack(">Q", read_exact(8))
    return read_exact(n)


class Limited:
    """The next `n` bytes of stdin as a stream that then ends (the host keeps stdin open)."""

    def __init__(self, n):
        self.left = n

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = read_exact(size)
        self.left -= len(data)
        return data


def unpack():
    """Streams the host's tar (built from a checked copy) into the run's folders, then gives
    the submission copy to the sandbox user and makes the inputs read-only for it."""
    (n,) = struct.unpack(">Q", read_exact(8))
    with tarfile.open(fileobj=Limited(n), mode="r|") as tar:
        for member in tar:
            parts = member.name.split("/")
            if parts[0] not in ("submission", "inputs") or any(p in ("", ".", "..") for p in parts):
                continue
            path = "/" + member.name
            if member.isdir():
                os.makedirs(path, exist_ok=True)
            elif member.isfile():
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(member), out, 1 << 20)
    for root, dirs, files in os.walk("/submission"):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), STUDENT, STUDENT)
    for folder in ("/submission", "/scratch", "/tmp"):
        os.chown(folder, STUDENT, STUDENT)
    for root, dirs, files in os.walk("/inputs"):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
        os.chmod(root, 0o555)


def cgroup_cpu():
    """CPU seconds used by every process of this container, or None (cgroup v1 or v2)."""
    for path in ("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", "/sys/fs/cgroup/cpuacct/cpuacct.usage"):
        try:
            with open(path) as f:
                return int(f.read()) / 1e9
        except (OSError, ValueError):
            pass
    try:
        with open("/sys/fs/cgroup/cpu.stat") as f:
            for line in f:
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
    except (OSError, ValueError):
        pass
    return None


def used():
    """Bytes and entries in use in the writable folders, counted like the host's quota."""
    total = 0
    for mount in WRITABLE:
        st = os.statvfs(mount)
        total += (st.f_blocks - st.f_bfree) * st.f_frsize + (st.f_files - st.f_ffree) * ENTRY_COST
    return total


def child(header, stdin_r, out_w, err_w, resp_w):
    os.setsid()
    # The run's processes go first when the kernel must kill one for memory, not the
    # supervisor (raising the score needs no privilege; it is inherited).
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    # From here on, the sandbox user with no capabilities left.
    os.setgroups([])
    os.setgid(STUDENT)
    os.setuid(STUDENT)
    os.umask(0o022)
    # Changing uid made the process undumpable, which hides its own /proc/self from it; the run
    # may read that (its limits, its environment) like any process.
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception:  # noqa: BLE001 - an image without ctypes still runs
        pass
    os.dup2(stdin_r, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    os.dup2(resp_w, 3)
    os.closerange(4, 65536)
    limits = header["limits"]
    cpu = max(1, int(limits["cpu_s"] + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The stand-in for the bindings componentize-py generates: the same harness class, no snapshot.
    world = types.ModuleType("wit_world")
    world.WitWorld = type("WitWorld", (), {})
    world.SNAPSHOT = False
    sys.modules["wit_world"] = world
    harness = types.ModuleType("grader_harness")
    harness.__file__ = "grader_harness.py"
    sys.modules["grader_harness"] = harness
    exec(compile(header["harness"], "grader_harness.py", "exec"), harness.__dict__)
    me = os.getpid()
    response = harness.WitWorld().run(header["request"]).encode()
    if os.getpid() != me:
        # A process the student's code forked came back through the harness: only the run's own
        # process answers.
        os._exit(0)
    view = memoryview(response)
    try:
        while view:
            view = view[os.write(3, view) :]
    except OSError:
        pass
    os._exit(0)


def read_back(path, cap):
    """A file the run wrote, as (error, bytes): no links followed, regular files only."""
    if path.startswith("/scratch/"):
        base, rest = "/scratch", path[len("/scratch/") :]
    elif path.startswith("/submission/"):
        base, rest = "/submission", path[len("/submission/") :]
    elif not path.startswith("/"):
        base, rest = "/submission", path
    else:
        return "outside", b""
    parts = [p for p in rest.split("/") if p != ""]
    if not parts:
        return "not_file", b""  # the folder itself
    if any(p in (".", "..") for p in parts):
        return "not_plain", b""
    current = base
    for part in parts:
        current = current + "/" + part
        try:
            st = os.lstat(current)
        except OSError:
            return "missing", b""
        if (st.st_mode & 0o170000) == 0o120000:
            return "link", b""
    if (st.st_mode & 0o170000) != 0o100000:
        return "not_file", b""
    if st.st_size > cap:
        return "too_large", b""
    try:
        fd = os.open(current, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            data = f.read(cap + 1)
    except OSError:
        return "unreadable", b""
    if len(data) > cap:
        return "too_large", b""
    return None, data


def main():
    if read_exact(4) != b"AGJ1":
        raise SystemExit("not a job")
    header = json.loads(blob())
    stdin_data = memoryview(blob())
    unpack()
    limits = header["limits"]
    baseline = used()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    resp_r, resp_w = os.pipe()
    stdin_r, stdin_w = os.pipe()
    cpu_base = cgroup_cpu()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (out_r, err_r, resp_r, stdin_w, PROTO):
                os.close(fd)
            child(header, stdin_r, out_w, err_w, resp_w)
        finally:
            os._exit(70)
    for fd in (out_w, err_w, resp_w, stdin_r):
        os.close(fd)
    # The test's stdin is fed as the program reads it (a pipe holds only 64 KiB).
    os.set_blocking(stdin_w, False)
    feeding = [stdin_w]
    deadline = started + limits["wall_ms"] / 1000.0
    sent = {out_r: 0, err_r: 0}
    kinds = {out_r: b"O", err_r: b"E"}
    response = bytearray()
    open_fds = [out_r, err_r, resp_r]
    end, status = None, None
    drain_until = None

    def kill_all():
        # Every process but init and this one is the run's: kill(-1) reaches them all, also
        # ones that left the process group or hold the child's exit status (a tracer).
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass

    def stop(why):
        nonlocal end, stopped_at
        if end is None:
            end = why
        if stopped_at is None:
            stopped_at = time.monotonic()
        kill_all()

    # One loop, which never blocks on the child: it forwards output while there is any, and
    # checks the limits until the child has been reaped.
    stopped_at = None
    while status is None or (open_fds and drain_until is not None and time.monotonic() < drain_until):
        now = time.monotonic()
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                # Nothing the child started may outlive it or touch the files read back below.
                kill_all()
                drain_until = now + 0.2
                continue
            if now > deadline:
                stop("wall")
            if stopped_at is not None:
                if now - stopped_at > 5:
                    break  # not reaped 5 s after SIGKILL: report what is known
                kill_all()
        if end is None and used() - baseline > limits["scratch"]:
            stop("scratch")
        if end is None and cpu_base is not None:
            cpu = cgroup_cpu()
            # All processes together: a run that forks cannot multiply its CPU time.
            if cpu is not None and cpu - cpu_base > limits["cpu_s"]:
                stop("cpu")
        if feeding and not stdin_data:
            os.close(stdin_w)
            feeding = []
        if not open_fds and not feeding:
            time.sleep(0.005)
            continue
        ready, writable, _ = select.select(open_fds, feeding, [], 0.01)
        if writable:
            try:
                stdin_data = stdin_data[os.write(stdin_w, stdin_data[:65536]) :]
            except OSError:
                stdin_data = stdin_data[:0]
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                open_fds.remove(fd)
                continue
            if fd == resp_r:
                response += chunk
                if len(response) > limits["response"]:
                    stop("response")
                    open_fds.remove(fd)
                continue
            room = limits["output"] - sent[fd]
            if room > 0:
                send(kinds[fd], chunk[:room])
                sent[fd] += min(room, len(chunk))
            if len(chunk) > room or sent[fd] >= limits["output"]:
                stop("output")
    kill_all()
    if status is None:
        status = 9  # as if killed by SIGKILL: the child was never reaped
    written = max(0, used() - baseline)
    if end is None and written > limits["scratch"]:
        end = "scratch"
    code = sig = None
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    if end is None:
        if code == 0 and response:
            end = "returned"
        elif code is not None:
            end = "exited"
        elif sig in (signal.SIGXCPU,) or (sig == signal.SIGKILL and cpu_used(pid) >= limits["cpu_s"]):
            end = "cpu"
        else:
            end = "signaled"
    if response and end in ("returned", "output", "scratch"):
        send(b"R", bytes(response))
    for path in header.get("collect", []):
        error, data = read_back(path, limits["file"])
        meta = json.dumps({"path": path, "error": error}).encode()
        send(b"F", struct.pack(">I", len(meta)) + meta + data)
    oom = oom_kills() > 0
    send(b"X", json.dumps({"end": end, "code": code, "signal": sig, "written": written, "oom": oom}).encode())


def oom_kills():
    """How many processes the kernel killed for memory in this container (cgroup v1 or v2)."""
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.partition(" ")
                    if name == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def cpu_used(pid):
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
