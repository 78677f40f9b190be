"""A district (or province) satisfaction rate from its communes, as a stratified sample.

Each commune is a stratum h with ``n_h`` responses, ``successes`` of them
satisfied, and ``population`` ``N_h`` = dossiers handled in the period. The
estimate weights communes by their dossier volume, so that one eager desk
collecting many responses cannot dominate the district figure. The numbers
equal R's survey package (Lumley) for ``svydesign(ids = ~1, strata = ~unit,
fpc = ~N)`` and, without the finite-population correction,
``svydesign(ids = ~1, strata = ~unit, weights = ~w)`` with ``w = N_h / n_h``.
"""

import math
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Literal

from scipy import special

from ._validation import check_choice
from ._validation import check_confidence
from ._validation import check_count


def _scipy_stats():
    # scipy.stats is about 45 MB more than scipy.special: imported by the first view
    # that needs it (district comparisons), not by every worker at start.
    from scipy import stats

    return stats


__all__ = [
    "STRATIFIED_METHODS",
    "Stratum",
    "StratifiedProportion",
    "stratified_proportion",
]

StratifiedMethod = Literal["korn-graubard", "logit"]

#: Interval methods accepted by :func:`stratified_proportion`.
STRATIFIED_METHODS: tuple[str, ...] = ("korn-graubard", "logit")

_SINGLE_RESPONSE = ("error", "adjust")

NOTE_CENSUS = "census: every dossier in every stratum was rated, the rate is exact"
NOTE_ZERO_VARIANCE = (
    "zero design variance (every stratum at 0 % or 100 %): Korn-Graubard interval with "
    "the effective sample size set to the number of responses"
)
NOTE_SINGLE_RESPONSE = (
    "stratum with a single response: its variance is measured from the overall rate "
    "(R survey.lonely.psu = 'adjust')"
)


@dataclass(frozen=True)
class Stratum:
    """One stratum (commune): ``successes`` satisfied out of ``n`` responses.

    Attributes
    ----------
    successes : int
        Satisfied responses.
    n : int
        Valid responses.
    population : int
        ``N_h``, dossiers handled in the period (the stratum's weight). Required:
        if the caller has no dossier counts and passes the response counts
        instead, the estimate becomes the pooled rate and the caller must say so.
    label : str, optional
        Used in error messages and in :attr:`StratifiedProportion.dropped`.
    """

    successes: int
    n: int
    population: int
    label: str | None = None


@dataclass(frozen=True)
class StratifiedProportion:
    """Result of :func:`stratified_proportion`.

    Attributes
    ----------
    rate : float
        :math:`\\hat p = \\sum_h W_h p_h`.
    se : float
        Standard error, ``SE(svymean(~y, design))`` in R.
    low, high : float
        Confidence interval, within [0, 1].
    n_effective : float or None
        :math:`\\hat p(1-\\hat p)/\\widehat{V}`, the simple-random-sample size
        with the same precision (before the degrees-of-freedom adjustment);
        the number of responses in the zero-variance fallback; None for a census.
    design_effect : float or None
        Kish's design effect as R defines it: the design variance
        :math:`\\widehat V` divided by the variance of the same mean under
        simple random sampling of the same n from the same population, without
        replacement when ``fpc`` (R ``deff(svymean(~y, design, deff = TRUE))``)
        and with replacement otherwise (``deff = "replace"``). See
        :func:`stratified_proportion`, Notes. None when undefined (census,
        zero variance).
    df : int
        Degrees of freedom, :math:`\\sum_h n_h - H`.
    n : int
        Total responses :math:`\\sum_h n_h`.
    population : int
        Total dossiers :math:`\\sum_h N_h`.
    strata : int
        Number of strata used (H).
    confidence : float
    method : str
    fpc : bool
    note : str or None
        Set when a fallback was used (census, zero variance, single-response
        stratum); None for the ordinary computation.
    dropped : tuple
        Labels (or 0-based positions) of strata ignored because they had no
        dossiers and no responses.
    """

    rate: float
    se: float
    low: float
    high: float
    n_effective: float | None
    design_effect: float | None
    df: int
    n: int
    population: int
    strata: int
    confidence: float
    method: str
    fpc: bool
    note: str | None = None
    dropped: tuple = ()


