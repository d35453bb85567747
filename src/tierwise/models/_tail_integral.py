"""The tail integral behind Pareto/NBD's ``A0`` term, for any ratio of ``alpha`` and ``beta``.

``I(t) = integral_t^inf (A+u)**-p (B+u)**-q du`` with ``A >= B > 0``, ``p, q > 0`` and
``c = p + q > 1``. Two evaluations, each with its exact gradient:

* **Series** (:func:`hyp2f1_1pq`). ``(c-1) I = (A+t)**-p (B+t)**(1-q) 2F1(1, p; c; z)`` with
  ``z = (A-B)/(A+t)``: a series of positive terms, fast when ``z`` is not near 1 or when ``q``
  is large (its terms then fall like ``n**-q`` even at ``z = 1``).
* **Quadrature** (:func:`_log_tail_quadrature`), where the series would need more than
  ``SERIES_LIMIT`` terms (``(A+t)/(B+t)`` beyond about 6-10 unless ``q`` is large).
  ``sigma = (A-B)/(A+u)`` maps ``[t, inf)`` onto ``[0, z]``:
  ``I = (A-B)**(1-c) integral_0^z sigma**(c-2) (1-sigma)**-q d sigma``. The part on
  ``[0, 1/2]`` is ``2**-p 2F1(1, p; c; 1/2) / (c-1)`` (the series at ``z = 1/2``, ~50 terms);
  the rest, with ``rho = 1 - sigma = exp(y)``, is
  ``S2 = integral_{log eps}^{-log 2} exp(g(y)) dy``, ``g = (1-q) y + (c-2) log(1 - e**y)``,
  ``eps = 1 - z = (B+t)/(A+t)``. The lower limit absorbs the scale ``eps`` (down to ``1e-300``
  costs nothing more), and ``g`` is concave for ``c >= 2``: Gauss-Legendre panels are placed
  between the points where ``g`` is 1, 4, 12 and 40 below its maximum (found by Newton steps,
  which approach from the outside without overshooting on a concave function), so a narrow peak
  for large ``x`` and a long flat tail for small ``q`` are resolved alike. For ``c < 2`` ``g`` is
  nearly linear (``|g''| <= 2``) and equal panels suffice. The gradient integrates the
  derivatives of ``g`` on the same nodes; the lower limit contributes ``-exp(g(log eps))``.

Both forms are checked against mpmath (tests/test_models_pareto.py) over ratios up to 1e6.
"""

from __future__ import annotations

import itertools

import numpy as np

from tierwise.models._summary import TINY

MAX_TERMS = 8192          # the series refuses arguments needing more terms than this
SERIES_LIMIT = 256        # beyond this many terms the quadrature is cheaper (and always works)
TABLE_TERMS = 1024        # coefficients tabulated for every code up to this many terms
BLOCK_ELEMENTS = 4_000_000
SERIES_TOL = 1e-14        # bound on the truncated tail of the series and its derivatives
LEVELS = (40.0, 12.0, 4.0, 1.0)   # panel edges: where g is this far below its maximum
GRADING = 2.0 ** np.arange(1, 7) - 1.0   # and this far below the upper end
NEWTON_STEPS = 10
#: Rows of the quadrature evaluated together (:func:`_log_s2`): 512 x 320 nodes, ~1.3 MB an array.
QUAD_BLOCK_ROWS = 512
GL_X, GL_W = np.polynomial.legendre.leggauss(16)
LOG2 = float(np.log(2.0))


class SeriesDiverged(ArithmeticError):
    """A hypergeometric argument is so close to 1 that the series would need too many terms."""


