"""Statistics for satisfaction surveys: pure Python on scipy, no Flask, no database.

Every function validates its arguments first (``ValueError`` quoting the bad
value) and returns a frozen dataclass. The formulas, their sources and the
R calls that reproduce them are in each docstring and in ``docs/STATISTICS.md``.

- One rate: :func:`proportion_ci`, :func:`compare_to_target`.
- What is known before a verdict: :func:`probability_at_least`,
  :func:`conclusion_outlook`, :func:`responses_needed_for`, :func:`within_reach`.
- Printing figures that agree with the verdict: :func:`display_rate`, :func:`display_interval`.
- A district from its communes: :func:`stratified_proportion`.
- Planning: :func:`sample_size`, :func:`sample_size_to_show`, :func:`responses_to_show_met`.
- Trends and comparisons: :func:`p_chart_limits`, :func:`funnel_steps`,
  :func:`funnel_class` (and the interpolated :func:`funnel_limits`),
  :func:`rank_probabilities`.
- SIPAS aggregation: :func:`question_rate`, :func:`sipas_index`.
"""

from .control import FUNNEL_ZONES
from .control import FunnelLimits
from .control import FunnelSteps
from .control import PChartLimits
from .control import funnel_class
from .control import funnel_limits
from .control import funnel_steps
from .control import p_chart_limits
from .difference import RateDifference
from .difference import rate_difference
from .display import ShownInterval
from .display import ShownValue
from .display import display_interval
from .display import display_rate
from .planning import sample_size
from .planning import sample_size_to_show
from .posterior import DEFAULT_MAX_EXTRA
from .posterior import ConclusionOutlook
from .posterior import RankDistribution
from .posterior import conclusion_outlook
from .posterior import probability_at_least
from .posterior import rank_probabilities
from .posterior import responses_needed_for
from .posterior import within_reach
from .proportions import INTERVAL_METHODS
from .proportions import MAX_EXTRA_RESPONSES
from .proportions import STATUS_LABELS_VI
from .proportions import ProportionInterval
from .proportions import TargetComparison
from .proportions import compare_to_target
from .proportions import proportion_ci
from .proportions import responses_to_show_met
from .sipas import LIKERT_LABELS_EN
from .sipas import LIKERT_LABELS_VI
from .sipas import NO_OPINION
from .sipas import NO_OPINION_LABEL_VI
from .sipas import SATISFIED_LEVELS
from .sipas import ElementRate
from .sipas import QuestionCounts
from .sipas import QuestionRate
from .sipas import SipasIndex
from .sipas import question_rate
from .sipas import sipas_index
from .stratified import STRATIFIED_METHODS
from .stratified import StratifiedProportion
from .stratified import Stratum
from .stratified import stratified_proportion

__all__ = [
    "DEFAULT_MAX_EXTRA",
    "FUNNEL_ZONES",
    "INTERVAL_METHODS",
    "LIKERT_LABELS_EN",
    "LIKERT_LABELS_VI",
    "MAX_EXTRA_RESPONSES",
    "NO_OPINION",
    "NO_OPINION_LABEL_VI",
    "SATISFIED_LEVELS",
    "STATUS_LABELS_VI",
    "STRATIFIED_METHODS",
    "ConclusionOutlook",
    "ElementRate",
    "FunnelLimits",
    "FunnelSteps",
    "PChartLimits",
    "ProportionInterval",
    "QuestionCounts",
    "QuestionRate",
    "RankDistribution",
    "RateDifference",
    "ShownInterval",
    "ShownValue",
    "SipasIndex",
    "StratifiedProportion",
    "Stratum",
    "TargetComparison",
    "compare_to_target",
    "conclusion_outlook",
    "display_interval",
    "display_rate",
    "funnel_class",
    "funnel_limits",
    "funnel_steps",
    "p_chart_limits",
    "probability_at_least",
    "proportion_ci",
    "question_rate",
    "rank_probabilities",
    "rate_difference",
    "responses_needed_for",
    "responses_to_show_met",
    "sample_size",
    "sample_size_to_show",
    "sipas_index",
    "stratified_proportion",
    "within_reach",
]