def _coerce_stratum(item: Any, position: int) -> Stratum:
    if isinstance(item, Stratum):
        stratum = item
    elif isinstance(item, Mapping):
        unknown = set(item) - {"successes", "n", "population", "label"}
        if unknown:
            raise ValueError(
                f"stratum {position} has unknown keys {sorted(map(str, unknown))!r}; "
                "expected 'successes', 'n', 'population' and optionally 'label'"
            )
        missing = {"successes", "n", "population"} - set(item)
        if missing:
            raise ValueError(f"stratum {position} ({dict(item)!r}) lacks {sorted(missing)!r}")
        stratum = Stratum(item["successes"], item["n"], item["population"], item.get("label"))
    elif isinstance(item, tuple | list) and len(item) in (3, 4):
        stratum = Stratum(*item)
    else:
        raise ValueError(
            f"stratum {position} ({item!r}) must be a Stratum, a mapping or a tuple "
            "(successes, n, population[, label])"
        )
    name = f"stratum {stratum.label!r}" if stratum.label is not None else f"stratum {position}"
    successes = check_count(stratum.successes, f"{name} successes")
    n = check_count(stratum.n, f"{name} n")
    population = check_count(stratum.population, f"{name} population")
    if successes > n:
        raise ValueError(f"{name} successes ({successes!r}) must not exceed n ({n!r})")
    if n > population:
        raise ValueError(
            f"{name} n ({n!r}) exceeds population ({population!r}): more responses than "
            "dossiers handled; check the dossier count or duplicate responses"
        )
    return Stratum(successes, n, population, stratum.label)


def _beta_interval(rate: float, n_eff: float, alpha: float) -> tuple[float, float]:
    # R: qbeta(alpha/2, n.eff*p, n.eff*(1-p)+1) and qbeta(1-alpha/2, n.eff*p+1, n.eff*(1-p)),
    # where qbeta with a zero shape parameter is a point mass at 0 (or 1).
    a_low, b_low = n_eff * rate, n_eff * (1.0 - rate) + 1.0
    a_high, b_high = n_eff * rate + 1.0, n_eff * (1.0 - rate)
    low = 0.0 if a_low <= 0.0 else float(special.betaincinv(a_low, b_low, alpha / 2.0))
    high = 1.0 if b_high <= 0.0 else float(special.betaincinv(a_high, b_high, 1.0 - alpha / 2.0))
    return low, high


