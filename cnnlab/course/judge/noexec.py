"""Forbid new programs and new processes in the calling process (seccomp, Linux).

Run inside a grading kernel before any student code. Afterwards, for every thread of the
process:

* ``execve``/``execveat`` fail with ``PermissionError``: no fresh ``python`` without the
  library rule, no shell, no compiler;
* ``fork``/``vfork`` and a ``clone`` that does not make a thread fail with
  ``PermissionError``: no daemon, no fork bomb multiplying the per-process memory cap,
  no child doing a forbidden computation out of the grader's sight. Threads still work
  (``clone3`` answers ENOSYS, so the C library falls back to ``clone`` with
  ``CLONE_THREAD``).

Stdlib only. On other systems or architectures :func:`forbid_exec` returns False and
does nothing (the sandbox's PID namespace still ends every child with the kernel).
"""
from __future__ import annotations

import platform
import struct
import sys

__all__ = ["forbid_exec"]

# AUDIT_ARCH and system call numbers; None where the architecture has no such call
_ARCH = {
    "x86_64": dict(arch=0xC000003E, execve=59, execveat=322, fork=57, vfork=58, clone=56,
                   clone3=435, seccomp=317),
    "aarch64": dict(arch=0xC00000B7, execve=221, execveat=281, fork=None, vfork=None, clone=220,
                    clone3=435, seccomp=277),
}
_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _KILL = 0x7FFF0000, 0x80000000
_EPERM, _ENOSYS = 0x00050000 | 1, 0x00050000 | 38
_CLONE_THREAD = 0x00010000


def _program(n: dict) -> list[bytes]:
    """The filter, assembled: ``(op, k, label if true, label if false)`` with named labels."""
    code = [("ld", 4, None, None), ("jeq", n["arch"], "nr", "kill")]
    code += [("label", "nr", None, None), ("ld", 0, None, None),
             ("jge", 0x40000000, "deny", None)]          # the x32 ABI: refused wholesale
    for name in ("execve", "execveat", "fork", "vfork"):
        if n[name] is not None:
            code.append(("jeq", n[name], "deny", None))
    code += [("jeq", n["clone3"], "nosys", None), ("jeq", n["clone"], "clone", None),
             ("ret", _ALLOW, None, None),
             ("label", "clone", None, None), ("ld", 16, None, None),   # args[0], low word: flags
             ("jset", _CLONE_THREAD, "allow", "deny"),
             ("label", "allow", None, None), ("ret", _ALLOW, None, None),
             ("label", "deny", None, None), ("ret", _EPERM, None, None),
             ("label", "nosys", None, None), ("ret", _ENOSYS, None, None),
             ("label", "kill", None, None), ("ret", _KILL, None, None)]
    where, index = {}, 0
    for op, k, _, _ in code:
        if op == "label":
            where[k] = index
        else:
            index += 1
    out, index = [], 0
    ops = {"ld": _LD_W_ABS, "jeq": _JEQ, "jge": _JGE, "jset": _JSET, "ret": _RET}
    for op, k, t, f in code:
        if op == "label":
            continue
        jt = where[t] - index - 1 if t else 0
        jf = where[f] - index - 1 if f else 0
        out.append(struct.pack("HBBI", ops[op], jt, jf, k))
        index += 1
    return out


def forbid_exec() -> bool:
    """Install the filter for every thread of this process; True if it is in force."""
    machine = platform.machine()
    if not sys.platform.startswith("linux") or machine not in _ARCH:
        return False
    import ctypes
    numbers = _ARCH[machine]
    prog = _program(numbers)
    buf = ctypes.create_string_buffer(b"".join(prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_NO_NEW_PRIVS, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC = 38, 1, 1
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    rc = libc.syscall(numbers["seccomp"], SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
                      ctypes.byref(fprog))
    return rc == 0
