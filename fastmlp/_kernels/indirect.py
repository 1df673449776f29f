"""Calling a compiled kernel through its address, so its code is not linked in.

Numba links a callee's whole LLVM module into every caller's library and
optimises and code-generates it again there: a parallel kernel's ``prange``
body is a separate library too, so the network code called from the training
loop's one parfor was compiled three times over (its own library, the parfor
body's, the training loop's), about two thirds of a cold first fit.
``call_kernel(addr, key, head, tail)`` instead calls the callee's native entry point
by address, a runtime integer the caller receives as an argument; the callee is
compiled (or loaded from the on-disk cache) once, on its own, from Python
(``kernel_address``). No address is baked into compiled code, so both the
caller and the callee stay cacheable.

``key`` guards the call: it is a checksum of the argument types the callee was
compiled for, compared with a constant fixed when the call site was compiled;
on a mismatch nothing is called and ``call_kernel`` returns False.

With ``NUMBA_DISABLE_JIT=1`` ``addr`` is the Python function itself.
"""

import zlib

from numba import types

from .._jit import JIT_DISABLED


def signature_key(argtypes):
    """A checksum of a tuple of Numba types, the same in every process."""
    return zlib.crc32(repr(tuple(argtypes)).encode())


def kernel_address(dispatcher, argtypes):
    """(address, key) of ``dispatcher`` compiled for ``argtypes`` (a tuple of
    Numba types), compiling it or loading it from the cache first."""
    if JIT_DISABLED:
        return dispatcher, 0
    argtypes = tuple(argtypes)
    dispatcher.compile(argtypes)
    cres = dispatcher.overloads[argtypes]
    address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
    return address, signature_key(argtypes)


# NUMBA_DISABLE_JIT: kernels whose "address" had to be an integer (a layout
# table's entry, table_entry), by that integer.
_by_number = []


def table_entry(dispatcher, argtypes):
    """kernel_address as two integers, for an int64 table (layout.X_ADDR)."""
    if JIT_DISABLED:
        _by_number.append(dispatcher)
        return len(_by_number), 0
    return kernel_address(dispatcher, argtypes)


if JIT_DISABLED:

    def call_kernel(addr, key, head, tail):
        if not callable(addr):
            addr = _by_number[int(addr) - 1]
        addr(*head, *tail)
        return True

else:
    from llvmlite import ir
    from numba.core import cgutils
    from numba.core.callconv import excinfo_t
    from numba.extending import intrinsic

    @intrinsic
    def call_kernel(typingctx, addr, key, head, tail):
        """Call the kernel at ``addr`` (a native entry point returning None)
        with the arguments in the tuples ``head`` then ``tail``, if ``key``
        equals signature_key of their types; returns whether it called. (Two
        tuples rather than ``head + tail``: a new tuple of a kernel's ~30 arrays
        costs a reference count increment and decrement per array, and compile
        time at every call site.)"""
        if not (
            isinstance(addr, types.Integer)
            and isinstance(key, types.Integer)
            and isinstance(head, types.BaseTuple)
            and isinstance(tail, types.BaseTuple)
        ):
            return None
        argtys = tuple(head.types) + tuple(tail.types)
        expected = signature_key(argtys)
        n_head = len(head.types)

        def codegen(context, builder, sig, llargs):
            addr_v, key_v, head_v, tail_v = llargs
            key_v = context.cast(builder, key_v, sig.args[1], types.int64)
            ok = builder.icmp_signed("==", key_v, ir.Constant(key_v.type, expected))
            with builder.if_then(ok):
                callconv = context.call_conv
                fnty = callconv.get_function_type(types.none, argtys)
                addr_i = context.cast(builder, addr_v, sig.args[0], types.intp)
                fnptr = builder.inttoptr(addr_i, fnty.as_pointer())
                retty = callconv.get_return_type(types.none).pointee
                retval = cgutils.alloca_once(builder, retty)
                builder.store(cgutils.get_null_value(retty), retval)
                excinfo = cgutils.alloca_once(builder, ir.PointerType(excinfo_t))
                values = [builder.extract_value(head_v, i) for i in range(n_head)]
                values += [
                    builder.extract_value(tail_v, i)
                    for i in range(len(argtys) - n_head)
                ]
                packed = callconv._get_arg_packer(argtys).as_arguments(builder, values)
                builder.call(fnptr, [retval, excinfo, *packed])
            return ok

        return types.boolean(addr, key, head, tail), codegen