def stratified_proportion(
    strata: Iterable[Stratum | Mapping[str, Any] | tuple],
    confidence: float = 0.95,
    method: StratifiedMethod = "korn-graubard",
    fpc: bool = True,
    single_response: Literal["error", "adjust"] = "error",
) -> StratifiedProportion:
    """Stratified satisfaction rate with a design-based confidence interval.

    Parameters
    ----------
    strata : iterable of Stratum, mapping or tuple
        One entry per stratum (commune): a :class:`Stratum`, a mapping with keys
        ``successes``, ``n``, ``population`` (and optional ``label``), or a tuple
        ``(successes, n, population[, label])``.
    confidence : float, optional
        Confidence level. Default 0.95.
    method : {"korn-graubard", "logit"}, optional
        ``"korn-graubard"`` (default): R ``svyciprop(method = "beta")``.
        ``"logit"``: R ``svyciprop(method = "logit")``.
    fpc : bool, optional
        Apply the finite-population correction :math:`1 - n_h/N_h` (default).
    single_response : {"error", "adjust"}, optional
        What to do with a stratum of exactly one response (its variance cannot
        be estimated): ``"error"`` (default) raises; ``"adjust"`` measures that
        response's deviation from the overall rate, as R's
        ``options(survey.lonely.psu = "adjust")``, and sets ``note``.

    Returns
    -------
    StratifiedProportion
        With ``rate``, ``se``, ``low``, ``high``, ``n_effective``,
        ``design_effect``, ``df``, ``note`` and ``dropped``.

    Raises
    ------
    ValueError
        Invalid counts; ``n_h > N_h``; a stratum with dossiers but no responses
        (it cannot be estimated: merge it with a similar stratum or report it
        apart); a single-response stratum when ``single_response="error"``; no
        strata left; bad ``confidence``, ``method`` or ``single_response``.

    Notes
    -----
    With :math:`W_h = N_h / \\sum_k N_k` and :math:`p_h = k_h / n_h`
    (Cochran 1977, sections 5.3 and 5A.2):

    .. math::

        \\hat p = \\sum_h W_h p_h, \\qquad
        \\widehat V(\\hat p) = \\sum_h W_h^2 \\left(1 - \\frac{n_h}{N_h}\\right)
        \\frac{p_h (1 - p_h)}{n_h - 1}

    (without the :math:`1 - n_h/N_h` factor when ``fpc=False``), with
    :math:`df = \\sum_h n_h - H` degrees of freedom.

    **Korn-Graubard** (Korn & Graubard 1998), exactly as R survey 4.1
    ``svyciprop(method = "beta")``: the effective sample size
    :math:`n^* = \\hat p(1-\\hat p)/\\widehat V` is multiplied by
    :math:`(t_{n-1, \\alpha/2} / t_{df, \\alpha/2})^2` (n = total responses),
    and the bounds are the Clopper-Pearson bounds for :math:`n^*\\hat p`
    successes out of :math:`n^*`: the :math:`\\alpha/2` quantile of
    :math:`\\mathrm{Beta}(n^*\\hat p, n^*(1-\\hat p)+1)` and the :math:`1-\\alpha/2`
    quantile of :math:`\\mathrm{Beta}(n^*\\hat p+1, n^*(1-\\hat p))`. Like R, and
    unlike Korn & Graubard's paper, :math:`n^*` is not capped at n.

    **Design effect** (Kish 1965; R ``svymean(deff = TRUE)``):

    .. math::

        \\mathrm{deff} = \\frac{\\widehat V(\\hat p)}
        {\\left(1 - \\frac{n}{N}\\right) \\frac{S^2}{n}}, \\qquad
        S^2 = \\frac{n}{n - 1}\\,\\hat p (1 - \\hat p)

    with n = total responses, N = total dossiers, and the factor
    :math:`1 - n/N` only when ``fpc=True`` (``fpc=False`` compares with sampling
    with replacement, R ``deff = "replace"``, since there is then no population
    to sample without replacement from). Below 1, weighting by volume made the
    estimate more precise than a simple random sample of the same size would
    be; above 1, less (unequal weights W_h/n_h cost precision). It is not
    ``n / n_effective``: the effective size of the Korn-Graubard interval is
    :math:`\\hat p(1-\\hat p)/\\widehat V`, as in R's ``svyciprop``.

    **Logit**: :math:`\\mathrm{expit}(\\mathrm{logit}\\,\\hat p \\pm t_{df,1-\\alpha/2}\\,
    \\mathrm{SE}/(\\hat p(1-\\hat p)))`, which is what R's
    ``svyglm(y ~ 1, family = quasibinomial)`` Wald interval reduces to.

    **Degenerate cases** (never NaN):

    - A stratum with ``population == 0`` and ``n == 0`` is ignored and listed in
      ``dropped``; ``n > population`` raises.
    - A stratum with ``n == 0`` but dossiers raises.
    - A stratum with ``n == 1``: raises, or with ``single_response="adjust"``
      contributes :math:`(1 - 1/N_h) W_h^2 (y_h - \\hat p)^2` (R's "adjust").
      With ``fpc=True`` and ``N_h == 1`` it is a census and contributes 0.
    - Every stratum fully enumerated (``n_h == N_h``, ``fpc=True``): ``se = 0``,
      ``low = high = rate``, ``note`` = census.
    - Zero variance otherwise (every stratum at 0 % or 100 %): R returns NaN;
      here :math:`n^*` is set to the total number of responses (then
      df-adjusted as above) for both methods, ``design_effect`` is None and
      ``note`` says so. At 100 % this gives the lower bound
      :math:`(\\alpha/2)^{1/n^*}`.

    References
    ----------
    .. [1] E. L. Korn and B. I. Graubard, "Confidence intervals for proportions
       with small expected number of positive counts estimated from survey
       data", Survey Methodology 24 (1998) 193-201.
    .. [2] W. G. Cochran, Sampling Techniques, 3rd ed., Wiley, 1977, chapter 5.
    .. [3] L. Kish, Survey Sampling, Wiley, 1965, section 8.2.
    .. [4] T. Lumley, survey: analysis of complex survey samples, R package
       (``svymean``, ``svyciprop``); T. Lumley, Complex Surveys, Wiley, 2010.

    Examples
    --------
    >>> from survey.stats import Stratum, stratified_proportion
    >>> result = stratified_proportion([Stratum(38, 40, 500), Stratum(70, 80, 600)])
    >>> round(result.rate, 6), round(result.se, 6), result.df
    (0.909091, 0.024259, 118)
    >>> round(result.low, 6), round(result.high, 6)
    (0.848894, 0.951028)
    >>> round(result.design_effect, 4)  # R: deff(svymean(~y, design, deff = TRUE))
    0.9511
    >>> result = stratified_proportion([(38, 40, 500), (70, 80, 600)], fpc=False)
    >>> round(result.se, 6), round(result.low, 6), round(result.high, 6)
    (0.02576, 0.844313, 0.953208)
    """
    confidence = check_confidence(confidence)
    method = check_choice(method, "method", STRATIFIED_METHODS)
    single_response = check_choice(single_response, "single_response", _SINGLE_RESPONSE)
    if not isinstance(fpc, bool):
        raise ValueError(f"fpc ({fpc!r}) must be True or False")
    if isinstance(strata, str | bytes | Mapping) or not isinstance(strata, Iterable):
        raise ValueError(f"strata ({strata!r}) must be a sequence of strata")

    used: list[Stratum] = []
    dropped: list[Any] = []
    for position, item in enumerate(strata):
        stratum = _coerce_stratum(item, position)
        name = f"stratum {stratum.label!r}" if stratum.label is not None else f"stratum {position}"
        if stratum.population == 0:  # then n == 0 too, checked above
            dropped.append(stratum.label if stratum.label is not None else position)
            continue
        if stratum.n == 0:
            raise ValueError(
                f"{name} has population {stratum.population!r} but n (0) responses: its rate "
                "cannot be estimated; merge it with a similar stratum or report it apart"
            )
        census = fpc and stratum.n == stratum.population
        if stratum.n == 1 and not census and single_response == "error":
            raise ValueError(
                f"{name} has n (1) response: its variance cannot be estimated; merge it "
                "with a similar stratum, or pass single_response='adjust'"
            )
        used.append(stratum)
    if not used:
        raise ValueError(f"strata ({strata!r}) contain no stratum with dossiers")

    total_population = sum(s.population for s in used)
    total_n = sum(s.n for s in used)
    df = total_n - len(used)
    rate = sum(s.population * s.successes / s.n for s in used) / total_population

    variance = 0.0
    lonely = False
    for s in used:
        weight = s.population / total_population
        finite = 1.0 - s.n / s.population if fpc else 1.0
        p_h = s.successes / s.n
        if s.n == 1:
            # R onestrat() with lonely.psu = "adjust": the deviation is not centred at
            # the stratum mean (there is only one response) but at the overall rate.
            lonely = lonely or finite > 0.0
            variance += finite * weight**2 * (p_h - rate) ** 2
        else:
            variance += finite * weight**2 * p_h * (1.0 - p_h) / (s.n - 1)
    variance = max(variance, 0.0)
    se = math.sqrt(variance)
    alpha = 1.0 - confidence
    note = NOTE_SINGLE_RESPONSE if lonely else None

    common = dict(
        rate=rate,
        se=se,
        df=df,
        n=total_n,
        population=total_population,
        strata=len(used),
        confidence=confidence,
        method=method,
        fpc=fpc,
        dropped=tuple(dropped),
    )
    if fpc and all(s.n == s.population for s in used):
        return StratifiedProportion(
            low=rate, high=rate, n_effective=None, design_effect=None, note=NOTE_CENSUS, **common
        )
    if df < 1:
        raise ValueError(
            f"strata ({strata!r}) leave df ({df!r}) degrees of freedom: every stratum has a "
            "single response; merge strata"
        )

    # Korn-Graubard df adjustment, R: (qt(alpha/2, nrow(design) - 1) / qt(alpha/2, degf))^2
    t = _scipy_stats().t
    df_factor = (t.ppf(alpha / 2.0, total_n - 1) / t.ppf(alpha / 2.0, df)) ** 2
    if variance <= 0.0:
        n_eff = float(total_n)
        low, high = _beta_interval(rate, n_eff * df_factor, alpha)
        return StratifiedProportion(
            low=min(low, rate),
            high=max(high, rate),
            n_effective=n_eff,
            design_effect=None,
            note=NOTE_ZERO_VARIANCE,
            **common,
        )

    n_eff = rate * (1.0 - rate) / variance
    # R svymean(deff = TRUE): the SRS variance uses the estimated population
    # variance S^2 = p(1 - p) n / (n - 1) (svyvar) and, without replacement, the
    # overall sampling fraction n / N. The design variance already holds each
    # stratum's own fpc; putting 1 - n/N in the comparison too is what makes it
    # a like-for-like ratio (0.95 in the docstring example, not 0.85).
    population_variance = rate * (1.0 - rate) * total_n / (total_n - 1)
    srs_variance = population_variance / total_n
    if fpc:
        srs_variance *= 1.0 - total_n / total_population
    design_effect = variance / srs_variance if srs_variance > 0.0 else None
    if method == "korn-graubard":
        low, high = _beta_interval(rate, n_eff * df_factor, alpha)
    else:
        logit = math.log(rate / (1.0 - rate))
        half = _scipy_stats().t.ppf(1.0 - alpha / 2.0, df) * se / (rate * (1.0 - rate))
        low, high = special.expit(logit - half), special.expit(logit + half)
    return StratifiedProportion(
        low=min(float(low), rate),
        high=max(float(high), rate),
        n_effective=n_eff,
        design_effect=design_effect,
        note=note,
        **common,
    )
