# Reference values for the tests in tests/stats/, computed with R.
#
# How to run (from the repository root; needs R with the survey and jsonlite
# packages, e.g. `apt-get install r-base-core r-cran-survey r-cran-jsonlite`):
#
#     Rscript tests/stats/make_fixtures.R
#
# It overwrites tests/stats/fixtures/*.json. The tests only read the JSON, so
# R is not needed in CI. Versions used for the stored fixtures:
# R 4.2.2 Patched (2022-11-10 r83330), survey 4.1.1, jsonlite (Debian 12).
# The versions actually used are also written into every JSON file.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

out_dir <- file.path("tests", "stats", "fixtures")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

versions <- list(
  r = R.version.string,
  survey = as.character(packageVersion("survey")),
  jsonlite = as.character(packageVersion("jsonlite"))
)

write_fixture <- function(name, cases, calls) {
  doc <- list(generated_by = "tests/stats/make_fixtures.R", versions = versions,
              calls = calls, cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE),
             file.path(out_dir, name))
}

# ---------------------------------------------------------------- proportions
counts <- list(
  c(0, 1), c(1, 1), c(0, 5), c(5, 5), c(3, 7), c(0, 20), c(20, 20), c(19, 20),
  c(1, 30), c(29, 29), c(38, 40), c(57, 60), c(59, 59), c(85, 100), c(90, 100),
  c(97, 100), c(460, 500), c(950, 1000), c(9000, 10000), c(9950, 10000)
)
levels <- c(0.90, 0.95, 0.99)
targets <- c(0.85, 0.90, 0.95)

prop_cases <- list()
for (kn in counts) {
  k <- kn[1]
  n <- kn[2]
  for (level in levels) {
    wilson <- suppressWarnings(prop.test(k, n, correct = FALSE, conf.level = level)$conf.int)
    exact <- binom.test(k, n, conf.level = level)$conf.int
    alpha <- 1 - level
    jeffreys <- c(if (k == 0) 0 else qbeta(alpha / 2, k + 0.5, n - k + 0.5),
                  if (k == n) 1 else qbeta(1 - alpha / 2, k + 0.5, n - k + 0.5))
    prop_cases[[length(prop_cases) + 1]] <- list(
      successes = k, n = n, confidence = level,
      wilson = as.numeric(wilson), exact = as.numeric(exact), jeffreys = jeffreys
    )
  }
}
write_fixture("proportion_ci.json", prop_cases, list(
  wilson = "prop.test(k, n, correct = FALSE, conf.level = confidence)$conf.int",
  exact = "binom.test(k, n, conf.level = confidence)$conf.int",
  jeffreys = "c(if (k == 0) 0 else qbeta(a/2, k+.5, n-k+.5), if (k == n) 1 else qbeta(1-a/2, k+.5, n-k+.5))"
))

test_cases <- list()
for (kn in counts) {
  k <- kn[1]
  n <- kn[2]
  for (target in targets) {
    test_cases[[length(test_cases) + 1]] <- list(
      successes = k, n = n, target = target,
      p_value_above = binom.test(k, n, p = target, alternative = "greater")$p.value,
      p_value_below = binom.test(k, n, p = target, alternative = "less")$p.value
    )
  }
}
write_fixture("binom_test.json", test_cases, list(
  p_value_above = "binom.test(k, n, p = target, alternative = 'greater')$p.value",
  p_value_below = "binom.test(k, n, p = target, alternative = 'less')$p.value"
))

# ----------------------------------------------------------------- stratified
# Each stratum is one commune: successes, n (responses), N (dossiers handled).
strata_sets <- list(
  example = list(c(38, 40, 500), c(70, 80, 600)),
  five_communes = list(c(18, 20, 150), c(45, 50, 400), c(9, 12, 60),
                       c(100, 105, 2000), c(3, 4, 10)),
  one_at_100 = list(c(10, 10, 50), c(27, 30, 300)),
  with_census = list(c(15, 20, 20), c(40, 45, 100)),
  small = list(c(1, 2, 5), c(2, 3, 4)),
  low_rate = list(c(2, 30, 400), c(5, 40, 250), c(1, 25, 90))
)
set.seed(20240915)
big <- list()
for (h in 1:12) {
  N <- sample(50:3000, 1)
  n <- sample(5:120, 1)
  k <- rbinom(1, n, runif(1, 0.75, 0.99))
  big[[h]] <- c(k, n, N)
}
strata_sets$twelve_communes <- big

