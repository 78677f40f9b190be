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
  list(rate = as.numeric(coef(m)), se = as.numeric(SE(m)), df = degf(design),
       beta = as.numeric(attr(beta, "ci")), logit = as.numeric(attr(logit, "ci")))
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
  single_response = "options(survey.lonely.psu = single_response)"
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
