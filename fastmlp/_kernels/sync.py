"""Atomics, waiting and a cycle counter for the training team (team.py).

    atomic_add(a, i, v)            a[i] += v atomically; returns the old value
    atomic_cas(a, i, expect, new)  a[i] = new if a[i] == expect; returns the old value
    atomic_load(a, i)              a[i], acquire (later reads stay after it)
    atomic_store(a, i, v)          a[i] = v, release (earlier writes land first)
    read_fence()                   earlier reads complete before later ones
    cpu_relax()                    the x86 ``pause`` hint of a spin loop (else nothing)
    yield_cpu()                    ``sched_yield()``: let another runnable thread in
    nap(us)                        ``usleep(us)``: give the core away for a while
    cycles()                       the CPU's time-stamp counter (``llvm.readcyclecounter``)

``a`` is a C-contiguous int64 array. Every operation is sequentially consistent
unless named otherwise. ``sched_yield`` and ``usleep`` are declared by name and
resolved against the C library already in the process when a kernel is compiled
or loaded from the cache, so nothing here stops a kernel from being cached.

With ``NUMBA_DISABLE_JIT=1`` (prange runs as a plain loop, one thread) these are
their plain-Python meanings.
"""

import os
import time

from .._jit import JIT_DISABLED

if JIT_DISABLED:

    def atomic_add(a, i, v):
        old = a[i]
        a[i] += v
        return old

    def atomic_cas(a, i, expect, new):
        old = a[i]
        if old == expect:
            a[i] = new
        return old

    def atomic_load(a, i):
        return a[i]

    def atomic_store(a, i, v):
        a[i] = v

    def read_fence():
        pass

    def cpu_relax():
        pass

    def yield_cpu():
        os.sched_yield()

    def nap(us):
        time.sleep(us * 1e-6)

    def cycles():
        return time.perf_counter_ns()

else:
    import platform

    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    _X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "i386")

    def _int64_array(a):
        return (
            isinstance(a, types.Array)
            and a.dtype == types.int64
            and a.ndim == 1
            and a.layout == "C"
        )

    def _pointer(context, builder, aryty, ary, idx, idxty):
        array = context.make_array(aryty)(context, builder, ary)
        idx = context.cast(builder, idx, idxty, types.intp)
        return cgutils.get_item_pointer(
            context, builder, aryty, array, [idx], wraparound=False
        )

    def _i64(context, builder, value, ty):
        return context.cast(builder, value, ty, types.int64)

    @intrinsic
    def atomic_add(typingctx, a, i, v):
        if not (_int64_array(a) and isinstance(i, types.Integer)):
            return None
        if not isinstance(v, types.Integer):
            return None

        def codegen(context, builder, sig, args):
            ptr = _pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            value = _i64(context, builder, args[2], sig.args[2])
            return builder.atomic_rmw("add", ptr, value, "seq_cst")

        return types.int64(a, i, v), codegen

    @intrinsic
    def atomic_cas(typingctx, a, i, expect, new):
        if not (_int64_array(a) and isinstance(i, types.Integer)):
            return None
        if not (isinstance(expect, types.Integer) and isinstance(new, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            ptr = _pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            cmp = _i64(context, builder, args[2], sig.args[2])
            val = _i64(context, builder, args[3], sig.args[3])
            pair = builder.cmpxchg(ptr, cmp, val, "seq_cst", "seq_cst")
            return builder.extract_value(pair, 0)

        return types.int64(a, i, expect, new), codegen

    @intrinsic
    def atomic_load(typingctx, a, i):
        if not (_int64_array(a) and isinstance(i, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            ptr = _pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            return builder.load_atomic(ptr, "acquire", 8)

        return types.int64(a, i), codegen

    @intrinsic
    def atomic_store(typingctx, a, i, v):
        if not (_int64_array(a) and isinstance(i, types.Integer)):
            return None
        if not isinstance(v, types.Integer):
            return None

        def codegen(context, builder, sig, args):
            ptr = _pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            value = _i64(context, builder, args[2], sig.args[2])
            builder.store_atomic(value, ptr, "release", 8)
            return context.get_dummy_value()

        return types.none(a, i, v), codegen

    @intrinsic
    def read_fence(typingctx):
        def codegen(context, builder, sig, args):
            builder.fence("acquire")
            return context.get_dummy_value()

        return types.none(), codegen

    @intrinsic
    def cpu_relax(typingctx):
        def codegen(context, builder, sig, args):
            if _X86:
                fnty = ir.FunctionType(ir.VoidType(), [])
                fn = cgutils.get_or_insert_function(
                    builder.module, fnty, "llvm.x86.sse2.pause"
                )
                builder.call(fn, [])
            return context.get_dummy_value()

        return types.none(), codegen

    def _libc_call(builder, name, argtys, args):
        fnty = ir.FunctionType(ir.IntType(32), argtys)
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        return builder.call(fn, args)

    @intrinsic
    def yield_cpu(typingctx):
        def codegen(context, builder, sig, args):
            _libc_call(builder, "sched_yield", [], [])
            return context.get_dummy_value()

        return types.none(), codegen

    @intrinsic
    def nap(typingctx, us):
        if not isinstance(us, types.Integer):
            return None

        def codegen(context, builder, sig, args):
            value = context.cast(builder, args[0], sig.args[0], types.uint32)
            _libc_call(builder, "usleep", [ir.IntType(32)], [value])
            return context.get_dummy_value()

        return types.none(us), codegen

    @intrinsic
    def cycles(typingctx):
        def codegen(context, builder, sig, args):
            fnty = ir.FunctionType(ir.IntType(64), [])
            fn = cgutils.get_or_insert_function(
                builder.module, fnty, "llvm.readcyclecounter"
            )
            return builder.call(fn, [])

        return types.int64(), codegen
