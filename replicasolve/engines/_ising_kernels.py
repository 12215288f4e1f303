"""Compiled kernels of the Ising replica Monte Carlo (see :mod:`replicasolve.engines.ising`).

Couplings: the "row-segment" format
-----------------------------------
Row ``i`` of the symmetric coupling matrix J is held as ``S`` segments: segment ``g`` covers
the columns ``seg_col[i, g] .. seg_col[i, g] + seg_len[i, g]`` and its values are
``data[seg_ptr[i, g] : seg_ptr[i, g] + seg_len[i, g]]`` (empty segments have length 0).
A dense J is one segment per row (the whole row, zero diagonal included; rows are padded to
whole 64-byte cache lines, so row i starts at ``i * N_pad``); a layered network
is two segments per row (the couplings to the layer below, ``W_l[a, :]``, and to the layer
above, ``W_{l+1}[:, a]``, stored contiguously, so a row is always read as contiguous memory
and nothing is ever densified). Because J is symmetric, row i is also column i: the change of
all local fields when spin i flips is one pass over row i.

State layout
------------
- ``spins``: int8, shape ``(N, C)``, the column (replica) index fastest, so the decision step
  reads the C replicas of spin i from one cache line;
- ``fields``: float32 or float64 (the dtype of ``data``), shape ``(C, N)``: the local fields
  u_i = Σ_j J_ij s_j + h_i of each column. A flipped column's fields change by one AXPY with
  row i of J (contiguous in both operands); row i, read from memory once for the spin, stays
  in L1 while it serves every column that flipped. (Measured here with N = 2330, C = 32 at
  acceptance 0.32: 1.5x (float64) to 2x (float32) faster than the (N, C) field layout, which
  must touch all C columns for every j whether they flipped or not.) Dense couplings use the
  blocked kernels further down (delayed updates, same results bit for bit).

Randomness
----------
The kernels draw no random numbers: the caller passes per-sweep uniforms ``rnd`` of shape
``(C, n_sweeps, N)``, filled column by column from independent numpy ``Generator`` streams,
and one uniform per attempted replica exchange. The trajectories are then a pure function of
those streams (bitwise reproducible, independent of how the run is cut into chunks).

Floating-point order
--------------------
Every field element is built by additions in a fixed order (increasing spin index when
computed from scratch, flip order afterwards), and reductions are not reassociated
(``fastmath=False``), so a dense matrix and the layered segments of the same J give
bitwise-identical trajectories: the dense row only adds exact zeros on top. The blocked
dense kernels keep this order (they only change when the additions happen and how many
rows share one load and store of a field element), so they too are bitwise identical to
the per-flip kernels; the tests check it against them.

Threads
-------
Columns never interact inside a sweep (own uniforms, own fields, own spins), so the dense
sweep can run disjoint groups of columns on different threads
(:func:`sweep_dense_threads`, driven by :func:`run_chunk_threads`): each column gets the
same additions in the same order as on one thread, so the results are bitwise the same for
any grouping. The parallel code lives in its own entry point, so one-thread runs never
compile or load it.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..jit import njit


@njit(inline="always")
def _axpy(y, x, a):
    # y and x are contiguous views of equal length; vectorised by LLVM
    for j in range(y.shape[0]):
        y[j] += a * x[j]


@njit
def fresh_fields(data, seg_col, seg_len, seg_ptr, h, spins, out):
    """``out[c, :] = h + J s[:, c]`` for every column, summed row by row in spin order."""
    n = spins.shape[0]
    ncol = spins.shape[1]
    for c in range(ncol):
        for j in range(n):
            out[c, j] = h[j]
    one = out.dtype.type(1.0)
    for i in range(n):
        for c in range(ncol):
            s = one if spins[i, c] > 0 else -one
            _flip_update(data, seg_col, seg_len, seg_ptr, out, i, c, s)


@njit
def _adopt_fresh(fields, scratch, n):
    """Copy the fresh fields over the kept ones (first n columns); returns max |kept - fresh|."""
    drift = 0.0
    for c in range(fields.shape[0]):
        for j in range(n):
            d = abs(float(fields[c, j]) - float(scratch[c, j]))
            if d > drift:
                drift = d
            fields[c, j] = scratch[c, j]
    return drift


@njit
def resync_fields(data, seg_col, seg_len, seg_ptr, h, spins, fields, scratch):
    """Replace the incrementally kept fields by fresh ones; returns max |kept - fresh|."""
    fresh_fields(data, seg_col, seg_len, seg_ptr, h, spins, scratch)
    return _adopt_fresh(fields, scratch, spins.shape[0])


@njit
def _flip_update(data, seg_col, seg_len, seg_ptr, fields, i, c, delta):
    nseg = seg_col.shape[1]
    for g in range(nseg):
        ln = seg_len[i, g]
        if ln == 0:
            continue
        p = seg_ptr[i, g]
        c0 = seg_col[i, g]
        _axpy(fields[c, c0 : c0 + ln], data[p : p + ln], delta)


@njit
def sweep(data, seg_col, seg_len, seg_ptr, spins, fields, col_beta, rnd, t, heatbath,
          temp_of_col, flips_by_temp, count, idx, dl):
    """One sequential sweep (spins 0..N-1) of every column.

    Per spin: decide the flip of all C columns (ΔE = 2 s_i u_i; Metropolis accepts with
    min(1, e^{-βΔE}), heat-bath/Glauber flips with 1/(1 + e^{βΔE})), then update the fields of
    the flipped columns with row i of J. ``rnd[c, t, i]`` is the uniform of column c.
    """
    n = spins.shape[0]
    ncol = spins.shape[1]
    two = fields.dtype.type(2.0)
    for i in range(n):
        m = 0
        for c in range(ncol):
            si = spins[i, c]
            de = 2.0 * si * float(fields[c, i])
            b = col_beta[c]
            x = rnd[c, t, i]
            if heatbath:
                bde = b * de
                if bde > 0.0:
                    e = math.exp(-bde)
                    accept = x * (1.0 + e) < e
                else:
                    accept = x * (1.0 + math.exp(bde)) < 1.0
            else:
                accept = de <= 0.0 or x < math.exp(-b * de)
            if accept:
                spins[i, c] = -si
                idx[m] = c
                # u_j changes by J_ji (s_new - s_old) = -2 s_old J_ji
                dl[m] = -two if si > 0 else two
                m += 1
                if count:
                    flips_by_temp[temp_of_col[c]] += 1
        for k in range(m):
            _flip_update(data, seg_col, seg_len, seg_ptr, fields, i, idx[k], dl[k])


# --------------------------------------------------------------------------- dense, blocked
#
# Dense couplings are swept in blocks of B consecutive spins with delayed field updates
# (see the module docstring of :mod:`replicasolve.engines.ising`, "Performance"):
#
# 1. decide: for spin i of the block, the current field of column c is its field at the
#    start of the block plus the flips of the earlier spins of the block in that column,
#    kept in ``pend[c, :]`` (B values per column; a flip of spin k adds -2 s_k J[k, i0:i1]
#    to the rest of the block, an O(B) update). The flip (spin, ±2) is appended to the
#    column's list ``rows[c, :nf[c]]``, ``sg[c, :nf[c]]``.
# 2. apply: every column's fields get the sum of its flipped rows of J, tile by tile of
#    columns j; for one tile and one column up to 8 rows are added in one pass, the field
#    element kept in a register (one load and one store per 8 rows instead of per row), and
#    the B x tile block of J serves all C columns from cache.
#
# Each field element still receives its terms one by one, in flip order, exactly as the
# per-flip update does (``y = (((y + a0 r0) + a1 r1) + ...)``, a_k = ±2 or ±1 makes every
# product exact, and nothing is reassociated), so the trajectories, the kept fields and
# every reported number are bitwise identical to the unblocked kernel whatever B, the tile
# width and the number of columns beside a column.


@njit(inline="always")
def _acc_rows(y, J, rows, sg, m, j0, j1):
    # y[j] += sg[p] * J[rows[p], j0 + j] for p = 0..m-1 in this order, j < j1 - j0
    # (y is the tile j0:j1 of one column's fields); slices keep the loops vectorisable
    p = 0
    while p + 8 <= m:
        r0 = J[rows[p], j0:j1]
        r1 = J[rows[p + 1], j0:j1]
        r2 = J[rows[p + 2], j0:j1]
        r3 = J[rows[p + 3], j0:j1]
        r4 = J[rows[p + 4], j0:j1]
        r5 = J[rows[p + 5], j0:j1]
        r6 = J[rows[p + 6], j0:j1]
        r7 = J[rows[p + 7], j0:j1]
        a0 = sg[p]
        a1 = sg[p + 1]
        a2 = sg[p + 2]
        a3 = sg[p + 3]
        a4 = sg[p + 4]
        a5 = sg[p + 5]
        a6 = sg[p + 6]
        a7 = sg[p + 7]
        for j in range(y.shape[0]):
            y[j] = (((((((y[j] + a0 * r0[j]) + a1 * r1[j]) + a2 * r2[j]) + a3 * r3[j])
                      + a4 * r4[j]) + a5 * r5[j]) + a6 * r6[j]) + a7 * r7[j]
        p += 8
    if p + 4 <= m:
        r0 = J[rows[p], j0:j1]
        r1 = J[rows[p + 1], j0:j1]
        r2 = J[rows[p + 2], j0:j1]
        r3 = J[rows[p + 3], j0:j1]
        a0 = sg[p]
        a1 = sg[p + 1]
        a2 = sg[p + 2]
        a3 = sg[p + 3]
        for j in range(y.shape[0]):
            y[j] = (((y[j] + a0 * r0[j]) + a1 * r1[j]) + a2 * r2[j]) + a3 * r3[j]
        p += 4
    if p + 2 <= m:
        r0 = J[rows[p], j0:j1]
        r1 = J[rows[p + 1], j0:j1]
        a0 = sg[p]
        a1 = sg[p + 1]
        for j in range(y.shape[0]):
            y[j] = (y[j] + a0 * r0[j]) + a1 * r1[j]
        p += 2
    if p < m:
        r0 = J[rows[p], j0:j1]
        a0 = sg[p]
        for j in range(y.shape[0]):
            y[j] = y[j] + a0 * r0[j]


# "contract" lets LLVM fuse y + a * r into one FMA: a = ±1 or ±2, so a * r is exact and the
# fused and unfused results are the same bits (measured: 5-18 % faster updates)
@njit(fastmath={"contract"})
def _apply_rows(J, fields, rows, sg, nf, tile, c0, c1):
    """``fields[c, :n] += Σ_p sg[c, p] J[rows[c, p], :n]`` (p in order) for the columns
    c0 <= c < c1 (n = ``J.shape[0]``; columns beyond, the padding of the rows, are not
    touched). ``sg`` must be ±1 or ±2 (exact products: see the FMA note above)."""
    n = J.shape[0]
    for j0 in range(0, n, tile):
        j1 = min(j0 + tile, n)
        for c in range(c0, c1):
            if nf[c] > 0:
                _acc_rows(fields[c, j0:j1], J, rows[c], sg[c], nf[c], j0, j1)


@njit
def fresh_fields_dense(J, h, spins, out, bsize, tile, rows, sg, nf):
    """:func:`fresh_fields` for a dense ``J`` of shape (N, N + padding): the same sums in
    the same order (h, then the rows of J in increasing spin order), added block by block."""
    n = spins.shape[0]
    ncol = spins.shape[1]
    one = out.dtype.type(1.0)
    for c in range(ncol):
        for j in range(n):
            out[c, j] = h[j]
    for i0 in range(0, n, bsize):
        i1 = min(i0 + bsize, n)
        for c in range(ncol):
            for i in range(i0, i1):
                rows[c, i - i0] = i
                sg[c, i - i0] = one if spins[i, c] > 0 else -one
            nf[c] = i1 - i0
        _apply_rows(J, out, rows, sg, nf, tile, 0, ncol)


@njit
def resync_fields_dense(J, h, spins, fields, scratch, bsize, tile, rows, sg, nf):
    """:func:`resync_fields` for a dense ``J``; returns max |kept - fresh|."""
    fresh_fields_dense(J, h, spins, scratch, bsize, tile, rows, sg, nf)
    return _adopt_fresh(fields, scratch, spins.shape[0])


@njit
def sweep_dense(J, spins, fields, col_beta, rnd, t, heatbath, temp_of_col, flips_by_temp,
                count, bsize, tile, rows, sg, nf, pend, xs, code, c0, c1):
    """:func:`sweep` for a dense ``J`` of shape (N, N + padding), blocked (see above): the
    same decisions from the same field values, hence the same trajectory bit for bit.

    Per spin, the decisions of all C columns are first made in one branch-free loop over
    the columns (vectorised by LLVM), which settles all but a few of them without an
    exponential: e^y ≥ P(y) = 1 + y + y²/2 + y³/6 for y ≥ 0, so x·P(y) > 1 + 1e-9 means
    x > e^{-y} by far more than the rounding of ``exp`` and of P (< 1e-15 relative each),
    and the test against ``exp`` would reject too; in heat-bath, x < 1/2 accepts whenever
    ΔE ≤ 0 (then 1 + e^{βΔE} ≤ 2). The rest (``code`` 2) are decided exactly as in
    :func:`sweep`. ``rows``, ``sg``: (C, bsize) scratch; ``pend``, ``xs``: (bsize, C)
    scratch (the block's fields and uniforms, column index fastest); ``nf``: (C,) int64
    and ``code``: (C,) int8 scratch.

    Only the columns c0 <= c < c1 are swept and only their entries of the scratch arrays
    are touched (columns are independent), so disjoint column ranges may be swept at the
    same time by different threads (:func:`sweep_dense_threads`).
    """
    n = spins.shape[0]
    two = fields.dtype.type(2.0)
    thresh = 1.000000001
    for i0 in range(0, n, bsize):
        i1 = min(i0 + bsize, n)
        bl = i1 - i0
        for c in range(c0, c1):
            nf[c] = 0
            for b in range(bl):
                pend[b, c] = fields[c, i0 + b]
                xs[b, c] = rnd[c, t, i0 + b]
        for i in range(i0, i1):
            bi = i - i0
            jb = J[i, i0:i1]
            sp = spins[i]
            pu = pend[bi]
            xu = xs[bi]
            # code: 0 reject, 1 accept, 2 undecided (needs exp); branch-free, vectorised
            for c in range(c0, c1):
                de = 2.0 * sp[c] * float(pu[c])
                y = col_beta[c] * de
                x = xu[c]
                far = x * (1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0)))) > thresh
                if heatbath:
                    if y > 0.0:
                        code[c] = 0 if far else 2
                    else:
                        code[c] = 1 if x < 0.5 else 2
                elif de <= 0.0:
                    code[c] = 1
                else:
                    code[c] = 0 if far else 2
            for c in range(c0, c1):
                if code[c] == 2:
                    de = 2.0 * sp[c] * float(pu[c])
                    y = col_beta[c] * de
                    x = xu[c]
                    if heatbath:
                        if y > 0.0:
                            e = math.exp(-y)
                            code[c] = x * (1.0 + e) < e
                        else:
                            code[c] = x * (1.0 + math.exp(y)) < 1.0
                    else:
                        code[c] = x < math.exp(-y)
            for c in range(c0, c1):
                if code[c] == 1:
                    si = sp[c]
                    sp[c] = -si
                    a = -two if si > 0 else two
                    q = nf[c]
                    rows[c, q] = i
                    sg[c, q] = a
                    nf[c] = q + 1
                    for k in range(bi + 1, bl):
                        pend[k, c] += a * jb[k]
                    if count:
                        flips_by_temp[temp_of_col[c]] += 1
        _apply_rows(J, fields, rows, sg, nf, tile, c0, c1)


@njit(parallel=True)
def sweep_dense_threads(J, spins, fields, col_beta, rnd, t, heatbath, temp_of_col, flips_g,
                        count, bsize, tile, rows, sg, nf_g, pend, xs, code_g, bounds):
    """:func:`sweep_dense` of the column groups ``bounds[g] <= c < bounds[g + 1]`` in
    parallel (``numba.prange``, one group per iteration; the number of threads is numba's
    current one, and the caller makes one group per thread). Each group sweeps all of J,
    block by block in the same order, with no synchronisation inside the sweep: threads
    given equal shares of the columns keep about the same pace, so the block one thread
    reads from memory is still in the shared last-level cache when the others read it
    (they would have to drift apart by most of a cache's worth of J not to share it).
    Each column's trajectory is that of the one-thread sweep, bit for bit. ``flips_g``, ``nf_g``,
    ``code_g``: per-group rows (group g counts its flips in ``flips_g[g]``; the caller
    adds them up), each row a separate cache line so that the threads do not share lines
    they write; ``rows``, ``sg``, ``pend``, ``xs``: shared, each group touching only its
    columns.
    """
    for g in numba.prange(bounds.shape[0] - 1):
        sweep_dense(J, spins, fields, col_beta, rnd, t, heatbath, temp_of_col, flips_g[g],
                    count, bsize, tile, rows, sg, nf_g[g], pend, xs, code_g[g], bounds[g],
                    bounds[g + 1])


@njit
def quench(data, seg_col, seg_len, seg_ptr, spins, fields, max_sweeps):
    """Greedy zero-temperature descent of every column: flip any spin with ΔE < 0, in
    sequential order, until a sweep flips nothing (or ``max_sweeps``). Returns the sweeps
    used. Deterministic: the result is a local minimum reached from the given start."""
    n = spins.shape[0]
    ncol = spins.shape[1]
    two = fields.dtype.type(2.0)
    for s in range(max_sweeps):
        flipped = 0
        for i in range(n):
            for c in range(ncol):
                si = spins[i, c]
                if 2.0 * si * float(fields[c, i]) < 0.0:
                    spins[i, c] = -si
                    flipped += 1
                    _flip_update(data, seg_col, seg_len, seg_ptr, fields, i, c,
                                 -two if si > 0 else two)
        if flipped == 0:
            return s + 1
    return max_sweeps


@njit
def column_energy(spins, fields, h64, c):
    """Total energy H of column c from its kept fields: -1/2 Σ_i s_i (u_i + h_i)."""
    e = 0.0
    for i in range(spins.shape[0]):
        e += spins[i, c] * (float(fields[c, i]) + h64[i])
    return -0.5 * e


@njit
def measure(spins, fields, h64, col_of_slot, row, energies, mags, overlaps, buf):
    """Record energy per spin, magnetization and all pair overlaps Q_ab (a < b) of each
    temperature slot into row ``row`` of the output arrays. ``buf``: int8 (R, N) scratch."""
    n = spins.shape[0]
    nt = col_of_slot.shape[0]
    nr = col_of_slot.shape[1]
    for k in range(nt):
        for a in range(nr):
            c = col_of_slot[k, a]
            energies[row, k, a] = column_energy(spins, fields, h64, c) / n
            msum = 0
            for i in range(n):
                v = spins[i, c]
                buf[a, i] = v
                msum += v
            mags[row, k, a] = msum / n
        if overlaps.shape[2] == 0:
            continue
        p = 0
        for a in range(nr):
            for b in range(a + 1, nr):
                acc = 0
                for i in range(n):  # integer reduction: vectorised, exact
                    acc += np.int32(buf[a, i]) * np.int32(buf[b, i])
                overlaps[row, k, p] = acc / n
                p += 1


@njit
def _exchange(spins, fields, h64, betas, col_beta, temp_of_col, col_of_slot, swap_u,
              count, swap_tries, swap_accepts):
    nt = col_of_slot.shape[0]
    nr = col_of_slot.shape[1]
    for a in range(nr):
        for k in range(nt - 1):
            c1 = col_of_slot[k, a]
            c2 = col_of_slot[k + 1, a]
            e1 = column_energy(spins, fields, h64, c1)
            e2 = column_energy(spins, fields, h64, c2)
            # detailed balance of the pair: min(1, exp[(β_k - β_{k+1})(E_k - E_{k+1})])
            x = (betas[k] - betas[k + 1]) * (e1 - e2)
            ok = x >= 0.0 or swap_u[a, k] < math.exp(x)
            if count:
                swap_tries[k] += 1
            if ok:
                col_of_slot[k, a] = c2
                col_of_slot[k + 1, a] = c1
                temp_of_col[c1] = k + 1
                temp_of_col[c2] = k
                col_beta[c1] = betas[k + 1]
                col_beta[c2] = betas[k]
                if count:
                    swap_accepts[k] += 1


@njit
def _track_round_trips(temp_of_col, nt, rt_state, round_trips, count):
    # state 1: last extreme visited was the lowest T; 2: reached the highest T since then
    for c in range(temp_of_col.shape[0]):
        k = temp_of_col[c]
        if k == 0:
            if rt_state[c] == 2 and count:
                round_trips[c] += 1
            rt_state[c] = 1
        elif k == nt - 1 and rt_state[c] == 1:
            rt_state[c] = 2


@njit
def run_chunk(data, seg_col, seg_len, seg_ptr, h, h64, spins, fields, scratch,
              betas, col_beta, temp_of_col, col_of_slot, rnd, swap_rnd, heatbath,
              g0, n_sweeps, burn_in, measure_every, swap_every, resync_every,
              energies, mags, overlaps, flips_by_temp, swap_tries, swap_accepts,
              rt_state, round_trips, drift, idx, dl, buf,
              dense_j, bsize, tile, rows, sg, nf, pend, xs, code):
    """Run global sweeps ``g0 .. g0 + n_sweeps - 1`` of a replica / parallel-tempering run.

    After each sweep g (in this order): resync the fields if (g + 1) % resync_every == 0
    (resync_every > 0), attempt replica exchanges if there are several temperatures and
    (g + 1) % swap_every == 0 (consuming the next row of ``swap_rnd``), and record a
    measurement if g >= burn_in and (g - burn_in + 1) % measure_every == 0. Counters (flips,
    swaps, round trips) only count production sweeps (g >= burn_in). ``drift[0]`` keeps the
    largest field drift found at a resync.

    ``bsize > 0``: ``dense_j`` is J as an (N, N) array and the sweeps and resyncs use the
    blocked dense kernels (:func:`sweep_dense`, block ``bsize``, tile ``tile``, scratch
    ``rows``, ``sg``, ``pend`` of shape (C, bsize) and ``nf`` (C,)), which give bitwise the
    same results as the row-segment kernels used when ``bsize == 0``.
    """
    ncol = spins.shape[1]
    n_swap = 0
    for t in range(n_sweeps):
        g = g0 + t
        prod = g >= burn_in
        if bsize > 0:
            sweep_dense(dense_j, spins, fields, col_beta, rnd, t, heatbath, temp_of_col,
                        flips_by_temp, prod, bsize, tile, rows, sg, nf, pend, xs, code, 0,
                        ncol)
        else:
            sweep(data, seg_col, seg_len, seg_ptr, spins, fields, col_beta, rnd, t, heatbath,
                  temp_of_col, flips_by_temp, prod, idx, dl)
        n_swap = _after_sweep(data, seg_col, seg_len, seg_ptr, h, h64, spins, fields,
                              scratch, betas, col_beta, temp_of_col, col_of_slot, swap_rnd, g,
                              burn_in, measure_every, swap_every, resync_every, energies,
                              mags, overlaps, swap_tries, swap_accepts, rt_state,
                              round_trips, drift, buf, dense_j, bsize, tile, rows, sg, nf,
                              n_swap)
    return n_swap


@njit
def run_chunk_threads(data, seg_col, seg_len, seg_ptr, h, h64, spins, fields, scratch,
                      betas, col_beta, temp_of_col, col_of_slot, rnd, swap_rnd, heatbath,
                      g0, n_sweeps, burn_in, measure_every, swap_every, resync_every,
                      energies, mags, overlaps, flips_by_temp, swap_tries, swap_accepts,
                      rt_state, round_trips, drift, buf,
                      dense_j, bsize, tile, rows, sg, nf, pend, xs, flips_g, nf_g, code_g,
                      bounds):
    """:func:`run_chunk` for dense couplings (``bsize > 0``) with the sweeps run by
    :func:`sweep_dense_threads` on the column groups ``bounds`` (scratch ``flips_g``,
    ``nf_g``, ``code_g``: one row per group); everything between sweeps (resyncs,
    exchanges, measurements) is the same code as in :func:`run_chunk`, on one thread, so
    the results are bitwise those of :func:`run_chunk`. A separate entry point, so that
    one-thread runs never load the parallel code."""
    n_swap = 0
    for t in range(n_sweeps):
        g = g0 + t
        prod = g >= burn_in
        sweep_dense_threads(dense_j, spins, fields, col_beta, rnd, t, heatbath, temp_of_col,
                            flips_g, prod, bsize, tile, rows, sg, nf_g, pend, xs, code_g,
                            bounds)
        if prod:
            for q in range(bounds.shape[0] - 1):  # (not g: that is the sweep index)
                for k in range(flips_by_temp.shape[0]):
                    flips_by_temp[k] += flips_g[q, k]
                    flips_g[q, k] = 0
        n_swap = _after_sweep(data, seg_col, seg_len, seg_ptr, h, h64, spins, fields,
                              scratch, betas, col_beta, temp_of_col, col_of_slot, swap_rnd, g,
                              burn_in, measure_every, swap_every, resync_every, energies,
                              mags, overlaps, swap_tries, swap_accepts, rt_state,
                              round_trips, drift, buf, dense_j, bsize, tile, rows, sg, nf,
                              n_swap)
    return n_swap


@njit
def _after_sweep(data, seg_col, seg_len, seg_ptr, h, h64, spins, fields, scratch, betas,
                 col_beta, temp_of_col, col_of_slot, swap_rnd, g, burn_in, measure_every,
                 swap_every, resync_every, energies, mags, overlaps, swap_tries, swap_accepts,
                 rt_state, round_trips, drift, buf, dense_j, bsize, tile, rows, sg, nf,
                 n_swap):
    # what follows sweep g in :func:`run_chunk`; returns the exchange rows used so far
    nt = col_of_slot.shape[0]
    prod = g >= burn_in
    if resync_every > 0 and (g + 1) % resync_every == 0:
        if bsize > 0:
            d = resync_fields_dense(dense_j, h, spins, fields, scratch, bsize, tile, rows,
                                    sg, nf)
        else:
            d = resync_fields(data, seg_col, seg_len, seg_ptr, h, spins, fields, scratch)
        if d > drift[0]:
            drift[0] = d
    if nt > 1 and (g + 1) % swap_every == 0:
        _exchange(spins, fields, h64, betas, col_beta, temp_of_col, col_of_slot,
                  swap_rnd[n_swap], prod, swap_tries, swap_accepts)
        n_swap += 1
        _track_round_trips(temp_of_col, nt, rt_state, round_trips, prod)
    if prod and (g - burn_in + 1) % measure_every == 0:
        row = (g - burn_in + 1) // measure_every - 1
        measure(spins, fields, h64, col_of_slot, row, energies, mags, overlaps, buf)
    return n_swap