def _terms_needed(z, p_u, q_u, code, tol: float = SERIES_TOL):
    """Smallest of 16, 32, ..., ``MAX_TERMS`` terms whose truncated tail is below ``tol``
    (``inf`` when none is).

    With ``c_n = (p)_n/(p+q)_n`` and ``a = p+q+N``, ``c_(N+k)/c_N <= (a/(a+k))**q`` and
    ``c_N <= ((p+q)/a)**q``, so the tail of ``sum c_n z**n`` after ``N`` terms is at most
    ``c_N z**N min(1/(1-z), 1 + a/(q-1))`` and that of ``sum n c_n z**(n-1)`` at most
    ``c_N z**(N-1) min(2 max(a/(1-z), 1/(1-z)**2), a (1 + a/(q-2)))``; the ``p``, ``q``
    derivatives add a factor below ``1 + 1/p + log(1 + N/p)`` (times 2 for the growth beyond
    ``N``). Row ``i`` has ``p = p_u[code[i]]``, ``q = q_u[code[i]]``; the terms in ``p`` and
    ``q`` alone are computed once per code.
    """
    z = np.asarray(z, dtype=float)
    code = np.asarray(code)
    sizes = 16.0 * 2.0 ** np.arange(int(np.log2(MAX_TERMS / 16)) + 1)
    pu, qu = np.asarray(p_u, float)[:, None], np.asarray(q_u, float)[:, None]
    a = pu + qu + sizes
    with np.errstate(divide="ignore", invalid="ignore"):
        log_c = qu * (np.log(pu + qu) - np.log(a))
        m_f = np.where(qu > 1, np.log1p(a / (qu - 1)), np.inf)
        m_fz = np.where(qu > 2, np.log(a) + np.log1p(a / (qu - 2)), np.inf)
        deriv = np.log(2.0 * (1.0 + 1.0 / pu + np.log1p(sizes / pu)))
        log_z = np.log(z)
        inv = -np.log1p(-z)
    log_a, log_tol = np.log(a), np.log(tol)

    def converged(k):  # is the bound below tol with sizes[k] terms? (k per row)
        i = (code, k)
        f = np.minimum(inv, m_f[i]) + deriv[i]
        fz = np.minimum(LOG2 + np.maximum(log_a[i] + inv, 2.0 * inv), m_fz[i]) - log_z
        with np.errstate(invalid="ignore"):
            return (log_c[i] + sizes[k] * log_z + np.maximum(f, fz) <= log_tol) | (z == 0)

    lo, hi = np.zeros(len(z), dtype=int), np.full(len(z), len(sizes))
    while np.any(lo < hi):  # binary search: the bound falls with the number of terms
        mid = (lo + hi) // 2
        ok = converged(np.minimum(mid, len(sizes) - 1)) & (mid < len(sizes))
        hi, lo = np.where(ok, mid, hi), np.where(ok | (lo >= hi), lo, mid + 1)
    return np.where(lo < len(sizes), sizes[np.minimum(lo, len(sizes) - 1)], np.inf)


def _coefficients(p_u, q_u, n_terms):
    """Per code (axis 0): ``c_n = (p)_n/(p+q)_n``, ``dc_n/dp``, ``dc_n/dq``, ``(n+1) c_(n+1)``."""
    k = np.arange(n_terms, dtype=float)
    p, q = p_u[:, None], q_u[:, None]
    ratio = (p + k) / (p + q + k)
    c = np.concatenate([np.ones((len(p_u), 1)), np.cumprod(ratio, axis=1)], axis=1)
    inc_p = 1.0 / (p + k) - 1.0 / (p + q + k)
    inc_q = -1.0 / (p + q + k)
    zero = np.zeros((len(p_u), 1))
    dlog_p = np.concatenate([zero, np.cumsum(inc_p, axis=1)[:, :-1]], axis=1)
    dlog_q = np.concatenate([zero, np.cumsum(inc_q, axis=1)[:, :-1]], axis=1)
    c[c < TINY] = 0.0
    c_n = c[:, :-1]
    return np.stack([c_n, c_n * dlog_p, c_n * dlog_q, (k + 1.0) * c[:, 1:]], axis=1)


