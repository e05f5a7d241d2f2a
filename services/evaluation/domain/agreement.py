"""Inter-rater agreement of a round (R-EVL-6): the share of re-read fails the panel confirmed,
and Fleiss' kappa over the files read by three."""

from __future__ import annotations

from collections.abc import Sequence


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa (Fleiss, J. L. 1971, "Measuring nominal scale agreement among many raters",
    Psychological Bulletin 76(5): 378-382). `table[i][j]`: how many of the n raters of subject i
    put it in category j (every row sums to the same n >= 2). With N subjects:
      P_i = (sum_j n_ij^2 - n) / (n (n - 1))          agreement on subject i
      P   = (1/N) sum_i P_i                            mean observed agreement
      p_j = (1/(N n)) sum_i n_ij                       share of all ratings in category j
      P_e = sum_j p_j^2                                agreement expected by chance
      kappa = (P - P_e) / (1 - P_e)
    None when undefined (no subject, or every rating in one category: P_e = 1)."""
    rows = [list(r) for r in table]
    if not rows:
        return None
    n = sum(rows[0])
    if n < 2 or any(sum(r) != n for r in rows):
        raise ValueError("every subject needs the same number (at least 2) of ratings")
    big_n = len(rows)
    p_bar = sum((sum(c * c for c in r) - n) / (n * (n - 1)) for r in rows) / big_n
    p_e = sum((sum(r[j] for r in rows) / (big_n * n)) ** 2 for j in range(len(rows[0])))
    if p_e == 1:
        return None
    return (p_bar - p_e) / (1 - p_e)
