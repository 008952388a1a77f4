"""Defence in depth: a query worker that cannot open a network socket.

The vetting in :mod:`pactgraph.serve.guard` refuses ``SERVICE`` before a query runs. Should a
query ever slip past it (a parser disagreement, a future pyoxigraph feature), this layer makes
the worker process itself unable to create IPv4 or IPv6 sockets: a Linux seccomp filter
answers ``socket(AF_INET|AF_INET6, …)`` with ``EACCES``. Pipes and Unix sockets, which the
worker uses to talk to the app, are untouched. The filter is only installed when the SERVICE
allow-list is empty (federation needs the network) and only where the kernel and CPU
architecture are known; :func:`deny_network` says whether it took effect.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
LOAD_WORD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
RETURN = 0x06  # BPF_RET | BPF_K
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000

# offsetof(struct seccomp_data, …): nr, arch, args[0] (low word on little-endian CPUs).
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0 = 0, 4, 16

# Per architecture: the audit arch value and the number of the socket(2) system call.
ARCHITECTURES: dict[str, tuple[int, int]] = {
    "x86_64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
}


class _Instruction(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    )


class _Program(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction)))


def _filter(arch: int, socket_nr: int) -> list[tuple[int, int, int, int]]:
    """The BPF program: deny socket() for AF_INET and AF_INET6, allow everything else."""
    deny = RET_ERRNO | errno.EACCES
    return [
        (LOAD_WORD_ABS, 0, 0, OFFSET_ARCH),
        (JUMP_IF_EQUAL, 0, 5, arch),  # another ABI: allow (jump to the last-but-one)
        (LOAD_WORD_ABS, 0, 0, OFFSET_NR),
        (JUMP_IF_EQUAL, 0, 3, socket_nr),
        (LOAD_WORD_ABS, 0, 0, OFFSET_ARG0),
        (JUMP_IF_EQUAL, 2, 0, socket.AF_INET),
        (JUMP_IF_EQUAL, 1, 0, socket.AF_INET6),
        (RETURN, 0, 0, RET_ALLOW),
        (RETURN, 0, 0, deny),
    ]


def deny_network() -> bool:
    """Forbid this process (and its future children) to open IPv4/IPv6 sockets.

    Returns ``False`` (and changes nothing) where seccomp is not available.
    """
    machine = platform.machine()
    if not sys.platform.startswith("linux") or machine not in ARCHITECTURES:
        return False
    arch, socket_nr = ARCHITECTURES[machine]
    program = _filter(arch, socket_nr)
    instructions = (_Instruction * len(program))(*(_Instruction(*i) for i in program))
    fprog = _Program(len(program), instructions)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
