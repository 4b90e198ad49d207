"""Start a grading kernel under resource limits (run as a script, stdlib only).

``python _sandbox.py --memory BYTES --fsize BYTES -- KERNEL_CMD...`` sets the limits
on itself, pins the math libraries to one thread, then ``exec``s the kernel command,
so the kernel keeps this process id (interrupts and kills reach it directly).

* ``RLIMIT_AS`` caps the address space: an oversized allocation raises ``MemoryError``
  inside the student's cell instead of exhausting the machine.
* ``RLIMIT_FSIZE`` caps the size of any file the kernel writes (Python ignores
  ``SIGXFSZ``, so an oversized write raises ``OSError``).
* ``RLIMIT_CORE = 0``: a crashing kernel leaves no core dump behind.
* ``--quiet`` sends the kernel process's own stdout/stderr to /dev/null (its start-up
  notes); what the notebook prints reaches the grader over IOPub as usual.
"""
import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def main(argv):
    memory = fsize = None
    quiet = False
    while argv and argv[0] != "--":
        if argv[0] == "--quiet":
            quiet, argv = True, argv[1:]
            continue
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--memory":
            memory = int(value)
        elif flag == "--fsize":
            fsize = int(value)
        else:
            sys.exit(f"_sandbox: unknown option {flag!r}")
    if not argv or argv[0] != "--" or len(argv) < 2:
        sys.exit("usage: _sandbox.py [--memory BYTES] [--fsize BYTES] -- CMD...")
    cmd = argv[1:]
    import resource

    def cap(limit, value):
        # soft == hard: the student's code cannot raise the limit again
        hard = resource.getrlimit(limit)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(limit, (value, value))

    if memory:
        cap(resource.RLIMIT_AS, memory)
    if fsize:
        cap(resource.RLIMIT_FSIZE, fsize)
    cap(resource.RLIMIT_CORE, 0)
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    if quiet:  # the kernel's own start-up notes: everything the notebook sees goes over IOPub
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
