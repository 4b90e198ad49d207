"""Count how cnnlab's public callables answer hostile arguments, and how its explorers
answer hostile control values (the contract is at the top of ``cnnlab/_validate.py``).

Run:  PYTHONPATH=. .venv/bin/python tests/fuzz_contract.py [--only SUBSTRING] [--fast] [--verbose]

Every registered call (``tests/_contract_registry.py``) is repeated with ONE argument
replaced by each of a list of hostile values (wrong types, NaN/inf, huge/negative/zero
sizes, bool for int, unknown strings, wrong shapes). Each outcome is counted as:

* ``ok``        — returned (a hostile value that happens to be valid);
* ``named``     — ValueError/TypeError whose message names the parameter or shows the value;
* ``unnamed``   — ValueError/TypeError naming neither;
* ``io``        — OSError for a ``path`` argument naming a missing file (documented);
* ``other``     — any other exception type;
* ``nan``       — returned NaN/inf although the valid call and the hostile value are finite;
* ``blowup``    — MemoryError (the address space is capped at 6 GiB);
* ``hang``      — still running after 10 s.

Then every explorer's text boxes are typed into with hostile text and its numeric
controls set to extreme values; ``escape`` counts exceptions that reach the caller.
Deterministic (no random choice), so before/after counts compare. Measured for issue 15
(165 callables, 8,216 corrupted calls, 471 explorer moves):

=========  ======================  =====================
outcome    before (b3fee2a)        after
=========  ======================  =====================
named      5,610                   7,030
unnamed    426 (100 callables)     0
other      293 (77 callables)      0
nan        9 (8 callables)         0
blowup     22 (20 callables)       0
hang       18 (9 callables)        0
escape     7 moves (3 explorers)   0
io         4 (read_idx)            4 (documented OSError)
=========  ======================  =====================
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import io
import math
import os
import pathlib
import resource
import signal
import sys
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

import _contract_registry as R  # noqa: E402

TIMEOUT_S = 10


class Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise Hang()


def names(msg, name, value):
    if name in msg:
        return True
    try:
        shown = [repr(value), str(value)]
    except Exception:
        return False
    return any(s and len(s) < 200 and s in msg for s in shown)


def finite_value(v):
    try:
        return bool(np.all(np.isfinite(np.asarray(v, dtype=float))))
    except Exception:
        return True  # not numeric: nothing to say


def result_finite(res):
    try:
        import torch
        if isinstance(res, torch.Tensor):
            return bool(torch.isfinite(res).all()) if res.is_floating_point() else True
    except ImportError:
        pass
    if isinstance(res, np.ndarray) and res.dtype.kind in "fc":
        return bool(np.all(np.isfinite(res)))
    if isinstance(res, float):
        return math.isfinite(res)
    if isinstance(res, tuple):
        return all(result_finite(r) for r in res)
    return True


def classify(case, name, value, base_finite):
    signal.alarm(TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # try_function's report, progress text
            res = case.call_with(name, value)
        signal.alarm(0)
    except Hang:
        return "hang", "timeout"
    except MemoryError as exc:
        signal.alarm(0)
        return "blowup", str(exc)[:120]
    except (ValueError, TypeError) as exc:
        signal.alarm(0)
        msg = str(exc)
        return ("named" if names(msg, name, value) else "unnamed"), f"{type(exc).__name__}: {msg[:160]}"
    except OSError as exc:  # a file that is not there: documented for the path arguments
        signal.alarm(0)
        return ("io" if name == "path" else "other"), f"{type(exc).__name__}: {str(exc)[:160]}"
    except Exception as exc:  # noqa: BLE001 - counting them is the point
        signal.alarm(0)
        return "other", f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        signal.alarm(0)
    if base_finite and finite_value(value) and not result_finite(res):
        return "nan", "non-finite result"
    return "ok", ""


def fuzz_calls(cases, verbose):
    counts, per = collections.Counter(), collections.defaultdict(set)
    details = []
    for case in cases:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                base = case.call()
        except Exception as exc:  # noqa: BLE001
            counts["broken valid call"] += 1
            details.append(f"{case.key}: VALID CALL FAILED {type(exc).__name__}: {exc}")
            continue
        base_finite = result_finite(base)
        for name, valid in case.bound().items():
            for value in R.hostile(valid):
                outcome, msg = classify(case, name, value, base_finite)
                counts[outcome] += 1
                per[outcome].add(case.key)
                if outcome not in ("ok", "named"):
                    details.append(f"{outcome:8s} {case.key}({name}={_short(value)}): {msg}")
    return counts, per, details


def _short(v):
    s = repr(v)
    return s if len(s) < 50 else s[:47] + "..."


def fuzz_explorers(cases, verbose):
    n_moves, escapes, details = 0, 0, []
    per = set()
    for case in cases:
        if not R.is_explorer(case.fn):
            continue
        try:
            ex = case.call()
        except Exception as exc:  # noqa: BLE001
            details.append(f"{case.key}: VALID CONSTRUCTION FAILED {exc!r}")
            continue
        for c in R.controls(ex):
            for v in R.moves(c):
                n_moves += 1
                signal.alarm(TIMEOUT_S)
                try:
                    R.move(c, v)
                except Hang:
                    escapes += 1
                    details.append(f"hang     {case.key} {getattr(c, 'description', '?')}={_short(v)}")
                except Exception as exc:  # noqa: BLE001
                    escapes += 1
                    per.add(case.key)
                    details.append(f"escape   {case.key} {getattr(c, 'description', type(c).__name__)}"
                                   f"={_short(v)}: {type(exc).__name__}: {str(exc)[:120]}")
                finally:
                    signal.alarm(0)
                result = getattr(ex, "result", None)
                if getattr(ex, "error", None) is None and not result_finite(getattr(result, "response", None)):
                    escapes += 1
                    details.append(f"nan      {case.key} {getattr(c, 'description', '?')}={_short(v)}")
    return n_moves, escapes, per, details


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="only registry keys containing this text")
    parser.add_argument("--fast", action="store_true", help="skip the slow entries (big models)")
    parser.add_argument("--verbose", action="store_true", help="print every non-conforming outcome")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, resource.RLIM_INFINITY))
    signal.signal(signal.SIGALRM, _alarm)
    import torch
    torch.set_num_threads(1)
    cases = [c for k, c in sorted(R.build().items())
             if (args.only is None or args.only in k) and not (args.fast and c.slow)]
    counts, per, details = fuzz_calls(cases, args.verbose)
    moves, escapes, eper, edetails = fuzz_explorers(cases, args.verbose)
    if args.verbose:
        print("\n".join(details + edetails))
    total = sum(counts.values())
    print(f"callables: {len(cases)}, corrupted calls: {total}")
    print(f"{'outcome':<20}{'calls':>8}{'callables':>11}")
    for outcome in ("ok", "named", "io", "unnamed", "other", "nan", "blowup", "hang", "broken valid call"):
        print(f"{outcome:<20}{counts[outcome]:>8}{len(per[outcome]):>11}")
    print(f"explorer moves: {moves}, escapes: {escapes} ({len(eper)} explorers)")


if __name__ == "__main__":
    main()
