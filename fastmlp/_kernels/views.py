"""Views into flat buffers without Numba's general reshape.

``buf[off:off + r * c].reshape((r, c))`` calls the C helper
``numba_attempt_nocopy_reshape`` and builds two array structs. On a batch-1 step
the network makes a dozen such views per layer; perf showed the reshape helper
and its reference counting at ~20% of a W4 (online SGD) step. These intrinsics
build the C-contiguous view directly from the base's data pointer (sharing its
memory owner), which LLVM then folds into the caller.

    view2d(base, off, rows, cols)  ->  (rows, cols) view of base.flat[off:...]
    view1d(base, off, n)           ->  (n,) view of base.flat[off:...]

``base`` must be C-contiguous; bounds are the caller's responsibility (the layout
table is built and checked once per fit in Python).
"""

from .._jit import JIT_DISABLED

if JIT_DISABLED:

    def view2d(base, off, rows, cols):
        return base.reshape(base.size)[off : off + rows * cols].reshape((rows, cols))

    def view1d(base, off, n):
        return base.reshape(base.size)[off : off + n]

else:
    from numba import types
    from numba.core import cgutils
    from numba.core.imputils import impl_ret_borrowed
    from numba.extending import intrinsic
    from numba.np.arrayobj import make_array, populate_array

    def _typed(base, off, dims):
        return (
            isinstance(base, types.Array)
            and base.layout == "C"
            and all(isinstance(t, types.Integer) for t in (off, *dims))
        )

    def _codegen(ndim):
        def codegen(context, builder, sig, args):
            aryty, ret = sig.args[0], sig.return_type
            src = make_array(aryty)(context, builder, value=args[0])
            intp = context.get_value_type(types.intp)
            off_v = context.cast(builder, args[1], sig.args[1], types.intp)
            dims_v = [
                context.cast(builder, v, t, types.intp)
                for v, t in zip(args[2:], sig.args[2:])
            ]
            itemsize = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
            strides, step = [], ir_const(intp, itemsize)
            for d in reversed(dims_v):
                strides.insert(0, step)
                step = builder.mul(step, d)
            out = make_array(ret)(context, builder)
            populate_array(
                out,
                data=builder.gep(src.data, [off_v]),
                shape=cgutils.pack_array(builder, dims_v),
                strides=cgutils.pack_array(builder, strides),
                itemsize=ir_const(intp, itemsize),
                meminfo=src.meminfo,
                parent=src.parent,
            )
            return impl_ret_borrowed(context, builder, ret, out._getvalue())

        return codegen

    @intrinsic
    def view2d(typingctx, base, off, rows, cols):
        if not _typed(base, off, (rows, cols)):
            return None
        ret = types.Array(base.dtype, 2, "C")
        return ret(base, off, rows, cols), _codegen(2)

    @intrinsic
    def view1d(typingctx, base, off, n):
        if not _typed(base, off, (n,)):
            return None
        ret = types.Array(base.dtype, 1, "C")
        return ret(base, off, n), _codegen(1)

    def ir_const(ty, value):
        from llvmlite import ir

        return ir.Constant(ty, value)