make_frame <- function(strata) {
  rows <- lapply(seq_along(strata), function(h) {
    s <- strata[[h]]
    data.frame(unit = h, y = c(rep(1, s[1]), rep(0, s[2] - s[1])), N = s[3], w = s[3] / s[2])
  })
  do.call(rbind, rows)
}

strat_result <- function(design, level) {
  m <- svymean(~y, design)
  beta <- svyciprop(~y, design, method = "beta", level = level)
  logit <- svyciprop(~y, design, method = "logit", level = level)
  # Kish's design effect: against SRS without replacement (deff = TRUE) and with
  # replacement (deff = "replace"). NaN (zero variance) is written as null.
  deff_wor <- as.numeric(deff(svymean(~y, design, deff = TRUE)))
  deff_wr <- as.numeric(deff(svymean(~y, design, deff = "replace")))
  list(rate = as.numeric(coef(m)), se = as.numeric(SE(m)), df = degf(design),
       beta = as.numeric(attr(beta, "ci")), logit = as.numeric(attr(logit, "ci")),
       deff = if (is.finite(deff_wor)) deff_wor else NA,
       deff_replace = if (is.finite(deff_wr)) deff_wr else NA)
}

strat_cases <- list()
add_strat_cases <- function(name, strata, lonely) {
  options(survey.lonely.psu = lonely)
  df <- make_frame(strata)
  for (level in c(0.95, 0.90)) {
    d_fpc <- svydesign(ids = ~1, strata = ~unit, fpc = ~N, data = df)
    d_w <- svydesign(ids = ~1, strata = ~unit, weights = ~w, data = df)
    strat_cases[[length(strat_cases) + 1]] <<- list(
      name = name, confidence = level, single_response = lonely,
      strata = lapply(strata, function(s) list(successes = s[1], n = s[2], population = s[3])),
      fpc = strat_result(d_fpc, level), no_fpc = strat_result(d_w, level)
    )
  }
  options(survey.lonely.psu = "fail")
}
for (name in names(strata_sets)) add_strat_cases(name, strata_sets[[name]], "fail")
add_strat_cases("lonely_adjust", list(c(1, 1, 30), c(40, 45, 200), c(18, 20, 90)), "adjust")
add_strat_cases("lonely_adjust_0", list(c(0, 1, 12), c(40, 45, 200), c(18, 20, 90)), "adjust")
write_fixture("stratified.json", strat_cases, list(
  design_fpc = "svydesign(ids = ~1, strata = ~unit, fpc = ~N, data = df)",
  design_no_fpc = "svydesign(ids = ~1, strata = ~unit, weights = ~w, data = df)  # w = N/n",
  se = "SE(svymean(~y, design))",
  beta = "attr(svyciprop(~y, design, method = 'beta', level = confidence), 'ci')",
  logit = "attr(svyciprop(~y, design, method = 'logit', level = confidence), 'ci')",
  single_response = "options(survey.lonely.psu = single_response)",
  deff = "deff(svymean(~y, design, deff = TRUE))",
  deff_replace = "deff(svymean(~y, design, deff = 'replace'))"
))

# ------------------------------------------------------------------- planning
# One-sided test of H0: p = p0 against p = p1 (normal approximation), and
# Cochran's sample size for a margin of error with finite-population correction.
show_cases <- list()
for (p0 in targets) {
  for (p1 in c(p0 - 0.05, p0 + 0.02, p0 + 0.03, p0 + 0.04)) {
    if (p1 <= 0 || p1 >= 1) next
    for (level in c(0.95, 0.90)) {
      for (power in c(0.8, 0.9)) {
        n <- ((qnorm(level) * sqrt(p0 * (1 - p0)) + qnorm(power) * sqrt(p1 * (1 - p1))) /
                (p1 - p0))^2
        show_cases[[length(show_cases) + 1]] <- list(
          target = p0, expected_rate = p1, confidence = level, power = power,
          n_real = n, n = ceiling(n - 1e-9)
        )
      }
    }
  }
}
size_cases <- list()
for (p in c(0.5, 0.8, 0.9, 0.95)) {
  for (e in c(0.03, 0.05, 0.1)) {
    for (N in list(NULL, 100, 1000, 20000)) {
      z <- qnorm(0.975)
      n0 <- z^2 * p * (1 - p) / e^2
      n <- if (is.null(N)) n0 else n0 / (1 + (n0 - 1) / N)
      size_cases[[length(size_cases) + 1]] <- list(
        expected_rate = p, margin = e, confidence = 0.95,
        population = if (is.null(N)) NA else N, n_real = n, n = ceiling(n - 1e-9)
      )
    }
  }
}
write_fixture("planning.json", list(sample_size_to_show = show_cases, sample_size = size_cases),
              list(
  sample_size_to_show = "((qnorm(conf) * sqrt(p0*(1-p0)) + qnorm(power) * sqrt(p1*(1-p1))) / (p1-p0))^2",
  sample_size = "n0 = qnorm(1-a/2)^2 p(1-p)/e^2; n = n0 / (1 + (n0 - 1)/N)"
))

