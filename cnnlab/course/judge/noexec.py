"""Forbid ``execve`` in the calling process and everything it forks (seccomp, Linux).

Run inside a grading kernel before any student code: a new program (a fresh ``python``
without the library rule, a shell, a compiler) can then not be started; ``execve`` and
``execveat`` fail with ``PermissionError``. Forking stays possible (the sandbox's PID
namespace ends such children with the kernel). Stdlib only; on other systems or
architectures :func:`forbid_exec` returns False and does nothing.
"""
from __future__ import annotations

import platform
import struct
import sys

__all__ = ["forbid_exec"]

# (AUDIT_ARCH, execve, execveat, seccomp syscall number)
_ARCH = {"x86_64": (0xC000003E, 59, 322, 317), "aarch64": (0xC00000B7, 221, 281, 277)}
_BPF_LD_W_ABS, _BPF_JEQ_K, _BPF_JGE_K, _BPF_RET_K = 0x20, 0x15, 0x35, 0x06
_ALLOW, _KILL = 0x7FFF0000, 0x80000000
_ERRNO_EPERM = 0x00050000 | 1


def _filter(arch, execve, execveat):
    def ins(code, jt, jf, k):
        return struct.pack("HBBI", code, jt, jf, k)
    prog = [
        ins(_BPF_LD_W_ABS, 0, 0, 4),              # seccomp_data.arch
        ins(_BPF_JEQ_K, 1, 0, arch),
        ins(_BPF_RET_K, 0, 0, _KILL),             # another ABI: not for us
        ins(_BPF_LD_W_ABS, 0, 0, 0),              # seccomp_data.nr
        ins(_BPF_JGE_K, 3, 0, 0x40000000),        # x32 syscalls: refuse all exec-like ones below
        ins(_BPF_JEQ_K, 2, 0, execve),
        ins(_BPF_JEQ_K, 1, 0, execveat),
        ins(_BPF_RET_K, 0, 0, _ALLOW),
        ins(_BPF_RET_K, 0, 0, _ERRNO_EPERM),
    ]
    return prog


def forbid_exec() -> bool:
    """Install the filter for every thread of this process; True if it is in force."""
    machine = platform.machine()
    if not sys.platform.startswith("linux") or machine not in _ARCH:
        return False
    import ctypes
    arch, execve, execveat, nr_seccomp = _ARCH[machine]
    prog = _filter(arch, execve, execveat)
    buf = ctypes.create_string_buffer(b"".join(prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NO_NEW_PRIVS, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC = 38, 1, 1
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    rc = libc.syscall(nr_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
                      ctypes.byref(fprog))
    return rc == 0