def hyp2f1_1pq(p_u, q_u, code, z, tol: float = SERIES_TOL, sizes=None):
    """``F = 2F1(1, p; p+q; z)`` and its partial derivatives ``F_p``, ``F_q``, ``F_z``.

    Row ``i`` has ``p = p_u[code[i]]``, ``q = q_u[code[i]]`` (``p, q > 0``) and ``0 <= z[i] < 1``.
    The series ``sum_n (p)_n / (p+q)_n z**n`` has positive terms whose ratio
    ``(p+n) z / (p+q+n)`` stays below ``z``: it converges with no cancellation, and so do its
    term-by-term derivatives. The coefficients depend on the code only (in the likelihood, on
    the frequency), so rows are grouped by how many terms they need (:func:`_terms_needed`) and
    by code, and each group is one matrix product of the powers of ``z`` with the coefficients.
    ``sizes`` (per row) skips that count when the caller has it.

    Raises
    ------
    SeriesDiverged
        When some row would need more than ``MAX_TERMS`` terms (``z`` near 1 and ``q`` small);
        :func:`log_tail_integral` evaluates those rows by quadrature instead.
    """
    z = np.asarray(z, dtype=float)
    code = np.asarray(code)
    p_u, q_u = np.asarray(p_u, float), np.asarray(q_u, float)
    if sizes is None:
        sizes = _terms_needed(z, p_u, q_u, code, tol)
    if sizes.max(initial=0) > MAX_TERMS:
        raise SeriesDiverged(f"z = {z.max():.8f} needs more than {MAX_TERMS} series terms")
    n_table = int(min(sizes.max(initial=16), TABLE_TERMS))
    table = _coefficients(p_u, q_u, n_table)  # all codes, the common short series
    order = np.lexsort((code, sizes))
    out = np.empty((len(z), 4))
    z_sorted, code_sorted, size_sorted = z[order], code[order], sizes[order]
    cuts = np.flatnonzero((np.diff(size_sorted) != 0) | (np.diff(code_sorted) != 0)) + 1
    bounds = np.concatenate([[0], cuts, [len(z)]])
    for lo, hi in itertools.pairwise(bounds):
        n_terms, u = int(size_sorted[lo]), code_sorted[lo]
        coef = (table[u] if n_terms <= n_table
                else _coefficients(p_u[u:u + 1], q_u[u:u + 1], n_terms)[0])
        step = max(1, BLOCK_ELEMENTS // n_terms)  # bound the memory of the powers matrix
        for start in range(lo, hi, step):
            stop = min(hi, start + step)
            powers = np.ones((stop - start, n_terms))
            powers[:, 1:] = np.cumprod(
                np.broadcast_to(z_sorted[start:stop, None], (stop - start, n_terms - 1)), axis=1)
            powers[powers < TINY] = 0.0  # subnormal numbers make arithmetic ~100x slower
            out[order[start:stop]] = np.stack(
                [np.einsum("ij,j->i", powers, coef[j, :n_terms]) for j in range(4)], axis=1)
    return out[:, 0], out[:, 1], out[:, 2], out[:, 3]


def _series_rows(p, q, A, B, t, p_u, q_u, code, sizes):
    """Log of ``(c-1) I`` and its derivatives in ``(p, q, A, B)`` from the series."""
    At, Bt = A + t, B + t
    log_At, log_Bt = np.log(At), np.log(Bt)
    F, F_p, F_q, F_z = hyp2f1_1pq(p_u, q_u, code, (A - B) / At, sizes=sizes)
    value = -p * log_At + (1.0 - q) * log_Bt + np.log(F)
    d_p = -log_At + F_p / F
    d_q = -log_Bt + F_q / F
    d_A = -p / At + F_z / F * Bt / At ** 2
    d_B = (1.0 - q) / Bt - F_z / F / At
    return value, np.stack([d_p, d_q, d_A, d_B])


def _g(y, q, cm2):
    """``g(y) = (1-q) y + (c-2) log(1 - e**y)`` and ``g'(y)``."""
    u = np.exp(y)
    return (1.0 - q) * y + cm2 * np.log1p(-u), (1.0 - q) - cm2 * u / (1.0 - u)


def _level_edges(start, stop, target, q, cm2):
    """Where the monotone concave ``g`` crosses ``target`` between ``start`` (below it) and
    ``stop``; Newton steps from ``start``, clipped to the interval."""
    lo, hi = np.minimum(start, stop), np.maximum(start, stop)
    y = np.broadcast_to(start, target.shape).copy()
    below = _g(start, q, cm2)[0] < target
    for _ in range(NEWTON_STEPS):
        g, g1 = _g(y, q, cm2)
        slope = np.where(np.abs(g1) > TINY, g1, np.copysign(TINY, stop - start))
        y = np.clip(y + (target - g) / slope, lo, hi)
    return np.where(below, y, start)


def _panel_edges(a, q, c):
    """Sorted panel edges (rows x 15) on ``[a, -log 2]`` and the maximum of ``g`` on it.

    For ``c >= 2`` (``g`` concave) the edges are where ``g`` is ``LEVELS`` below its maximum on
    either side of it (outside the outer ones the integrand is below ``e**-40`` of its peak);
    for ``c < 2`` (``g`` convex, ``|g''| <= 2``) they are equally spaced. Edges ``1, 3, 7, ...``
    from the upper end are added in both cases: ``log(1 - e**y)`` has a branch point at
    ``y = 0``, and panels that grow with their distance from it keep Gauss-Legendre accurate.
    """
    b = np.full_like(a, -LOG2)
    cm2 = c - 2.0
    p = c - q
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = np.log((1.0 - q) / (p - 1.0))
    mode = np.clip(np.where(q < 1.0, np.where(p > 1.0, inner, b), a), a, b)
    gmax = _g(mode, q, cm2)[0]
    levels = np.array(LEVELS)
    a_, b_, mode_, gmax_, q_, cm2_ = (v[:, None] for v in (a, b, mode, gmax, q, cm2))
    left = _level_edges(a_, mode_, gmax_ - levels, q_, cm2_)
    right = _level_edges(b_, mode_, gmax_ - levels[::-1], q_, cm2_)
    edges = np.concatenate([left, mode_, right], axis=1)
    flat = cm2 < 0
    if flat.any():
        share = np.linspace(0.0, 1.0, edges.shape[1])
        edges[flat] = a[flat, None] + (b[flat] - a[flat])[:, None] * share
        gmax[flat] = np.maximum(_g(a[flat], q[flat], cm2[flat])[0],
                                _g(b[flat], q[flat], cm2[flat])[0])
    graded = np.clip(b_ - GRADING, edges[:, :1], edges[:, -1:])
    return np.sort(np.concatenate([edges, graded], axis=1), axis=1), gmax


def _log_s2(a, q, c):
    """``log S2`` and ``d log S2 / d(p, q, a)`` with ``a = log eps`` (see the module doc).

    Evaluated :data:`QUAD_BLOCK_ROWS` rows at a time: each row's nodes are independent of the
    other rows', and blocks keep the (rows x nodes) temporaries in the processor's cache
    instead of allocating (and page-faulting) hundreds of megabytes per likelihood evaluation.
    Every row's arithmetic is the same as on the whole array at once.
    """
    edges, gmax = _panel_edges(a, q, c)
    out = np.empty((4, len(a)))
    for start in range(0, len(a), QUAD_BLOCK_ROWS):
        rows = slice(start, start + QUAD_BLOCK_ROWS)
        out[:, rows] = _log_s2_rows(edges[rows], gmax[rows], a[rows], q[rows], c[rows])
    return out[0], out[1], out[2], out[3]


def _log_s2_rows(edges, gmax, a, q, c):
    """:func:`_log_s2` of a block of rows, given their panel edges and the maximum of ``g``."""
    mid = 0.5 * (edges[:, 1:] + edges[:, :-1])
    half = 0.5 * (edges[:, 1:] - edges[:, :-1])
    y = (mid[:, :, None] + half[:, :, None] * GL_X).reshape(len(a), -1)
    w = (half[:, :, None] * GL_W).reshape(len(a), -1)
    qc, cm2 = q[:, None], (c - 2.0)[:, None]
    log1m = np.log1p(-np.exp(y))
    e = w * np.exp(np.maximum((1.0 - qc) * y + cm2 * log1m - gmax[:, None], -700.0))
    s0 = e.sum(axis=1)
    d_p = np.einsum("ij,ij->i", e, log1m) / s0
    d_q = d_p - np.einsum("ij,ij->i", e, y) / s0
    d_a = -np.exp(_g(a, q, c - 2.0)[0] - gmax) / s0
    return gmax + np.log(s0), d_p, d_q, d_a


def _log_tail_quadrature(p, q, A, B, t, p_u, q_u, code, sizes=None):
    """Log of ``(c-1) I`` and its derivatives in ``(p, q, A, B)`` by the split of the module doc:
    ``(c-1) (A-B)**(1-c) (S1 + S2)``, ``S1 = 2**-p 2F1(1, p; c; 1/2) / (c-1)``."""
    c = p + q
    used, inverse = np.unique(code, return_inverse=True)
    F, F_p, F_q, _ = hyp2f1_1pq(p_u[used], q_u[used], np.arange(len(used)),
                                np.full(len(used), 0.5))
    F, F_p, F_q = F[inverse], F_p[inverse], F_q[inverse]
    log_s1 = -p * LOG2 + np.log(F) - np.log(c - 1.0)
    s1_p = -LOG2 + F_p / F - 1.0 / (c - 1.0)
    s1_q = F_q / F - 1.0 / (c - 1.0)
    At, Bt = A + t, B + t
    a = np.log(Bt) - np.log(At)
    log_s2, s2_p, s2_q, s2_a = _log_s2(a, q, c)
    log_s = np.logaddexp(log_s1, log_s2)
    w1, w2 = np.exp(log_s1 - log_s), np.exp(log_s2 - log_s)
    log_d = np.log(A - B)
    value = np.log(c - 1.0) + (1.0 - c) * log_d + log_s
    d_p = 1.0 / (c - 1.0) - log_d + w1 * s1_p + w2 * s2_p
    d_q = 1.0 / (c - 1.0) - log_d + w1 * s1_q + w2 * s2_q
    d_a = w2 * s2_a
    d_A = (1.0 - c) / (A - B) - d_a / At
    d_B = -(1.0 - c) / (A - B) + d_a / Bt
    return value, np.stack([d_p, d_q, d_A, d_B])


def log_tail_integral(pa_u, qb_u, code, alpha, beta, t):
    """``log((pa+qb-1) * integral_t^inf (alpha+u)**-pa (beta+u)**-qb du)`` and its gradient.

    Row ``i`` has exponents ``pa = pa_u[code[i]]``, ``qb = qb_u[code[i]]`` (``pa + qb > 1``)
    and lower limit ``t[i]``. With ``A = max(alpha, beta)``, ``B = min`` and ``(p, q)`` the
    exponents of ``A`` and ``B``, the integral equals
    ``(A+t)**(1-p-q) 2F1(p+q-1, q; p+q; z) / (p+q-1)`` with ``z = (A-B)/(A+t)``, the form of
    Fader & Hardie's ``A0`` (their equations 19-20, which pick the case by ``alpha >= beta``
    exactly like this). Each row is evaluated by the series or by quadrature (module doc),
    whichever is cheaper; any ratio of ``alpha`` and ``beta`` works.

    Returns the log value and a ``(4, n)`` gradient with respect to ``(pa, qb, alpha, beta)``.
    """
    pa_u, qb_u = np.asarray(pa_u, float), np.asarray(qb_u, float)
    t = np.asarray(t, dtype=float)
    code = np.asarray(code)
    swap = alpha < beta
    p_u, q_u, A, B = (qb_u, pa_u, beta, alpha) if swap else (pa_u, qb_u, alpha, beta)
    p, q = p_u[code], q_u[code]
    z = (A - B) / (A + t)
    sizes = _terms_needed(z, p_u, q_u, code)
    quad = (sizes > SERIES_LIMIT) & (z > 0.75)
    value, grad = np.empty(len(t)), np.empty((4, len(t)))
    for rows, evaluate in ((~quad, _series_rows), (quad, _log_tail_quadrature)):
        if rows.any():
            value[rows], grad[:, rows] = evaluate(p[rows], q[rows], A, B, t[rows], p_u, q_u,
                                                  code[rows], sizes[rows])
    return value, (grad[[1, 0, 3, 2]] if swap else grad)