# -------------------------------------------------------------------- funnel
# Spiegelhalter (2005), appendix A.1.1: r_p = qbinom(p, n, target),
# a = (pbinom(r_p) - p) / (pbinom(r_p) - pbinom(r_p - 1)), limit = (r_p - a) / n.
funnel_limit <- function(p, n, target) {
  r <- qbinom(p, n, target)
  a <- (pbinom(r, n, target) - p) / (pbinom(r, n, target) - pbinom(r - 1, n, target))
  min(max((r - a) / n, 0), 1)
}
funnel_cases <- list()
ns <- c(1, 2, 5, 10, 20, 30, 50, 100, 250, 500, 1000, 5000)
for (target in targets) {
  for (coverage in c(0.95, 0.998)) {
    funnel_cases[[length(funnel_cases) + 1]] <- list(
      target = target, coverage = coverage, n = ns,
      lower = sapply(ns, function(n) funnel_limit((1 - coverage) / 2, n, target)),
      upper = sapply(ns, function(n) funnel_limit((1 + coverage) / 2, n, target))
    )
  }
}
write_fixture("funnel.json", funnel_cases, list(
  limit = "r = qbinom(p, n, t); a = (pbinom(r,n,t) - p)/(pbinom(r,n,t) - pbinom(r-1,n,t)); (r - a)/n clipped to [0, 1]"
))

# ------------------------------------------------------------- funnel steps
# The exact binomial limits before Spiegelhalter's interpolation: a unit with k
# of n is below when k < qbinom(p, n, t) and above when k > qbinom(1 - p, n, t).
step_cases <- list()
step_ns <- c(1:300, 500, 1000, 5000, 20000)
for (target in targets) {
  for (coverage in c(0.95, 0.998)) {
    p <- (1 - coverage) / 2
    step_cases[[length(step_cases) + 1]] <- list(
      target = target, coverage = coverage, n = step_ns,
      lower_count = qbinom(p, step_ns, target),
      upper_count = qbinom(1 - p, step_ns, target)
    )
  }
}
write_fixture("funnel_steps.json", step_cases, list(
  lower_count = "qbinom((1 - coverage)/2, n, target)",
  upper_count = "qbinom((1 + coverage)/2, n, target)"
))

# ---------------------------------------------------------------- posterior
# Jeffreys posterior Beta(k + 1/2, n - k + 1/2): P(rate >= target).
post_counts <- c(counts[sapply(counts, function(kn) kn[2] > 0)],
                 list(c(35, 35), c(45, 50), c(71, 72), c(36, 40), c(2, 3), c(180, 200)))
post_cases <- list()
for (kn in post_counts) {
  k <- kn[1]
  n <- kn[2]
  for (target in c(targets, 0.5, 0.99)) {
    post_cases[[length(post_cases) + 1]] <- list(
      successes = k, n = n, target = target,
      probability = pbeta(target, k + 0.5, n - k + 0.5, lower.tail = FALSE)
    )
  }
}
write_fixture("posterior.json", post_cases, list(
  probability = "pbeta(target, k + 0.5, n - k + 0.5, lower.tail = FALSE)"
))

# ------------------------------------------------------------------ outlook
# After m more responses, Y satisfied ~ beta-binomial(m, k + 1/2, n - k + 1/2)
# (posterior predictive); the verdict on k + Y of n + m is binom.test's exact
# interval (qbeta form, vectorised) against the target. Then the fewest m with
# P(conclusive) >= 0.8, scanning m = 1, 2, ...
verdict_probs <- function(k, n, target, m, level = 0.95) {
  a <- k + 0.5
  b <- n - k + 0.5
  y <- 0:m
  pmf <- exp(lchoose(m, y) + lbeta(y + a, m - y + b) - lbeta(a, b))
  kk <- k + y
  nn <- n + m
  alpha <- 1 - level
  low <- ifelse(kk == 0, 0, qbeta(alpha / 2, kk, nn - kk + 1))
  high <- ifelse(kk == nn, 1, qbeta(1 - alpha / 2, kk + 1, nn - kk))
  # binom.test's bounds, as compare_to_target guards them: low <= k/n <= high.
  low <- pmin(low, kk / nn)
  high <- pmax(high, kk / nn)
  c(met = sum(pmf[low >= target]), not_met = sum(pmf[high < target]))
}
outlook_cases <- list()
for (case in list(c(57, 60, 0.90), c(35, 35, 0.90), c(45, 50, 0.90), c(8, 10, 0.85),
                  c(180, 200, 0.95), c(27, 30, 0.90), c(1, 1, 0.90), c(60, 75, 0.85))) {
  k <- case[1]
  n <- case[2]
  target <- case[3]
  for (m in c(1, 10, 36, 67, 150, 400)) {
    v <- verdict_probs(k, n, target, m)
    outlook_cases[[length(outlook_cases) + 1]] <- list(
      successes = k, n = n, target = target, extra = m,
      met = unname(v["met"]), not_met = unname(v["not_met"])
    )
  }
}
needed_cases <- list()
for (case in list(c(57, 60, 0.90, 0.8), c(57, 60, 0.90, 0.5), c(35, 35, 0.90, 0.8),
                  c(8, 10, 0.85, 0.8), c(27, 30, 0.90, 0.8), c(60, 75, 0.85, 0.8),
                  c(19, 20, 0.95, 0.6), c(1, 1, 0.90, 0.8))) {
  k <- case[1]
  n <- case[2]
  target <- case[3]
  wanted <- case[4]
  found <- NA
  for (m in 1:3000) {
    if (sum(verdict_probs(k, n, target, m)) >= wanted) {
      found <- m
      break
    }
  }
  needed_cases[[length(needed_cases) + 1]] <- list(
    successes = k, n = n, target = target, probability = wanted, max_extra = 3000,
    needed = found
  )
}
write_fixture("outlook.json", list(outlook = outlook_cases, needed = needed_cases), list(
  predictive = "exp(lchoose(m, y) + lbeta(y + k + .5, m - y + n - k + .5) - lbeta(k + .5, n - k + .5))",
  verdict = "binom.test(k + y, n + m)$conf.int (qbeta form) against target",
  needed = "first m in 1:3000 with P(met) + P(not met) >= probability, else NA"
))

# -------------------------------------------------------------------- ranks
# Rank 1 = highest true rate, each commune's rate from its Jeffreys posterior;
# Monte Carlo with a fixed seed, 10^6 draws. The tests allow 5 Monte Carlo
# standard errors, sqrt(p (1 - p) / draws).
set.seed(20261130)
draws <- 1e6
rank_sets <- list(
  three = list(c(48, 50), c(45, 50), c(9, 10)),
  district = list(c(38, 40), c(70, 80), c(18, 20), c(45, 50), c(9, 12), c(100, 105),
                  c(3, 4), c(55, 70)),
  tied = list(c(27, 30), c(27, 30), c(90, 100))
)
rank_cases <- list()
for (name in names(rank_sets)) {
  units <- rank_sets[[name]]
  m <- length(units)
  theta <- sapply(units, function(kn) rbeta(draws, kn[1] + 0.5, kn[2] - kn[1] + 0.5))
  ranks <- t(apply(-theta, 1, rank, ties.method = "first"))
  probs <- lapply(1:m, function(i) tabulate(ranks[, i], nbins = m) / draws)
  rank_cases[[length(rank_cases) + 1]] <- list(
    name = name, draws = draws,
    counts = lapply(units, function(kn) list(successes = kn[1], n = kn[2])),
    probabilities = probs
  )
}
write_fixture("ranks.json", rank_cases, list(
  probabilities = "theta_j ~ rbeta(1e6, k_j + .5, n_j - k_j + .5); tabulate(rank(-theta)) / 1e6; set.seed(20261130)"
))
